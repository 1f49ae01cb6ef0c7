"""The one way the CLI and the REPL reach the daemon.

Blocking sockets and nothing heavy: a client process must start in a few tens
of milliseconds. Every frame from the daemon is verified against the daemon
key pinned in the config dir before it is looked at.

    with Client() as c:
        c.call("chat.list", profile="default")
        stream = c.stream("ask", prompt="hi")
        for kind, data in stream: ...      # ("event", {...}) / ("chunk", {"text": ...})
        stream.result                      # data of the closing frame

A stream (``chatthy.client_stream``) that loses its connection reconnects and
resumes from the last ``seq`` it has (``gen.attach``), so the user sees no gap
and no duplicate.

Where the daemon is: the local Unix socket (the default, and the fast path:
nothing is read but the key files), or a daemon on another machine over TCP
when ``CHATTHY_CONNECT`` or ``[client] connect`` says ``tcp://HOST:PORT``; its
public key comes from ``CHATTHY_DAEMON_KEY`` / ``[client] daemon_key`` (else
``daemon.pub``). TCP frames are encrypted as well as signed
(``chatthy.wire.box``), and a remote daemon is never autostarted.

"""

from __future__ import annotations

import os
# The C socket module: socket.py wraps it in IntEnums whose construction
# costs every client start ~2 ms, and a Unix socket needs none of it. TCP
# (rare, remote daemons) imports socket.py when it connects.
import _socket
from _collections import deque  # collections.deque itself; the package costs starts ~1.5 ms

from chatthy import __version__, errors
from chatthy.errors import DaemonUnavailable
from chatthy.paths import Paths, ensure_private_dir, resolve
from chatthy.wire.errors import ConnectionClosed, IncompleteFrame, WireError

TYPE_CHECKING = False  # typing itself costs ~3 ms of every client start
if TYPE_CHECKING:
    from typing import Any

    from chatthy.client_stream import Stream

CALL_TIMEOUT = 60.0  # a unary call that takes longer than this is a daemon bug
TCP_CONNECT_TIMEOUT = 10.0
# Patterns as strings, and re imported only where they are used: importing re
# (with enum) costs every client start ~5 ms, and only TCP clients need them.
# A live `connect = ...` line (not a comment): only then is config.toml worth parsing.
_CONNECT_LINE = rb"(?m)^[ \t]*connect[ \t]*="
_TCP_TARGET = r"tcp://(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<host>[^\s:/\[\]]+)):(?P<port>\d{1,5})"


class Remote:
    """A daemon reached over TCP: where, and the public key it must sign with."""

    def __init__(self, target: str, daemon_key: str | None) -> None:
        import re

        m = re.fullmatch(_TCP_TARGET, target.strip())
        if m is None:
            raise errors.ConfigError(f"cannot connect to {target!r}: expected tcp://HOST:PORT")
        self.target = target.strip()
        self.host = m.group("v6") or m.group("host")
        self.port = int(m.group("port"))
        self.daemon_key = daemon_key.strip().lower() if daemon_key else None


