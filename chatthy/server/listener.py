"""Binding the Unix socket safely, and knowing who is on the other end.

The socket lives in a 0700 directory and is itself 0600, bound under a tight
umask so there is no window in which another user could connect. An existing
socket file is probed before it is removed: a live daemon answering there
means we must not start a second one.
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
    old = os.umask(0o177)
    try:
        sock.bind(os.fspath(path))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise Conflict(f"a chatthy daemon is already listening on {path}") from exc
        raise
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(256)
    sock.setblocking(False)
    return sock


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
