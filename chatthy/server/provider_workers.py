"""Provider workers as the daemon sees them: child processes that stream from providers.

``chatthy/llm/worker_link.py`` says why they exist and what crosses the link.
Here: ``WorkerPool`` starts ``[daemon] provider_workers`` of them with the
daemon, gives each new request to the one with the fewest in flight, and starts
a new one when one has died; ``RemoteProvider`` is the ``Provider`` the rest
of the daemon uses, unchanged, whichever process the stream runs in.

Crash safety: a worker that dies (a crash, ``kill -9``, out of memory) ends
the requests it carried with a provider error that says so, marked
``during_stream`` so a reply that had shown nothing is tried again; the next
request gets a new worker. A worker exits when its stdin closes, so a daemon
that dies takes its workers with it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio

from chatthy.errors import ProviderError
from chatthy.llm import worker_link as link
from chatthy.llm.base import ProviderSettings
from chatthy.llm.events import Done, Event, TextDelta
from chatthy.llm.request import ChatRequest

log = logging.getLogger("chatthy.server")
worker_log = logging.getLogger("chatthy.worker")

STOP_GRACE = 3.0  # s a worker has to close its connections after its stdin closes
EXIT_WAIT = 1.0  # s to wait for a dying worker's exit status, to say how it ended
MAX_LOG_LINE = 4096  # a worker's stderr line longer than this is cut in the log
_END_KINDS = frozenset({"done", "error", "result"})
_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING,
           "ERROR": logging.ERROR, "CRITICAL": logging.CRITICAL}


class _Call:
    """One request in flight on a worker: what has come back, and who waits for it."""

    __slots__ = ("id", "provider", "items", "waiter", "ended")

    def __init__(self, call_id: int, provider: str) -> None:
        self.id = call_id
        self.provider = provider
        self.items: deque[list] = deque()
        self.waiter: asyncio.Future | None = None
        self.ended = False

    def put(self, item: list) -> None:
        self.items.append(item)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self) -> list:
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.items.popleft()


class WorkerProcess(asyncio.SubprocessProtocol):
    """One worker: its pipes, its requests in flight, its end."""

    def __init__(self) -> None:
        self.decoder = link.MessageDecoder()
        self.calls: dict[int, _Call] = {}
        self.transport: Any = None
        self.pid: int | None = None
        self.alive = True
        self.started = time.monotonic()
        self.exited: asyncio.Future = asyncio.get_running_loop().create_future()
        self._stderr = bytearray()
        self.last_problem = ""  # its last warning, error or unlabelled line (a traceback's last)

    # -- asyncio callbacks ------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.pid = transport.get_pid()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 2:
            self._stderr_received(data)
            return
        try:
            messages = self.decoder.feed(data)
        except Exception:  # a worker that garbles the link cannot be trusted with more
            log.exception("provider worker %s sent a message that cannot be read; stopping it", self.pid)
            self.kill()
            return
        calls = self.calls
        for message in messages:
            call = calls.get(message[0])
            if call is None:
                continue  # its consumer has gone (cancelled); the worker was told
            if message[1] in _END_KINDS:
                del calls[call.id]
                call.ended = True
            call.put(message)

    def pipe_connection_lost(self, fd: int, exc: BaseException | None) -> None:
        if fd == 1:
            # Nothing more can come back: every request in flight has lost its worker.
            self.alive = False
            calls, self.calls = self.calls, {}
            for call in calls.values():
                call.ended = True
                call.put([call.id, "gone", None])
        elif fd == 2 and self._stderr:
            self._log_line(bytes(self._stderr))
            self._stderr.clear()

    def process_exited(self) -> None:
        self.alive = False
        code = self.transport.get_returncode()
        if not self.exited.done():
            self.exited.set_result(code)
        level = logging.INFO if code == 0 else logging.WARNING
        log.log(level, "provider worker %s %s", self.pid, describe_exit(code))

    # -- stderr into the daemon's log -------------------------------------------
    def _stderr_received(self, data: bytes) -> None:
        self._stderr += data
        *lines, rest = self._stderr.split(b"\n")
        if len(rest) > MAX_LOG_LINE:
            lines.append(rest)
            rest = b""
        self._stderr[:] = rest
        for line in lines:
            self._log_line(line)

    def _log_line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip()[:MAX_LOG_LINE]
        if not line:
            return
        level_name, _, rest = line.partition(" ")
        level = _LEVELS.get(level_name)
        if level is None:  # not a log record: what a library printed is worth seeing
            level, rest = logging.WARNING, line
        rest = rest.removeprefix("chatthy.worker: ")
        if level >= logging.WARNING:
            self.last_problem = rest
        worker_log.log(level, "[worker %s] %s", self.pid, rest)

    # -- the daemon's side ------------------------------------------------------
    def send(self, message: list) -> None:
        self.transport.get_pipe_transport(0).write(link.encode(message))

    def start_call(self, call_id: int, provider: str, message: list) -> _Call:
        call = self.calls[call_id] = _Call(call_id, provider)
        self.send(message)
        return call

    def forget(self, call: _Call) -> None:
        """The consumer has stopped: tell the worker to stop working on it."""
        if self.calls.pop(call.id, None) is not None and self.alive:
            try:
                self.send(["cancel", call.id])
            except Exception:  # the pipe broke: the worker is gone, which cancels it too
                pass

    async def gone_error(self, call: _Call) -> ProviderError:
        with anyio.move_on_after(EXIT_WAIT):
            await asyncio.shield(self.exited)
        code = self.exited.result() if self.exited.done() else None
        why = f"; it last said: {self.last_problem}" if self.last_problem else ""
        return ProviderError(
            f"{call.provider}: the provider worker (pid {self.pid}) {describe_exit(code)} during the "
            f"request{why}; a new one takes the next request (`chatthy daemon logs` has more)",
            data={"provider": call.provider, "model": None, "status": None, "retry_after": None,
                  "during_stream": True, "worker_exit": code},
        )

    def close_input(self) -> None:
        try:
            self.transport.get_pipe_transport(0).close()
        except Exception:
            pass

    def kill(self) -> None:
        if self.alive:
            try:
                self.transport.kill()
            except ProcessLookupError:
                pass


def describe_exit(code: int | None) -> str:
    if code is None:
        return "stopped"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


class WorkerPool:
    """``size`` provider workers, started with the daemon and replaced when they die."""

    def __init__(self, settings: Mapping[str, ProviderSettings], size: int, preload: list[str]) -> None:
        self._settings = {name: link.settings_to_wire(s) for name, s in settings.items()}
        self.size = size
        self._preload = preload
        self.workers: list[WorkerProcess] = []
        self.started = 0  # workers started in this daemon's life (doctor tells of replacements)
        self._lock: anyio.Lock | None = None  # made in the event loop, on first use
        self._next_id = 0
        self._closed = False

    def provider(self, settings: ProviderSettings) -> RemoteProvider:
        return RemoteProvider(settings, self)

    async def start(self) -> None:
        await self.worker()

    async def _spawn(self) -> WorkerProcess:
        loop = asyncio.get_running_loop()
        _, worker = await loop.subprocess_exec(
            WorkerProcess, sys.executable, "-m", "chatthy.llm.worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        worker.send(["init", self._settings, self._preload])
        self.started += 1
        log.info("provider worker %s started", worker.pid)
        return worker

    async def worker(self) -> WorkerProcess:
        """The live worker with the fewest requests in flight; dead ones are replaced first."""
        if self._closed:
            raise ProviderError("the daemon is stopping; no new provider requests",
                                data={"provider": None, "model": None, "status": None, "retry_after": None})
        live = [w for w in self.workers if w.alive]
        if len(live) < self.size:
            if self._lock is None:
                self._lock = anyio.Lock()
            async with self._lock:
                self.workers = [w for w in self.workers if w.alive]
                while len(self.workers) < self.size:
                    try:
                        self.workers.append(await self._spawn())
                    except OSError as exc:
                        if self.workers:
                            break
                        raise ProviderError(f"could not start a provider worker: {exc}",
                                            data={"provider": None, "model": None, "status": None,
                                                  "retry_after": None}) from exc
            live = self.workers
        return min(live, key=lambda w: len(w.calls))

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def describe(self) -> list[dict]:
        return [{"pid": w.pid, "alive": w.alive, "requests": len(w.calls),
                 "uptime": round(time.monotonic() - w.started, 3)} for w in self.workers]

    async def aclose(self) -> None:
        """Close every worker's stdin, give them STOP_GRACE to end, then kill what is left."""
        self._closed = True
        for worker in self.workers:
            worker.close_input()
        with anyio.move_on_after(STOP_GRACE):
            for worker in self.workers:
                await asyncio.shield(worker.exited)
        for worker in self.workers:
            if not worker.exited.done():
                log.warning("provider worker %s did not stop in %.0f s; killing it", worker.pid, STOP_GRACE)
                worker.kill()
        with anyio.move_on_after(STOP_GRACE):
            for worker in self.workers:
                await asyncio.shield(worker.exited)


