"""The one way the CLI and the REPL reach the daemon.

Blocking sockets and nothing heavy: a client process must start in a few tens
of milliseconds. Every frame from the daemon is verified against the daemon
key pinned in the config dir before it is looked at.

    with Client() as c:
        c.call("chat.list", profile="default")
        stream = c.stream("ask", prompt="hi")
        for kind, data in stream: ...      # ("event", {...}) / ("chunk", {"text": ...})
        stream.result                      # data of the closing frame

A stream that loses its connection reconnects and resumes from the last
``seq`` it has (``gen.attach``), so the user sees no gap and no duplicate.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections import deque
from typing import Any, Iterator

from chatthy import errors
from chatthy.errors import DaemonUnavailable
from chatthy.paths import Paths, resolve
from chatthy.wire.errors import ConnectionClosed, WireError

CALL_TIMEOUT = 60.0  # a unary call that takes longer than this is a daemon bug


class Client:
    def __init__(self, paths: Paths | None = None, *, autostart: bool = True) -> None:
        self.paths = paths or resolve()
        self.autostart = autostart
        self._channel = None
        self._pending: dict[str, deque] = {}

    # -- connection -----------------------------------------------------------
    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def _open_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(os.fspath(self.paths.socket))
        except BaseException:
            sock.close()
            raise
        return sock

    def connect(self):
        if self._channel is not None:
            return self._channel
        from chatthy.wire.channel_sync import SyncChannel
        from chatthy.wire.keys import load_client_keys
        from chatthy.wire.signing import Signer, Verifier

        try:
            sock = self._open_socket()
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            # Only now is the config worth reading (tomllib costs ~15 ms): a bad
            # file is reported here with its line, not as "the daemon died".
            from chatthy import config

            if not config.load(self.paths.config_file).autostart:
                self.autostart = False
            if not self.autostart:
                raise DaemonUnavailable(
                    f"no daemon answers on {self.paths.socket}: start one with `chatthy serve`, "
                    "or drop --no-autostart") from exc
            from chatthy.autostart import start_daemon

            start_daemon(self.paths)
            sock = self._open_socket()
        except OSError as exc:
            raise DaemonUnavailable(f"cannot connect to {self.paths.socket}: {exc.strerror or exc}") from exc
        client_key, daemon_public = load_client_keys(self.paths.config_dir)
        self._channel = SyncChannel(sock, Signer(client_key), Verifier(lambda: (daemon_public,)))
        return self._channel

    # -- frames -----------------------------------------------------------------
    def _send(self, type_: str, request_id: str, **fields) -> None:
        try:
            self.connect().send(type_, request_id, **fields)
        except OSError as exc:
            self.close()
            raise DaemonUnavailable(f"lost the connection to the daemon: {exc.strerror or exc}") from exc

    def _receive_for(self, request_id: str, timeout: float | None):
        """The next frame for ``request_id``; frames for other ids wait their turn."""
        queued = self._pending.get(request_id)
        if queued:
            return queued.popleft()
        channel = self.connect()
        while True:
            try:
                env = channel.receive(timeout=timeout)
            except ConnectionClosed as exc:
                self.close()
                raise DaemonUnavailable("the daemon closed the connection") from exc
            except WireError as exc:
                self.close()
                raise errors.from_wire({"code": exc.code, "message": f"bad frame from the daemon: {exc}"}) from exc
            except (TimeoutError, socket.timeout):
                raise DaemonUnavailable(f"the daemon did not answer within {timeout:.0f} s") from None
            except OSError as exc:
                self.close()
                raise DaemonUnavailable(f"lost the connection to the daemon: {exc.strerror or exc}") from exc
            if env.id == request_id:
                return env
            if env.type == "error" and env.id == "-":
                raise errors.from_wire(env.data)  # connection-level refusal
            self._pending.setdefault(env.id, deque()).append(env)

    def call(self, method: str, **params: Any) -> Any:
        request_id = secrets.token_hex(8)
        self._send("request", request_id, method=method, params=_clean(params))
        while True:
            env = self._receive_for(request_id, CALL_TIMEOUT)
            if env.type == "end":
                return env.data
            if env.type == "error":
                raise errors.from_wire(env.data)
            # a unary method sends nothing else; ignore stray events

    def stream(self, method: str, **params: Any) -> Stream:
        return Stream(self, method, _clean(params))


def _clean(params: dict) -> dict:
    return {k: v for k, v in params.items() if v is not None}


class Stream:
    """Iterate ``(kind, data)`` pairs of a streaming request, in order, verified."""

    def __init__(self, client: Client, method: str, params: dict) -> None:
        self.client = client
        self.method = method
        self.params = params
        self.request_id = secrets.token_hex(8)
        self.result: dict | None = None
        self.start: dict | None = None
        self._assembler = None
        self._resumed = 0
        self._iterator: Iterator[tuple[str, Any]] | None = None

    @property
    def text(self) -> str:
        return self._assembler.text if self._assembler else ""

    def cancel(self) -> None:
        """Ask the daemon to stop this stream's work (Ctrl-C on an ask)."""
        try:
            self.client._send("cancel", self.request_id)
        except errors.ChatthyError:
            pass

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        # One request per Stream: iterating again (e.g. draining after Ctrl-C)
        # continues the same stream instead of sending the request twice.
        if self._iterator is None:
            self._iterator = self._frames()
        return self._iterator

    def _frames(self) -> Iterator[tuple[str, Any]]:
        from chatthy.wire.reorder import StreamAssembler

        self._assembler = StreamAssembler(self.request_id)
        self.client._send("request", self.request_id, method=self.method, params=self.params)
        while True:
            try:
                env = self.client._receive_for(self.request_id, None)
            except DaemonUnavailable:
                if not self._can_resume():
                    raise
                self._resume()
                continue
            if env.type == "chunk":
                for ready in self._assembler.feed(env):
                    yield "chunk", ready.data
            elif env.type == "event":
                if isinstance(env.data, dict) and env.data.get("kind") == "start" and self.start is None:
                    self.start = env.data
                yield "event", env.data
            elif env.type == "end":
                data = env.data if isinstance(env.data, dict) else {}
                if "sha256" in data:
                    self._assembler.finish(env)
                self.result = data
                return
            elif env.type == "error":
                raise errors.from_wire(env.data)

    def _can_resume(self) -> bool:
        return bool(self.start and self.start.get("generation")) and self._resumed < 3

    def _resume(self) -> None:
        """Reconnect and follow the same generation from the next seq we lack."""
        from chatthy.wire.reorder import StreamAssembler

        self._resumed += 1
        self.client.close()
        old = self._assembler
        self.request_id = secrets.token_hex(8)
        self._assembler = StreamAssembler(self.request_id, start_seq=old.next_seq, prefix_text=old.text)
        self.client._send("request", self.request_id, method="gen.attach",
                          params={"generation": self.start["generation"], "from_seq": old.next_seq})
