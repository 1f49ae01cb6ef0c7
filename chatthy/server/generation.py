"""Generations: replies that belong to the daemon, not to a connection.

A generation streams a provider's reply into memory and, in batches, into its
``partial`` message row, so a killed client loses nothing and a killed daemon
loses at most the last batch. Any number of followers read it at their own
pace from any ``seq`` (that is how live chats, attach and resume work): the
text is kept anyway, so a slow follower costs no extra buffering.

Batches: a flusher writes the text every ``FLUSH_INTERVAL`` while it grows
(timer-driven, so text that arrived just before the provider went quiet is on
disk within that interval too). After a ``kill -9`` the row is still
``partial``, ended at its last flush; the next daemon marks such rows as
interrupted (``mark_interrupted``). A provider that fails mid-stream before
sending any text (a reset, an "overloaded" event) is tried again, up to the
provider's ``max_retries``: nothing has been shown to anyone yet. Finished
generations stay in memory for attach/resume within a count and a byte budget.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import anyio

from chatthy.errors import Busy, ChatthyError, InternalError, NotFound
from chatthy.wire.reorder import StreamDigest

if TYPE_CHECKING:
    from chatthy.llm import ChatRequest, Provider
    from chatthy.server.daemon import Daemon

log = logging.getLogger("chatthy.server")

FLUSH_INTERVAL = 0.25  # seconds between writes of a growing reply
FLUSH_COST_RATIO = 8  # ... or 8x as long as the last write took, if that is longer
KEEP_FINISHED = 256  # finished generations kept in memory for attach/resume
KEEP_FINISHED_CHARS = 16 * 1024 * 1024  # ... and at most this much of their text
COUNT_IN_THREAD_CHARS = 32 * 1024
RETRY_BASE_DELAY = 0.5  # s before the first retry of a reply that failed before any text
RETRY_MAX_DELAY = 20.0
INTERRUPTED = "interrupted: the daemon stopped during the reply (the text up to then is kept)"
# Provider error types that another try cannot fix.
_PERMANENT_ERROR_TYPES = frozenset({
    "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
    "request_too_large", "billing_error", "invalid_api_key", "context_length_exceeded",
})


async def _count_tokens(count_tokens: Callable[[str], int], text: str) -> int | None:
    """The reply's token count; a long one is counted in a worker thread.

    BPE time grows faster than linearly on long runs without spaces (a 1 MB
    reply can take seconds): on the event loop that would stall every client.
    A failure to count must not keep the reply from being finished.
    """
    try:
        if len(text) < COUNT_IN_THREAD_CHARS:
            return count_tokens(text)
        return await anyio.to_thread.run_sync(count_tokens, text)
    except Exception:
        log.exception("could not count the tokens of a reply of %d characters", len(text))
        return None


def mark_interrupted(store) -> int:
    """At start-up: replies left ``partial`` by a daemon that died mid-stream get an end.

    They keep status ``partial`` and the text of their last flush; they gain an
    error saying why and a ``finished`` stamp, so nothing looks like it is
    still being written.
    """
    from chatthy.store.models import now_iso

    with store.transaction():
        cur = store.conn.execute(
            "UPDATE messages SET error = ?, finished = ? WHERE status = 'partial' AND finished IS NULL",
            (INTERRUPTED, now_iso()),
        )
    return cur.rowcount


def retry_delay(exc: ChatthyError, attempt: int) -> float | None:
    """Seconds to wait before trying a failed reply again, or None if not worth it.

    Only failures during the stream are retried here (the SDK already retried
    what failed before it, 429/5xx/connect), never a timeout (the same wait
    again is likely), nor an error type that says the request itself is wrong.
    """
    data = exc.data or {}
    if exc.code != "provider_error" or not data.get("during_stream") or data.get("timeout"):
        return None
    if data.get("error_type") in _PERMANENT_ERROR_TYPES:
        return None
    delay = min(RETRY_BASE_DELAY * 2 ** (attempt - 1), RETRY_MAX_DELAY)
    retry_after = data.get("retry_after")
    if isinstance(retry_after, (int, float)) and retry_after > 0:
        delay = min(max(delay, float(retry_after)), RETRY_MAX_DELAY)
    return delay
MAX_COALESCE_CHUNKS = 512  # chunks one frame may carry when a follower lags
MAX_COALESCE_CHARS = 64 * 1024


class Generation:
    def __init__(self, chat_id: int, chat_name: str, message_id: int, provider: str, model: str) -> None:
        self.id = uuid.uuid4().hex[:16]
        self.chat_id = chat_id
        self.chat_name = chat_name
        self.message_id = message_id
        self.provider = provider
        self.model = model
        self.started = time.monotonic()
        self.chunks: list[str] = []
        self.digest = StreamDigest()
        self.status = "partial"
        self.error: dict | None = None
        self.usage: dict | None = None
        self.finished = anyio.Event()
        # Followers waiting for more (futures of the daemon's asyncio loop): a
        # chunk nobody waits for costs nothing, and one that is waited for
        # costs no new Event (anyio's looks up the async library every time).
        self._waiters: list[asyncio.Future] = []
        self._scope: anyio.CancelScope | None = None
        self._cancel_requested = False
        # Tools (chatthy/server/tool_loop.py): the loop's settings, its events
        # (tool calls, results, approvals) at the chunk position they happened,
        # the tokens its calls and results add to the reply, and how many
        # clients follow the reply (approval is asked only of a follower).
        self.tool_run: Any = None
        self.events: list[tuple[int, dict]] = []
        self.extra_tokens = 0
        self.followers = 0

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def append(self, text: str) -> None:
        self.chunks.append(text)
        self.digest.update(text)
        self._wake()

    def _wake(self) -> None:
        waiters = self._waiters
        if waiters:
            self._waiters = []
            for waiter in waiters:
                if not waiter.done():  # a follower cancelled meanwhile
                    waiter.set_result(None)

    def add_event(self, data: dict) -> None:
        """An event for every follower, placed between the chunks it happened between."""
        self.events.append((len(self.chunks), data))
        self._wake()

    def cancel(self) -> None:
        self._cancel_requested = True
        if self._scope is not None:
            self._scope.cancel()

    def summary(self) -> dict:
        return {
            "generation": self.id,
            "chat": self.chat_name,
            "message_id": self.message_id,
            "provider": self.provider,
            "model": self.model,
            "chunks": len(self.chunks),
            "status": self.status,
        }

    def end_data(self) -> dict[str, Any]:
        return {
            "count": len(self.chunks),
            "sha256": self.digest.hexdigest(),
            "status": self.status,
            "error": self.error,
            "usage": self.usage,
            **self.summary(),
        }

    async def follow(self, send: Callable[[dict, int], Awaitable[None]], from_seq: int = 0,
                     events: Callable[[dict, int], Awaitable[None]] | None = None) -> dict:
        """Send chunks ``from_seq`` onwards as they come; return the end data.

        Chunks that piled up while the previous frame was being sent go out
        together in one frame (``n`` of them): a fast provider or a slow reader
        then costs a signature per frame, not per token, and a reader that
        falls behind never makes the daemon queue frames for it. With
        ``events``, tool events go out too, each between the chunks it came
        between (never coalesced across).
        """
        seq = from_seq
        ev = next((i for i, (pos, _) in enumerate(self.events) if pos >= from_seq), len(self.events))
        self.followers += 1
        try:
            while True:
                while True:
                    while events is not None and ev < len(self.events) and self.events[ev][0] <= seq:
                        await events(self.events[ev][1], seq)
                        ev += 1
                    if seq >= len(self.chunks):
                        break
                    end, size = seq + 1, len(self.chunks[seq])
                    limit = min(len(self.chunks), seq + MAX_COALESCE_CHUNKS)
                    if events is not None and ev < len(self.events):
                        limit = min(limit, self.events[ev][0])
                    while end < limit and size < MAX_COALESCE_CHARS:
                        size += len(self.chunks[end])
                        end += 1
                    if end == seq + 1:
                        await send({"text": self.chunks[seq]}, seq)
                    else:
                        await send({"text": "".join(self.chunks[seq:end]), "n": end - seq}, seq)
                    seq = end
                if self.finished.is_set():
                    return self.end_data()
                # Nothing new, and no await since that was checked: no wake-up can be missed.
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                await waiter
        finally:
            self.followers -= 1


class GenerationHub:
    """Runs generations in the daemon's task group and finds them again."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.active: dict[str, Generation] = {}
        self.by_chat: dict[int, Generation] = {}
        self.finished: OrderedDict[str, Generation] = OrderedDict()
        self._finished_chars = 0

    def get(self, generation_id: str) -> Generation:
        gen = self.active.get(generation_id) or self.finished.get(generation_id)
        if gen is None:
            raise NotFound(f"no generation {generation_id!r} (finished long ago, or never existed)")
        return gen

    def for_chat(self, chat_id: int) -> Generation | None:
        return self.by_chat.get(chat_id)

    @staticmethod
    def busy_error(chat_name: str) -> Busy:
        return Busy(f"chat {chat_name!r} is already generating a reply; "
                    f"wait for it or cancel it (`chatthy chat cancel {chat_name}`)")

    def start(self, gen: Generation, provider: Provider, request: ChatRequest,
              count_tokens: Callable[[str], int]) -> None:
        if gen.chat_id in self.by_chat:
            raise self.busy_error(gen.chat_name)
        self.active[gen.id] = gen
        self.by_chat[gen.chat_id] = gen
        self.daemon.task_group.start_soon(self._run, gen, provider, request, count_tokens)
        self.daemon.task_group.start_soon(self._flush_while_growing, gen)

    async def _flush_while_growing(self, gen: Generation) -> None:
        """Write the growing text at most every FLUSH_INTERVAL, until the end is written."""
        store = self.daemon.store
        flushed = 0
        interval = FLUSH_INTERVAL
        while not gen.finished.is_set():
            with anyio.move_on_after(interval):
                await gen.finished.wait()
            if gen.finished.is_set():
                return  # _finish wrote the whole text
            if len(gen.chunks) != flushed:
                flushed = len(gen.chunks)
                began = time.monotonic()
                try:
                    store.update_message(gen.message_id, content=gen.text)
                except Exception:  # the end is written by _finish; a failed batch only costs durability
                    log.exception("could not save the growing text of generation %s", gen.id)
                # Each write rewrites the whole text: a long reply waits longer between
                # writes, so writing takes a bounded share of the loop (not O(n^2)).
                interval = max(FLUSH_INTERVAL, (time.monotonic() - began) * FLUSH_COST_RATIO)

    async def _stream(self, gen: Generation, provider: Provider, request: ChatRequest) -> None:
        """Stream the reply into ``gen``; try again if it fails before any text."""
        from chatthy.llm import TextDelta, Usage
        from chatthy.server.tool_loop import stream_with_tools

        attempt = 0
        while True:
            try:
                async for event in stream_with_tools(self.daemon, gen, provider, request):
                    if isinstance(event, TextDelta):
                        if event.text:
                            gen.append(event.text)
                    elif isinstance(event, Usage):
                        gen.usage = {"input_tokens": event.input_tokens, "output_tokens": event.output_tokens}
                return
            except ChatthyError as exc:
                attempt += 1
                # Once a tool has run, trying the reply again would run it again.
                delay = None if gen.chunks or gen.events else retry_delay(exc, attempt)
                if delay is None or attempt > provider.settings.max_retries:
                    raise
                log.warning("generation %s (chat %r): %s; trying again in %.1f s (%d of %d)",
                            gen.id, gen.chat_name, exc.message, delay, attempt, provider.settings.max_retries)
                await anyio.sleep(delay)

    async def _run(self, gen: Generation, provider: Provider, request: ChatRequest,
                   count_tokens: Callable[[str], int]) -> None:
        try:
            with anyio.CancelScope() as scope:
                gen._scope = scope
                if gen._cancel_requested:
                    scope.cancel()
                await self._stream(gen, provider, request)
            if scope.cancelled_caught:
                gen.status = "cancelled" if gen._cancel_requested else "partial"
                if not gen._cancel_requested:
                    gen.error = {"code": "cancelled", "message": "the daemon stopped during the reply"}
            else:
                gen.status = "complete"
        except ChatthyError as exc:
            gen.status = "error"
            gen.error = exc.to_wire()
            log.warning("generation %s (chat %r): %s", gen.id, gen.chat_name, exc.message)
        except Exception as exc:  # a provider bug must not take the daemon down
            log.exception("generation %s failed", gen.id)
            gen.status = "error"
            gen.error = InternalError(f"{type(exc).__name__}: {exc}").to_wire()
        finally:
            with anyio.CancelScope(shield=True):
                tokens = await _count_tokens(count_tokens, gen.text)
                self._finish(gen, tokens)

    def _finish(self, gen: Generation, tokens: int | None) -> None:
        text = gen.text
        try:
            self.daemon.store.update_message(
                gen.message_id,
                content=text,
                status=gen.status,
                # tool calls and results count too
                tokens=None if tokens is None else tokens + gen.extra_tokens,
                usage=gen.usage,
                error=gen.error["message"] if gen.error else None,
                finished=True,
                duration_ms=int((time.monotonic() - gen.started) * 1000),
            )
        except Exception:
            log.exception("could not save the end of generation %s", gen.id)
        self.active.pop(gen.id, None)
        if self.by_chat.get(gen.chat_id) is gen:
            del self.by_chat[gen.chat_id]
        self.finished[gen.id] = gen
        self._finished_chars += len(text)
        while len(self.finished) > 1 and (len(self.finished) > KEEP_FINISHED
                                 or self._finished_chars > KEEP_FINISHED_CHARS):
            _, old = self.finished.popitem(last=False)
            self._finished_chars -= len(old.text)
        gen.finished.set()
        gen._wake()
        self.daemon.publish(gen.chat_id, {"kind": "reply_end", **gen.summary()})

    async def stop_all(self, grace: float) -> None:
        """Shutdown: let replies finish for ``grace`` seconds, then cut them."""
        with anyio.move_on_after(grace):
            for gen in list(self.active.values()):
                await gen.finished.wait()
        for gen in list(self.active.values()):
            if gen._scope is not None:
                gen._scope.cancel()
        for gen in list(self.active.values()):
            await gen.finished.wait()