class RemoteProvider:
    """A provider whose streams run in a provider worker (the ``Provider`` protocol)."""

    def __init__(self, settings: ProviderSettings, pool: WorkerPool) -> None:
        self.settings = settings
        self.pool = pool

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def kind(self) -> str:
        return self.settings.kind

    @property
    def base_url(self) -> str:
        from chatthy.llm.registry import make_provider

        return make_provider(self.settings).base_url  # cheap: no client, no SDK import

    def __repr__(self) -> str:
        return f"<RemoteProvider {self.name!r} {self.base_url}>"

    async def stream(self, req: ChatRequest) -> AsyncIterator[Event]:
        worker = await self.pool.worker()
        call_id = self.pool.new_id()
        call = worker.start_call(call_id, self.name, ["stream", call_id, self.name, link.request_to_wire(req)])
        try:
            while True:
                _, kind, value = await call.next()
                if kind == "text":
                    yield TextDelta(value)
                elif kind == "done":
                    yield Done(value)
                    return
                elif kind == "error":
                    raise link.error_from_wire(value)
                elif kind == "gone":
                    raise await worker.gone_error(call)
                else:
                    yield link.event_from_wire(kind, value)
        finally:
            if not call.ended:
                worker.forget(call)

    async def _ask(self, op: str) -> Any:
        worker = await self.pool.worker()
        call_id = self.pool.new_id()
        call = worker.start_call(call_id, self.name, [op, call_id, self.name])
        try:
            _, kind, value = await call.next()
        finally:
            if not call.ended:
                worker.forget(call)
        if kind == "error":
            raise link.error_from_wire(value)
        if kind == "gone":
            raise await worker.gone_error(call)
        return value

    async def list_models(self) -> list[str]:
        return list(await self._ask("models"))

    async def load(self) -> None:
        await self._ask("load")

    async def aclose(self) -> None:
        """Nothing to close here: the worker's clients end with the pool."""

