"""Socket activation: the daemon serves a listening socket handed over the way systemd does it.

systemd binds the socket, then runs the service with the socket as fd 3,
LISTEN_FDS=1 and LISTEN_PID set to the service's own pid. A small wrapper
does the same here: it moves the socket to fd 3, sets the variables with its
pid, and execs ``python -m chatthy.server`` (exec keeps the pid).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

WRAPPER = """\
import os, sys
fd = int(sys.argv[1])
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = sys.argv[2] if len(sys.argv) > 2 else str(os.getpid())
os.execv(sys.executable, [sys.executable, "-m", "chatthy.server"])
"""


def listening_socket(path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    os.chmod(path, 0o600)
    sock.listen(64)
    return sock


def activate(home, sock, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRAPPER, str(sock.fileno()), *extra], pass_fds=(sock.fileno(),),
                            env=home.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    proc.stderr.close()


def test_the_daemon_serves_the_socket_it_is_given(home, fake):
    home.root.joinpath("state").mkdir(mode=0o700)
    sock = listening_socket(home.socket)
    inode = home.socket.stat().st_ino
    try:
        proc = activate(home, sock)
        try:
            status = json.loads(home.run("daemon", "status", "--json", check=True).stdout)
            assert status["pid"] == proc.pid  # the wrapper exec'd the daemon: same pid
            assert status["socket_activated"] is True
            home.run("ask", "-c", "activated", "hello", check=True)
            assert home.socket.stat().st_ino == inode  # served, not re-bound
        finally:
            stop(proc)
        # systemd owns the socket: the daemon leaves it in place when it stops ...
        assert home.socket.exists() and home.socket.stat().st_ino == inode
        # ... and a client connecting now waits in its backlog until the next start.
        proc = activate(home, sock)
        try:
            again = home.run("ask", "-c", "activated", "--new", "hello")
            assert again.returncode == 8 and "exists" in again.stderr  # the chat from the first run
        finally:
            stop(proc)
    finally:
        sock.close()


def test_sockets_meant_for_another_process_are_ignored(home, fake):
    """LISTEN_PID names another process: the daemon binds the path itself, and finds it taken."""
    home.root.joinpath("state").mkdir(mode=0o700)
    sock = listening_socket(home.socket)
    try:
        proc = activate(home, sock, "1")
        try:
            assert proc.wait(30) == 8  # Conflict: "already listening" (our socket answers)
            assert "already listening" in proc.stderr.read().decode()
        finally:
            stop(proc)
    finally:
        sock.close()
