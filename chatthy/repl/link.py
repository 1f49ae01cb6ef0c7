"""The REPL's connections to the daemon.

The sync ``Client`` blocks and is not thread-safe, and the REPL must keep its
prompt responsive while replies stream in. So every stream (an ask, a retry,
following a reply another client started, watching the chat) runs in its own
thread on its own connection, and hands what it receives to the event loop
through a queue; unary calls share one connection behind a lock and run in a
worker thread (``await link.call(...)``), so a slow one never freezes the
prompt.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from chatthy.client import Client
from chatthy.errors import ChatthyError, DaemonUnavailable, InternalError
from chatthy.paths import Paths


class StreamWorker:
    """One streaming request in a thread; items reach ``deliver(worker, kind, data)`` on the loop.

    Kinds: ``"event"``, ``"chunk"`` (data as sent), ``"end"`` (the closing
    data), ``"error"`` (a ChatthyError). ``detach()`` stops delivering without
    stopping the request (a reply the user no longer looks at keeps going in
    the daemon); ``cancel()`` asks the daemon to stop it.
    """

    def __init__(self, link: DaemonLink, method: str, params: dict, tag: str = "") -> None:
        self.link = link
        self.method = method
        self.params = params
        self.tag = tag or method
        self.detached = False
        self.cancelled = False
        self.rewrites_history = False  # the daemon will announce a history change that is ours
        self.start_data: dict | None = None
        self._stream = None
        self._client: Client | None = None
        self._closed = False
        self._lock = threading.Lock()  # cancel() must never race the connection's close
        self._thread = threading.Thread(target=self._run, name=f"chatthy-{self.tag}", daemon=True)

    def start(self) -> StreamWorker:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _deliver(self, kind: str, data: Any) -> None:
        if self.detached and kind in ("chunk", "event"):
            return
        self.link.post(self, kind, data)

    def _run(self) -> None:
        client = self._client = self.link.new_client()
        try:
            self._stream = client.stream(self.method, **self.params)
            cancel_sent = False
            for kind, data in self._stream:
                if kind == "event" and isinstance(data, dict) and data.get("kind") == "start":
                    self.start_data = data
                if self.cancelled and not cancel_sent:
                    self._stream.cancel()  # cancel() came before the request was sent
                    cancel_sent = True
                self._deliver(kind, data)
            self._deliver("end", self._stream.result or {})
        except ChatthyError as exc:
            self._deliver("error", exc)
        except Exception as exc:  # a bug must not kill the REPL silently
            self._deliver("error", InternalError(f"{self.method}: {type(exc).__name__}: {exc}"))
        finally:
            with self._lock:
                self._closed = True
                client.close()

    def cancel(self) -> None:
        """Send a cancel frame for this request (the daemon ends the stream)."""
        self.cancelled = True
        with self._lock:
            # A closed client would reconnect to send the frame: then there is nothing to cancel.
            if self._closed or self._stream is None or self._client is None or self._client._channel is None:
                return
            self._stream.cancel()

    def detach(self) -> None:
        self.detached = True


class DaemonLink:
    def __init__(self, paths: Paths, *, autostart: bool = True,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.paths = paths
        self.autostart = autostart
        self.loop = loop
        self.events: asyncio.Queue | None = None
        self._client = Client(paths, autostart=autostart)
        self._lock = threading.Lock()
        self.closed = False

    def bind(self, loop: asyncio.AbstractEventLoop, events: asyncio.Queue) -> None:
        self.loop, self.events = loop, events

    def new_client(self) -> Client:
        return Client(self.paths, autostart=False)

    def post(self, worker: StreamWorker, kind: str, data: Any) -> None:
        """From any thread: queue ``(worker, kind, data)`` for the event loop."""
        loop, events = self.loop, self.events
        if loop is None or events is None:
            return
        try:
            loop.call_soon_threadsafe(events.put_nowait, (worker, kind, data))
        except RuntimeError:
            pass  # the loop is closed: the REPL is exiting

    def call_sync(self, method: str, **params: Any) -> Any:
        with self._lock:
            if self.closed:  # a late background call must not open a new connection
                raise DaemonUnavailable("the REPL is closing")
            return self._client.call(method, **params)

    async def call(self, method: str, **params: Any) -> Any:
        return await asyncio.to_thread(self.call_sync, method, **params)

    def stream(self, method: str, tag: str = "", **params: Any) -> StreamWorker:
        clean = {k: v for k, v in params.items() if v is not None}
        return StreamWorker(self, method, clean, tag).start()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._client.close()
