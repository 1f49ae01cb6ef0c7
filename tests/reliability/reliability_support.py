"""What the security, reliability and fuzz tests share: a daemon process they
control (start, kill -9, restart, measure), raw frames, a byte-counting proxy,
the database read behind the daemon's back.

Not a test module; imported as ``tests.reliability.reliability_support``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import FAKE_CONFIG, Home, make_home

PYTHON = sys.executable


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def unix_answers(path: Path) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect(os.fspath(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


class DaemonProcess:
    """``python -m chatthy.server`` in ``home``: started, waited for, killed at will."""

    def __init__(self, home: Home, *args: str) -> None:
        self.home = home
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.tcp_port: int | None = None

    def start(self, timeout: float = 30.0) -> DaemonProcess:
        log = self.home.state_dir / "daemon.log"
        log_size = log.stat().st_size if log.exists() else 0
        self.proc = subprocess.Popen([PYTHON, "-m", "chatthy.server", *self.args], env=self.home.env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}: {self.proc.stderr.read().decode()}")
            return unix_answers(self.home.socket)

        wait_for(ready, timeout, what="the daemon's socket")
        # The socket listens before the database is open; "ready" is logged when requests are served.
        marker = f"daemon ready (pid {self.proc.pid})"
        wait_for(lambda: ready() and marker in log_text(self.home), timeout, what="the daemon to be ready")
        if any(a.startswith("--tcp") for a in self.args):
            def port():
                text = log.read_bytes()[log_size:].decode("utf-8", "replace") if log.exists() else ""
                m = re.search(r"listening on tcp \S+:(\d+)", text)
                return int(m.group(1)) if m else None

            self.tcp_port = wait_for(port, timeout, what="the TCP listener")
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_warm(self, timeout: float = 60.0) -> None:
        """Until the daemon has imported every provider SDK (~30 MiB): before measuring memory."""
        wait_for(lambda: "warm-up done" in log_text(self.home), timeout, 0.1, what="the daemon's warm-up")

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close()

    def _close(self) -> None:
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()

    def rss_kb(self) -> int:
        return rss_kb(self.pid)

    def workers_rss_kb(self) -> int:
        """Its children's RSS together: the provider workers."""
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == self.pid:
                        total += rss_kb(int(entry))
            except (OSError, ValueError, AssertionError):
                continue  # exited meanwhile
        return total

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> DaemonProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def new_home(fake, extra_config: str = "") -> Home:
    home = make_home(None)
    home.config_dir.mkdir(mode=0o700, parents=True)
    (home.config_dir / "config.toml").write_text(
        FAKE_CONFIG.format(openai=fake.openai_base_url, anthropic=fake.anthropic_base_url) + extra_config)
    return home


def remove_home(home: Home) -> None:
    home.stop_daemon()
    shutil.rmtree(home.root, ignore_errors=True)


def log_text(home: Home) -> str:
    path = home.state_dir / "daemon.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def db_query(home: Home, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the database behind the daemon's back (WAL allows it)."""
    import sqlean

    conn = sqlean.connect(f"file:{home.database}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# -- raw frames ---------------------------------------------------------------

def send_frame(sock: socket.socket, body: bytes) -> None:
    sock.sendall(struct.pack(">I", len(body)) + body)


def read_frame(sock: socket.socket) -> bytes | None:
    def exactly(n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            try:
                got = sock.recv(n - len(buf))
            except ConnectionResetError:
                return None
            if not got:
                return None
            buf += got
        return buf

    header = exactly(4)
    if header is None:
        return None
    return exactly(struct.unpack(">I", header)[0])


def closed_by_peer(sock: socket.socket, timeout: float = 10.0) -> bool:
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


# -- a TCP / Unix proxy that records and can cut ---------------------------------

class Proxy:
    """Forwards connections to ``target``, records every byte, cuts on demand.

    ``cut_after`` (bytes from the daemon to the client, on the first
    connection only) makes the proxy close both sides once that many have
    passed: a connection lost mid-stream, at an arbitrary byte.
    """

    def __init__(self, listen: socket.socket, connect, cut_after: int | None = None) -> None:
        self.listener = listen
        self.connect = connect
        self.cut_after = cut_after
        self.to_daemon = bytearray()
        self.to_client = bytearray()
        self.connections = 0
        self.cuts = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []

    @classmethod
    def tcp(cls, port: int, **kw) -> Proxy:
        listen = socket.create_server(("127.0.0.1", 0))
        return cls(listen, lambda: socket.create_connection(("127.0.0.1", port)), **kw)

    @classmethod
    def unix(cls, path: Path, target: Path, **kw) -> Proxy:
        listen = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listen.bind(os.fspath(path))
        listen.listen(16)

        def connect():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(os.fspath(target))
            return s

        return cls(listen, connect, **kw)

    @property
    def port(self) -> int:
        return self.listener.getsockname()[1]

    def __enter__(self) -> Proxy:
        self.listener.settimeout(0.1)
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for s in list(self._socks):
            try:
                s.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(5)
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
                number = self.connections
            upstream = self.connect()
            self._socks += [client, upstream]
            cut = self.cut_after if number == 1 else None
            for src, dst, record, limit in ((client, upstream, self.to_daemon, None),
                                            (upstream, client, self.to_client, cut)):
                t = threading.Thread(target=self._pump, args=(src, dst, record, limit, (client, upstream)),
                                     daemon=True)
                t.start()
                self._threads.append(t)

    def _pump(self, src, dst, record: bytearray, limit: int | None, pair) -> None:
        passed = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and passed + len(data) >= limit:
                    data = data[: limit - passed]
                    dst.sendall(data)
                    with self._lock:
                        record += data
                        self.cuts += 1
                    break
                dst.sendall(data)
                passed += len(data)
                with self._lock:
                    record += data
        except OSError:
            pass
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
