"""Starting the daemon from a client when none answers.

Two clients racing here must not start two daemons: the start is serialised by
an flock on a lock file in the state dir, and whoever gets the lock checks the
socket again before spawning. The daemon runs detached (its own session, no
controlling terminal), so closing the terminal or killing the client leaves it
running.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time

from chatthy.errors import DaemonUnavailable
from chatthy.paths import Paths, ensure_private_dir
from chatthy.wire.probe import socket_answers

START_TIMEOUT = 20.0  # a cold start imports the provider SDKs: allow for a slow disk
_spawned: list = []  # keep Popen objects alive: the daemon outlives us on purpose


def _tail(path, lines: int = 1) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " / ".join(text[-lines:])


def start_daemon(paths: Paths, timeout: float = START_TIMEOUT) -> None:
    import subprocess

    ensure_private_dir(paths.state_dir)
    deadline = time.monotonic() + timeout
    lock_fd = os.open(paths.autostart_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DaemonUnavailable(f"another client is starting the daemon and it has not answered on {paths.socket}")
                time.sleep(0.02)
        if socket_answers(paths.socket):
            return  # another client started it while we waited for the lock
        errors = paths.state_dir / "daemon.stderr"
        with open(errors, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "chatthy.server"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
                close_fds=True,
                cwd="/",
            )
        _spawned.append(proc)
        while time.monotonic() < deadline:
            if socket_answers(paths.socket):
                return
            if proc.poll() is not None:
                reason = _tail(errors) or _tail(paths.log_file) or f"exit status {proc.returncode}"
                raise DaemonUnavailable(f"the daemon could not start: {reason}")
            time.sleep(0.01)
        raise DaemonUnavailable(f"the daemon did not answer on {paths.socket} within {timeout:.0f} s (see {paths.log_file})")
    finally:
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        os.close(lock_fd)
