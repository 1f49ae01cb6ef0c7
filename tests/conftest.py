"""Shared fixtures: a temporary chatthy home, the fake provider server, the daemon.

Everything is real: the daemon is `python -m chatthy.server` in a subprocess,
the client is the installed `chatthy` command, the providers are HTTP servers
on 127.0.0.1 speaking each API's streaming format.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes.provider_server import FakeProviderServer

CHATTHY = str(Path(sys.executable).with_name("chatthy"))

FAKE_CONFIG = """\
default_provider = "fake"

[providers.fake]
kind = "openai"
base_url = "{openai}"
api_key_env = "FAKE_API_KEY"
model = "fake-model"
context_length = 8192
max_tokens = 512
max_retries = 0
timeout = 10

[providers.fakeant]
kind = "anthropic"
base_url = "{anthropic}"
api_key_env = "FAKE_API_KEY"
model = "claude-fake"
context_length = 8192
max_tokens = 512
max_retries = 0
timeout = 10
"""


@dataclass
class Home:
    """A chatthy instance's directories and the environment that points at them."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def socket(self) -> Path:
        return self.root / "s.sock"

    @property
    def database(self) -> Path:
        return self.data_dir / "chatthy.db"

    def run(self, *args: str, input: str | bytes | None = None, timeout: float = 60, check: bool = False):
        """Run the real `chatthy` command; returns CompletedProcess (text mode)."""
        proc = subprocess.run(
            [CHATTHY, *args], input=input.encode() if isinstance(input, str) else input,
            env=self.env, capture_output=True, timeout=timeout,
        )
        out = subprocess.CompletedProcess(proc.args, proc.returncode,
                                          proc.stdout.decode("utf-8", "replace"),
                                          proc.stderr.decode("utf-8", "replace"))
        if check and out.returncode != 0:
            raise AssertionError(f"chatthy {' '.join(args)} exited {out.returncode}: {out.stderr}")
        return out

    def popen(self, *args: str, **kw) -> subprocess.Popen:
        return subprocess.Popen([CHATTHY, *args], env=self.env, **kw)

    def daemon_pid(self) -> int | None:
        try:
            text = (self.state_dir / "daemon.pid").read_text().strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def stop_daemon(self) -> None:
        pid = self.daemon_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            if not self.socket.exists():
                time.sleep(0.05)
                return
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def fake():
    with FakeProviderServer() as server:
        yield server


def make_home(fake: FakeProviderServer | None) -> Home:
    # Short root under /tmp: Unix socket paths are limited to ~107 bytes.
    root = Path(tempfile.mkdtemp(prefix="cht-", dir="/tmp"))
    home = Home(root)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CHATTHY_", "OPENAI_", "ANTHROPIC_", "XDG_"))}
    env.update(
        HOME=str(root),
        CHATTHY_CONFIG_DIR=str(home.config_dir),
        CHATTHY_DATA_DIR=str(home.data_dir),
        CHATTHY_STATE_DIR=str(home.state_dir),
        CHATTHY_SOCKET=str(home.socket),
        FAKE_API_KEY="sk-test-fake",
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
    )
    home.env = env
    if fake is not None:
        home.config_dir.mkdir(mode=0o700, parents=True)
        (home.config_dir / "config.toml").write_text(
            FAKE_CONFIG.format(openai=fake.openai_base_url, anthropic=fake.anthropic_base_url))
    return home


@pytest.fixture
def home(fake):
    h = make_home(fake)
    try:
        yield h
    finally:
        h.stop_daemon()
        shutil.rmtree(h.root, ignore_errors=True)


def db_rows(home: Home, sql: str, args=()) -> list[tuple]:
    """Read the daemon's database directly (read-only; WAL lets it while the daemon writes)."""
    db = sqlite3.connect(f"file:{home.database}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def start_daemon(home: Home) -> subprocess.Popen:
    """`chatthy serve` for ``home``, returned once its socket exists."""
    proc = subprocess.Popen([CHATTHY, "serve", "--no-log-stderr"], env=home.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not home.socket.exists():
        if proc.poll() is not None:
            raise AssertionError(f"daemon exited: {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("daemon did not create its socket in 30 s")
        time.sleep(0.02)
    return proc


def stop_daemon(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stderr.close()


@contextlib.contextmanager
def running_daemon(home: Home):
    """A daemon for ``home`` (module-scoped fixtures use this), always stopped."""
    proc = start_daemon(home)
    try:
        yield proc
    finally:
        stop_daemon(proc)


@contextlib.contextmanager
def daemon_home(fake: FakeProviderServer | None, extra_config: str = ""):
    """A module's home: ``extra_config`` appended to its config.toml, its daemon running; all removed after."""
    home = make_home(fake)
    if extra_config:
        with (home.config_dir / "config.toml").open("a") as fh:
            fh.write(extra_config)
    try:
        with running_daemon(home):
            yield home
    finally:
        shutil.rmtree(home.root, ignore_errors=True)


@pytest.fixture
def daemon(home):
    """A daemon started explicitly (`chatthy serve`), waited for, always stopped."""
    with running_daemon(home) as proc:
        yield proc
