"""Live chats: everything said in the current chat appears here as it streams.

Three kinds of streams feed the screen:

- our own asks (``ask``, ``chat.retry``, ``/edit``): rendered from their own
  stream;
- ``chat.watch`` on the current chat: tells us of messages and replies that
  other clients (another REPL, ``chatthy ask -c``) start;
- ``gen.attach`` for such a reply: its text from the first chunk, even when we
  joined late.

The watcher also reports *our* messages, on another connection, in no
guaranteed order relative to our ask's own ``start`` event. So while an ask
of ours is in flight and has not said which message and generation it
created, watch events are held back; once it has, ours are dropped and the
rest shown. A chat has at most one reply at a time, so at most one reply is
rendered at once; a reply that starts while another is still being shown
waits its turn (attach replays it from the start, nothing is lost).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from chatthy.errors import Cancelled, ChatthyError
from chatthy.render.markdown import MarkdownStream
from chatthy.repl import display
from chatthy.repl.link import StreamWorker
from chatthy.repl.tool_notes import ToolNotes

if TYPE_CHECKING:
    from chatthy.repl.app import Repl

WATCH_RETRIES = (0.5, 1.0, 2.0, 4.0, 8.0)


def human_count(n: int | None) -> str:
    """``850``, ``1.2k``, ``12.3k``, ``128k``, ``1.5M``."""
    if n is None:
        return "?"
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        value = n / 1000
        text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
        return text.removesuffix(".0") + "k"
    return f"{n / 1_000_000:.1f}".removesuffix(".0") + "M"


class ReplyView:
    """A reply being shown: Markdown rows into the scrollback, the tail above the prompt."""

    def __init__(self, repl: Repl, *, generation: str | None, model: str | None, own: bool,
                 worker: StreamWorker | None) -> None:
        self.repl = repl
        self.generation = generation
        self.model = model
        self.own = own
        self.worker = worker
        self.md: MarkdownStream = repl.new_markdown()
        self.started = time.monotonic()
        self.cancel_requested = False
        self.done = False
        self.tools = ToolNotes(self)  # tool calls, notices and approvals (chatthy/repl/tool_notes.py)

    def feed(self, text: str) -> None:
        if self.done or not text:
            return
        self.repl.screen.rows(self.md.feed(text))
        self.repl.screen.set_tail(self.md.tail())

    def note_between(self, line: str) -> None:
        """A dim line between the reply's text: the Markdown so far is ended first
        (never a note inside an open block), what follows starts afresh."""
        if self.done:
            return
        screen = self.repl.screen
        screen.rows(self.md.finish())
        screen.set_tail([])
        screen.note(line)
        self.md = self.repl.new_markdown()

    def finish(self, end: dict | None = None, error: ChatthyError | None = None, note: str | None = None) -> None:
        if self.done:
            return
        self.done = True
        if self.own:
            self.repl.approval_settled()  # the reply is over: nothing waits for an answer any more
        screen = self.repl.screen
        screen.rows(self.md.finish())
        screen.set_tail([])
        end = end or {}
        if end.get("rag") is not None:  # an ask with /rag: its sources, under the answer
            from chatthy.repl.commands.rag import show_citations

            show_citations(self.repl, end["rag"])
        status = end.get("status")
        parts = [self.model or end.get("model") or "reply"]
        usage = end.get("usage") or {}
        if usage.get("output_tokens"):
            parts.append(f"{human_count(usage.get('input_tokens'))}→{human_count(usage['output_tokens'])} tokens")
        parts.append(f"{time.monotonic() - self.started:.1f} s")
        if note:
            parts.append(note)
        footer = "─ " + " · ".join(parts)
        if error is not None or status == "error":
            message = error.message if error else (end.get("error") or {}).get("message", "the reply failed")
            screen.note(footer)
            screen.note(f"error: {message}", self.repl.theme.error or "")
        elif status == "cancelled":
            screen.note(footer + " · cancelled: the partial reply is kept", "33")
        else:
            screen.note(footer)


class LiveChat:
    def __init__(self, repl: Repl) -> None:
        self.repl = repl
        self.watcher: StreamWorker | None = None
        self.watching: str | None = None
        self.view: ReplyView | None = None
        self.queued: list[str] = []  # generations waiting for the current view to finish
        self.own_generations: set[str] = set()
        self.own_user_ids: set[int] = set()
        self.in_flight: list[StreamWorker] = []  # our asks that have not started yet
        self.deferred: list[dict] = []
        self.own_history_changes = 0
        self._watch_failures = 0

    # -- state ------------------------------------------------------------------
    @property
    def streaming(self) -> bool:
        return self.view is not None or bool(self.in_flight)

    # -- watching ---------------------------------------------------------------
    def watch(self, chat: str | None, recent: int = 0) -> None:
        """Follow ``chat`` (None: nothing yet), first showing its last ``recent``
        messages; stop showing the previous chat."""
        if chat == self.watching and self.watcher is not None and self.watcher.alive:
            return
        self.stop_watching()
        self.detach_view("switched chat: the reply goes on in the background")
        self.queued.clear()
        self.deferred.clear()
        self.watching = chat
        if chat is not None:
            # repl.watch, not chat.watch: its first event is a snapshot taken as it
            # subscribes, so nothing said meanwhile is missed or shown twice.
            self.watcher = self.repl.link.stream("repl.watch", tag="watch", profile=self.repl.profile,
                                                 name=chat, recent=recent)

    def stop_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.detach()
            self.watcher.cancel()
            self.watcher = None

    def detach_view(self, note: str) -> None:
        view, self.view = self.view, None
        if view is None:
            return
        if view.worker is not None:
            view.worker.detach()
            if not view.own:
                view.worker.cancel()  # stop following; the reply itself goes on
        view.finish(note=note)

    def close(self) -> None:
        self.stop_watching()
        if self.view is not None:
            self.detach_view("the reply goes on in the daemon")
        for worker in self.in_flight:
            worker.detach()

    # -- our own asks ----------------------------------------------------------------
    def start_own(self, method: str, *, rewrites_history: bool = False, **params: Any) -> StreamWorker:
        """Start an ask of ours; ``rewrites_history``: the daemon will announce a
        history change (retry, edit) that is ours, not news."""
        worker = self.repl.link.stream(method, tag="ask", **params)
        worker.rewrites_history = rewrites_history
        if rewrites_history:
            self.own_history_changes += 1
        self.in_flight.append(worker)
        return worker

    def on_own(self, worker: StreamWorker, kind: str, data: Any) -> None:
        if kind == "event" and isinstance(data, dict) and data.get("kind") == "start":
            if worker in self.in_flight:
                self.in_flight.remove(worker)
            gen = data.get("generation")
            if gen:
                self.own_generations.add(gen)
            if data.get("user_message_id"):
                self.own_user_ids.add(data["user_message_id"])
            self.repl.on_own_start(data)
            self.detach_view("another reply started")
            self.view = ReplyView(self.repl, generation=gen, model=data.get("model"), own=True, worker=worker)
            if worker.cancelled:
                self.cancel()
            self._release_deferred()
        elif kind == "event" and isinstance(data, dict):
            if self.view is not None and self.view.worker is worker:
                self.view.tools.handle(data)
        elif kind == "chunk":
            if self.view is not None and self.view.worker is worker:
                self.view.feed(data.get("text", "") if isinstance(data, dict) else "")
        elif kind in ("end", "error"):
            if worker in self.in_flight:  # refused before it started
                self.in_flight.remove(worker)
                if worker.rewrites_history:
                    self.own_history_changes = max(0, self.own_history_changes - 1)
                self._release_deferred()
                if kind == "error":
                    self.repl.show_error(data)
                return
            if self.view is not None and self.view.worker is worker:
                self._end_view(data if kind == "end" else None, data if kind == "error" else None)

    # -- events from the chat ---------------------------------------------------------
    def on_watch(self, worker: StreamWorker, kind: str, data: Any) -> None:
        if worker is not self.watcher:
            return
        if kind == "error":
            self.watcher = None
            if isinstance(data, Cancelled):
                return
            self._rewatch(data)
            return
        if kind == "event" and isinstance(data, dict) and data.get("kind") == "watching" and self._watch_failures:
            data = {**data, "messages": []}  # a re-subscription: the history is on screen already
        if kind == "end":
            self.watcher = None
            return
        if kind != "event" or not isinstance(data, dict):
            return
        self._watch_failures = 0
        if self.in_flight and data.get("kind") in ("user_message", "reply_start"):
            self.deferred.append(data)
            return
        self._handle_event(data)

    def _rewatch(self, error: ChatthyError) -> None:
        chat = self.watching
        if chat is None or self._watch_failures >= len(WATCH_RETRIES):
            self.repl.screen.note(f"[live updates stopped: {error.message}]")
            return
        delay = WATCH_RETRIES[self._watch_failures]
        self._watch_failures += 1

        def again() -> None:
            if self.watching == chat and self.watcher is None:
                self.watching = None
                self.watch(chat)  # recent=0: the history is on screen already

        asyncio.get_running_loop().call_later(delay, again)

    def _release_deferred(self) -> None:
        if self.in_flight:
            return
        events, self.deferred = self.deferred, []
        for event in events:
            self._handle_event(event)

    def _handle_event(self, event: dict) -> None:
        kind = event.get("kind")
        repl = self.repl
        if kind == "watching":
            display.show_history(repl, event)
        elif kind == "user_message":
            message = event.get("message") or {}
            if message.get("id") in self.own_user_ids:
                return
            display.show_foreign_message(repl, message)
        elif kind == "reply_start":
            gen = event.get("generation")
            if not gen or gen in self.own_generations:
                return
            if self.view is not None and self.view.generation == gen:
                return
            if self.view is not None:
                if gen not in self.queued:
                    self.queued.append(gen)
                return
            self._attach(gen, event.get("model"))
        elif kind == "reply_end":
            repl.refresh_budget()
        elif kind == "chat_updated":
            repl.on_chat_updated(event)
        elif kind == "history_changed":
            if self.own_history_changes > 0:
                self.own_history_changes -= 1
            else:
                removed = len(event.get("removed") or ())
                edited = len(event.get("edited") or ())
                repl.screen.note(f"[the chat's history was changed elsewhere: {removed} removed, {edited} edited]")
            repl.refresh_budget()
        elif kind == "inject":
            repl.inject(event)

    def _attach(self, gen: str, model: str | None) -> None:
        worker = self.repl.link.stream("gen.attach", tag="attach", generation=gen, from_seq=0)
        self.view = ReplyView(self.repl, generation=gen, model=model, own=False, worker=worker)

    def on_attach(self, worker: StreamWorker, kind: str, data: Any) -> None:
        view = self.view
        if view is None or view.worker is not worker:
            return
        if kind == "chunk":
            view.feed(data.get("text", "") if isinstance(data, dict) else "")
        elif kind == "event" and isinstance(data, dict) and data.get("kind") == "start":
            view.model = data.get("model") or view.model
        elif kind == "event" and isinstance(data, dict):
            view.tools.handle(data)
        elif kind == "end":
            self._end_view(data, None)
        elif kind == "error":
            self._end_view(None, data)

    def _end_view(self, end: dict | None, error: ChatthyError | None) -> None:
        view, self.view = self.view, None
        if isinstance(error, Cancelled) and view.cancel_requested:
            end, error = {"status": "cancelled"}, None
        view.finish(end, error)
        self.repl.refresh_budget()
        self.repl.refresh_names()
        if self.queued:
            self._attach(self.queued.pop(0), None)

    # -- Ctrl-C ----------------------------------------------------------------------
    def cancel(self) -> bool:
        """Stop the reply being shown (ours or another client's). False if there is none."""
        view = self.view
        if view is not None and view.generation:
            view.cancel_requested = True
            generation = view.generation

            async def stop() -> None:
                try:
                    await self.repl.link.call("gen.cancel", generation=generation)
                except ChatthyError:
                    pass  # it ended by itself meanwhile

            asyncio.get_running_loop().create_task(stop())
            return True
        if self.in_flight:
            for worker in self.in_flight:
                worker.cancel()  # the daemon cancels the generation once it exists
            return True
        return False
