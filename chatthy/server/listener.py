"""Binding the sockets safely, and knowing who is on the other end.

The Unix socket lives in a 0700 directory and is itself 0600, bound under a
tight umask so there is no window in which another user could connect. An
existing socket file is probed before it is removed: a live daemon answering
there means we must not start a second one. The socket is bound and listening
under a temporary name first and only then linked to its real name, so a
client that sees the file can connect at once (no "connection refused" between
bind() and listen()).

The TCP listener (off by default) is plain TCP: every frame on it is encrypted
and signed (``chatthy.wire.box``), so it needs no TLS.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import sys
from pathlib import Path

from chatthy.errors import Conflict, ConfigError
from chatthy.paths import ensure_private_dir
from chatthy.wire.probe import socket_answers

# sockaddr_un.sun_path is 108 bytes on Linux, 104 on macOS (incl. the NUL).
MAX_SOCKET_PATH = 103 if sys.platform == "darwin" else 107


def bind_unix(path: Path) -> socket.socket:
    raw = os.fsencode(path)
    if len(raw) > MAX_SOCKET_PATH:
        raise ConfigError(
            f"socket path is {len(raw)} bytes, longer than the {MAX_SOCKET_PATH} a Unix socket allows: "
            f"set CHATTHY_SOCKET to a shorter path ({path})"
        )
    ensure_private_dir(path.parent)
    if path.exists() or path.is_symlink():
        if socket_answers(path):
            raise Conflict(f"a chatthy daemon is already listening on {path}")
        path.unlink()  # stale: left by a daemon that died
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    staging = path.with_name(f".{os.getpid()}.tmp")
    if len(os.fsencode(staging)) > MAX_SOCKET_PATH:
        staging = path  # no room for the staging name: bind in place
    old = os.umask(0o177)
    try:
        if staging != path and (staging.exists() or staging.is_symlink()):
            staging.unlink()
        sock.bind(os.fspath(staging))
        os.chmod(staging, 0o600)
        sock.listen(256)
        if staging != path:
            try:
                # link() fails if the name exists: a daemon that raced us keeps its socket.
                os.link(staging, path)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                os.rename(staging, path)  # a file system without hard links
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, errno.EEXIST):
            raise Conflict(f"a chatthy daemon is already listening on {path}") from exc
        raise
    finally:
        os.umask(old)
        if staging != path:
            try:
                staging.unlink()
            except OSError:
                pass
    sock.setblocking(False)
    return sock


def parse_tcp_address(spec: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6; ``tcp://`` optional) to (host, port)."""
    text = spec.strip()
    if text.startswith("tcp://"):
        text = text[len("tcp://"):]
    host, sep, port_text = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"TCP address {spec!r} is not HOST:PORT (e.g. 127.0.0.1:8765 or [::1]:8765)")
    return host, int(port_text)


def bind_tcp(spec: str) -> socket.socket:
    """Listen on ``HOST:PORT`` (port 0: any free port; see ``getsockname()``)."""
    host, port = parse_tcp_address(spec)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on tcp {spec}: {exc.strerror or exc}") from exc
    family, _type, _proto, _name, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(256)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise Conflict(f"cannot listen on tcp {spec}: the address is already in use") from exc
        raise ConfigError(f"cannot listen on tcp {spec}: {exc.strerror or exc}") from exc
    sock.setblocking(False)
    return sock


def describe_tcp(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket, if the OS says."""
    if sock.family != socket.AF_UNIX:
        return None
    if hasattr(socket, "SO_PEERCRED"):  # Linux
        fmt = "3i"
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize(fmt))
        _pid, uid, _gid = struct.unpack(fmt, raw)
        return uid
    if sys.platform == "darwin":
        # LOCAL_PEERCRED (0x001) at level SOL_LOCAL (0) returns struct xucred:
        # u_int cr_version; uid_t cr_uid; short cr_ngroups; gid_t cr_groups[16].
        raw = sock.getsockopt(0, 0x001, 76)
        _version, uid = struct.unpack("Ii", raw[:8])
        return uid
    return None
