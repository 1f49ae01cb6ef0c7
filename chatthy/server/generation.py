"""Generations: replies that belong to the daemon, not to a connection.

A generation streams a provider's reply into memory and, in batches, into its
``partial`` message row, so a killed client loses nothing and a killed daemon
loses at most the last batch. Any number of followers read it at their own
pace from any ``seq`` (that is how live chats, attach and resume work): the
text is kept anyway, so a slow follower costs no extra buffering.
"""

from __future__ import annotations

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
KEEP_FINISHED = 256  # finished generations kept in memory for attach/resume
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
        self._changed = anyio.Event()
        self._scope: anyio.CancelScope | None = None
        self._cancel_requested = False

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def append(self, text: str) -> None:
        self.chunks.append(text)
        self.digest.update(text)
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

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

    async def follow(self, send: Callable[[dict, int], Awaitable[None]], from_seq: int = 0) -> dict:
        """Send chunks ``from_seq`` onwards as they come; return the end data.

        Chunks that piled up while the previous frame was being sent go out
        together in one frame (``n`` of them): a fast provider or a slow reader
        then costs a signature per frame, not per token, and a reader that
        falls behind never makes the daemon queue frames for it.
        """
        seq = from_seq
        while True:
            changed = self._changed
            while seq < len(self.chunks):
                end, size = seq + 1, len(self.chunks[seq])
                limit = min(len(self.chunks), seq + MAX_COALESCE_CHUNKS)
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
            await changed.wait()


class GenerationHub:
    """Runs generations in the daemon's task group and finds them again."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.active: dict[str, Generation] = {}
        self.by_chat: dict[int, Generation] = {}
        self.finished: OrderedDict[str, Generation] = OrderedDict()

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

    async def _run(self, gen: Generation, provider: Provider, request: ChatRequest,
                   count_tokens: Callable[[str], int]) -> None:
        from chatthy.llm import Done, TextDelta, Usage

        store = self.daemon.store
        last_flush = time.monotonic()
        try:
            with anyio.CancelScope() as scope:
                gen._scope = scope
                if gen._cancel_requested:
                    scope.cancel()
                async for event in provider.stream(request):
                    if isinstance(event, TextDelta):
                        if not event.text:
                            continue
                        gen.append(event.text)
                        now = time.monotonic()
                        if now - last_flush >= FLUSH_INTERVAL:
                            store.update_message(gen.message_id, content=gen.text)
                            last_flush = now
                    elif isinstance(event, Usage):
                        gen.usage = {"input_tokens": event.input_tokens, "output_tokens": event.output_tokens}
                    elif isinstance(event, Done):
                        pass
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
                self._finish(gen, count_tokens)

    def _finish(self, gen: Generation, count_tokens: Callable[[str], int]) -> None:
        text = gen.text
        try:
            self.daemon.store.update_message(
                gen.message_id,
                content=text,
                status=gen.status,
                tokens=count_tokens(text),
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
        while len(self.finished) > KEEP_FINISHED:
            self.finished.popitem(last=False)
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
