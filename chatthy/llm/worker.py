"""A provider worker: the process the daemon's provider streams run in.

Started by the daemon (``chatthy.server.provider_workers``) as
``python -m chatthy.llm.worker``; ``chatthy.llm.worker_link`` describes the
messages. It holds one provider (one SDK client, one connection pool) per
configured name, runs any number of streams at once, and exits when its stdin
closes: the daemon stopping, or dying, ends it too.

The link's pipes are moved off fds 0 and 1 at start: a key command
(``api_key_cmd``) run from here must not read the link as its stdin, and a
library that prints must not write into it. Log lines go to stderr, which the
daemon copies into its own log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import sys
from typing import Any

import anyio

from chatthy.errors import ChatthyError

from . import worker_link as link
from .registry import ProviderRegistry

log = logging.getLogger("chatthy.worker")


class Worker:
    def __init__(self, send_bytes) -> None:
        self._send_bytes = send_bytes
        self.providers = ProviderRegistry({})
        self.scopes: dict[int, anyio.CancelScope] = {}
        self._batch: list[list] = []

    def send(self, message: list) -> None:
        """Queue ``message``; what is queued goes out together once the loop comes round.

        A provider that sends faster than the loop turns (a local server, a
        burst after a stall) then costs one write, and one wake-up of the
        daemon, per turn rather than per chunk; text that follows text of the
        same request is joined into one message. Order is kept.
        """
        batch = self._batch
        if not batch:
            asyncio.get_running_loop().call_soon(self.flush)
        elif message[1] == "text" and batch[-1][1] == "text" and batch[-1][0] == message[0]:
            batch[-1][2] += message[2]
            return
        batch.append(message)

    def flush(self) -> None:
        batch, self._batch = self._batch, []
        if batch:
            self._send_bytes(b"".join(link.encode(m) for m in batch))

    def init(self, settings: dict[str, dict], preload: list[str]) -> None:
        import time

        from chatthy.config import ProviderConfig

        began = time.monotonic()
        self.providers = ProviderRegistry({name: ProviderConfig(**data) for name, data in settings.items()})
        for kind in preload:
            try:
                __import__(kind)  # the SDK, so the first reply does not wait for it
            except Exception:  # reported properly when the provider is used
                log.exception("could not import %s", kind)
        from chatthy.process_heap import settle

        settle()
        log.info("ready: %d providers; %s imported in %.2f s", len(self.providers.names),
                 ", ".join(preload) or "no SDK", time.monotonic() - began)

    async def stream(self, call_id: int, name: str, request: dict) -> None:
        with anyio.CancelScope() as scope:
            self.scopes[call_id] = scope
            try:
                req = link.request_from_wire(request)
                async with contextlib.aclosing(self.providers.get(name).stream(req)) as events:
                    async for event in events:
                        kind, value = link.event_to_wire(event)
                        self.send([call_id, kind, value])
            except Exception as exc:
                self._failed(call_id, exc, f"stream {call_id} (provider {name})")
            finally:
                del self.scopes[call_id]

    async def answer(self, call_id: int, op: str, name: str) -> None:
        try:
            provider = self.providers.get(name)
            if op == "models":
                value: Any = await provider.list_models()
            else:
                await provider.load()
                value = True
            self.send([call_id, "result", value])
        except Exception as exc:
            self._failed(call_id, exc, f"{op} for provider {name}")

    def _failed(self, call_id: int, exc: Exception, what: str) -> None:
        """The call's end is this error; one that is not chatthy's is a bug, logged with its traceback."""
        if not isinstance(exc, ChatthyError):
            log.exception("%s failed", what)
        self.send([call_id, "error", link.error_to_wire(exc)])

    def cancel(self, call_id: int) -> None:
        scope = self.scopes.get(call_id)
        if scope is not None:
            scope.cancel()

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):  # exiting anyway: a failed close has no one to tell
            await self.providers.aclose()


class _Incoming(asyncio.Protocol):
    """The daemon's messages, handed to the worker's main task in order."""

    def __init__(self, queue) -> None:
        self.decoder = link.MessageDecoder()
        self.queue = queue

    def data_received(self, data: bytes) -> None:
        for message in self.decoder.feed(data):
            self.queue.send_nowait(message)

    def eof_received(self) -> bool:
        self.queue.close()
        return False

    def connection_lost(self, exc) -> None:
        self.queue.close()


async def serve(link_in: int, link_out: int) -> None:
    loop = asyncio.get_running_loop()
    send, receive = anyio.create_memory_object_stream(math.inf)
    await loop.connect_read_pipe(lambda: _Incoming(send), os.fdopen(link_in, "rb", buffering=0))
    out, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(link_out, "wb", buffering=0))
    worker = Worker(out.write)
    async with anyio.create_task_group() as tg:
        async for message in receive:
            op = message[0]
            if op == "stream":
                tg.start_soon(worker.stream, message[1], message[2], message[3])
            elif op == "cancel":
                worker.cancel(message[1])
            elif op in ("models", "load"):
                tg.start_soon(worker.answer, message[1], op, message[2])
            elif op == "init":
                worker.init(message[1], message[2])
            else:
                log.error("unknown message %r from the daemon", op)
        # stdin closed: the daemon is stopping (or gone). Nothing in flight has
        # anyone to send to any more.
        tg.cancel_scope.cancel()
    await worker.aclose()
    worker.flush()
    out.close()


def main() -> None:
    # The link, off the standard fds (see the module doc).
    link_in, link_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("chatthy")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # The daemon's signals (Ctrl-C in `chatthy serve`, a service stop) reach the
    # whole process group; the daemon decides how replies end, and closes stdin.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    anyio.run(serve, link_in, link_out)


if __name__ == "__main__":
    main()