def remote_daemon(paths: Paths) -> Remote | None:
    """The TCP daemon this client is configured to use, or None for the local socket."""
    env = os.environ
    if env.get("CHATTHY_CONNECT"):
        return Remote(env["CHATTHY_CONNECT"], env.get("CHATTHY_DAEMON_KEY") or None)
    try:
        with open(paths.fs("config_file"), "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    if b"connect" not in raw:
        return None
    import re

    if not re.search(_CONNECT_LINE, raw):
        return None
    from chatthy import config

    cfg = config.load(paths.config_file)
    if not cfg.connect:
        return None
    return Remote(cfg.connect, env.get("CHATTHY_DAEMON_KEY") or cfg.daemon_key or None)


class Client:
    def __init__(self, paths: Paths | None = None, *, autostart: bool = True) -> None:
        self.paths = paths or resolve()
        self.autostart = autostart
        self._channel = None
        self._pending: dict[str, deque] = {}
        self._remote: Remote | None | bool = False  # False: not looked up yet
        self._heard_from_daemon = False  # on this connection

    @property
    def remote(self) -> Remote | None:
        if self._remote is False:
            self._remote = remote_daemon(self.paths)
        return self._remote

    @property
    def address(self) -> str:
        """Where the daemon is, for messages."""
        return self.remote.target if self.remote else str(self.paths.socket)

    # -- connection -----------------------------------------------------------
    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def _open_socket(self):
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.connect(self.paths.fs("socket"))
        except BaseException:
            sock.close()
            raise
        return sock

    def _connect_tcp(self, remote: Remote):
        from chatthy.wire.box import FrameCipher
        from chatthy.wire.channel_sync import SyncChannel
        from chatthy.wire.keys import CLIENT_KEY, load_or_create_signing_key
        from chatthy.wire.signing import Signer, Verifier

        daemon_key = remote.daemon_key
        if daemon_key is None:
            try:
                daemon_key = (self.paths.config_dir / "daemon.pub").read_text(encoding="ascii").strip().lower()
            except (OSError, UnicodeDecodeError):
                raise errors.ConfigError(
                    f"no public key for the daemon at {remote.target}: run `chatthy keys show` on that "
                    "machine and set [client] daemon_key (or CHATTHY_DAEMON_KEY) here") from None
        if len(daemon_key) != 64 or not set(daemon_key) <= set("0123456789abcdef"):
            raise errors.ConfigError(f"the daemon key for {remote.target} is not 64 hex characters")
        key_path = ensure_private_dir(self.paths.config_dir) / CLIENT_KEY
        client_key = read_key_files(lambda: load_or_create_signing_key(key_path))
        import socket

        try:
            sock = socket.create_connection((remote.host, remote.port), timeout=TCP_CONNECT_TIMEOUT)
        except OSError as exc:
            raise DaemonUnavailable(f"cannot connect to {remote.target}: {exc.strerror or exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        cipher = FrameCipher.client(client_key, daemon_key)
        self._heard_from_daemon = False
        self._channel = SyncChannel(sock, Signer(client_key), Verifier(lambda: (daemon_key,)), cipher=cipher)
        return self._channel

    def connect(self):
        if self._channel is not None:
            return self._channel
        remote = self.remote
        if remote is not None:
            return self._connect_tcp(remote)
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
        client_key, daemon_public = read_key_files(lambda: load_client_keys(self.paths.fs("config_dir")))
        self._heard_from_daemon = False
        self._channel = SyncChannel(sock, Signer(client_key), Verifier(lambda: (daemon_public,)))
        return self._channel

    def _closed_message(self) -> str:
        if self.remote is not None and not self._heard_from_daemon:
            # A TCP daemon cannot even encrypt a refusal to a key it does not know.
            return (f"the daemon at {self.remote.target} closed the connection without a word: "
                    "is this client's key authorised there? (`chatthy keys show` here, then "
                    "`chatthy keys authorize KEY --name NAME` on the daemon's machine)")
        return "the daemon closed the connection"

    # -- frames -----------------------------------------------------------------
    def _verified(self) -> bool:
        return self._channel is not None and self._heard_from_daemon

    def send_frame(self, type_: str, request_id: str, **fields) -> None:
        # Until a connection has proven itself, the daemon caps frames at 64 KiB
        # (a stranger must not make it buffer more). A big first request (a long
        # prompt on stdin) is therefore preceded by a small hello.
        if (type_ == "request" and fields.get("method") != "hello" and not self._verified()
                and _rough_size(fields.get("params")) > PREAUTH_SAFE):
            self.call("hello", client_version=__version__)
        channel = self.connect()
        try:
            channel.send(type_, request_id, **fields)
        except OSError as exc:
            self.close()
            raise DaemonUnavailable(f"lost the connection to the daemon: {exc.strerror or exc}") from exc
        except (ValueError, TypeError) as exc:  # JSON cannot carry it (NaN, bytes…): nothing was sent
            raise errors.BadRequest(f"cannot send the request: {exc}") from exc

    def receive_for(self, request_id: str, timeout: float | None, interrupts=None):
        """The next frame for ``request_id``; frames for other ids wait their turn.

        ``interrupts``: the caller's entered ``DeferredSigint`` (see Stream.__next__).
        """
        queued = self._pending.get(request_id)
        if queued:
            return queued.popleft()
        channel = self.connect()
        while True:
            try:
                env = channel.receive(timeout, interrupts)
            except ConnectionClosed as exc:
                message = self._closed_message()
                self.close()
                raise DaemonUnavailable(message) from exc
            except IncompleteFrame as exc:
                self.close()  # cut mid-frame: a lost connection like any other (a stream resumes)
                raise DaemonUnavailable(f"lost the connection to the daemon: {exc}") from exc
            except WireError as exc:
                self.close()
                raise errors.from_wire({"code": exc.code, "message": f"bad frame from the daemon: {exc}"}) from exc
            except TimeoutError:  # socket.timeout is TimeoutError (3.10+)
                raise DaemonUnavailable(f"the daemon did not answer within {timeout:.0f} s") from None
            except OSError as exc:
                self.close()
                raise DaemonUnavailable(f"lost the connection to the daemon: {exc.strerror or exc}") from exc
            self._heard_from_daemon = True
            if env.id == request_id:
                return env
            if env.type == "error" and env.id == "-":
                raise errors.from_wire(env.data)  # connection-level refusal
            self._pending.setdefault(env.id, deque()).append(env)

    def call(self, method: str, **params: Any) -> Any:
        request_id = os.urandom(8).hex()
        self.send_frame("request", request_id, method=method, params=_clean(params))
        while True:
            env = self.receive_for(request_id, CALL_TIMEOUT)
            if env.type == "end":
                return env.data
            if env.type == "error":
                raise errors.from_wire(env.data)
            # a unary method sends nothing else; ignore stray events

    def stream(self, method: str, **params: Any) -> Stream:
        from chatthy.client_stream import Stream  # only streaming commands need it

        return Stream(self, method, _clean(params))


PREAUTH_SAFE = 8 * 1024  # well under the daemon's pre-auth cap, even after JSON escaping


def _rough_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(_rough_size(v) + len(k) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(_rough_size(v) for v in value)
    return 8


def read_key_files(load):
    """Run a key-file loader; its KeyFileError (a wire error) becomes the CLI's ConfigError."""
    from chatthy.wire.errors import KeyFileError

    try:
        return load()
    except KeyFileError as exc:
        raise errors.ConfigError(exc.message) from exc


def _clean(params: dict) -> dict:
    return {k: v for k, v in params.items() if v is not None}
