"""Fixtures for the REPL tests: one daemon per module, REPLs driven through a pipe.

``repl_driver`` runs the real ``Repl`` (prompt-toolkit, the real daemon, the
fake provider) in a thread, with prompt-toolkit's pipe input as its keyboard
and a captured VT100 output as its terminal.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output.vt100 import Vt100_Output

from tests.conftest import Home, daemon_home
from tests.fakes import FakeProviderServer
from tests.repl.tmux import strip_ansi

F2, F3, F4 = "\x1bOQ", "\x1bOR", "\x1bOS"
ENTER, ALT_ENTER, CTRL_C, CTRL_D, CTRL_R, ESC = "\r", "\x1b\r", "\x03", "\x04", "\x12", "\x1b"


class Captured:
    """A terminal's output side: everything written, kept for the test to read."""

    encoding = "utf-8"

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._lock = threading.Lock()

    def write(self, data: str) -> int:
        with self._lock:
            self._parts.append(data)
        return len(data)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("captured output has no file descriptor")

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)


class CapturedVt100(Vt100_Output):
    """A VT100 terminal whose free height is known without asking it (no CPR
    round trip through the pipe), so the bottom toolbar is drawn."""

    def get_rows_below_cursor_position(self) -> int:
        return 30


class ReplDriver:
    def __init__(self, home: Home, options, *, columns: int = 100) -> None:
        from chatthy.paths import Paths

        self.home = home
        self.options = options
        self.paths = Paths(home.config_dir, home.data_dir, home.state_dir, home.socket)
        self.out = Captured()
        self.columns = columns
        self.repl = None
        self.result: int | None = None
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._pipe = None

    def _run(self) -> None:
        from chatthy.repl.app import Repl

        try:
            with create_pipe_input() as pipe:
                self._pipe = pipe
                output = CapturedVt100(self.out, lambda: Size(rows=40, columns=self.columns),
                                      term="xterm-256color", enable_cpr=False)
                with create_app_session(input=pipe, output=output):
                    self.repl = Repl(self.options, self.paths, autostart=False, input=pipe, output=output)
                    self._ready.set()
                    self.result = asyncio.run(self.repl.run())
        except BaseException as exc:  # reported by stop()/wait_*
            self.error = exc
        finally:
            self._ready.set()

    def start(self) -> ReplDriver:
        self._thread.start()
        self._ready.wait(10)
        self.wait_for(lambda text: "/help for commands" in text, what="the welcome line")
        return self

    @property
    def text(self) -> str:
        return strip_ansi(self.out.text)

    def send(self, keys: str) -> None:
        self._pipe.send_text(keys)

    def line(self, text: str, *, busy_ok: bool = False) -> None:
        """Type ``text`` and Enter. Waits first until no reply is streaming, as a
        person reads the end of a reply before typing: the REPL refuses messages
        and history-changing commands while one streams, and the last chunk shows
        a moment before the reply's end arrives. ``busy_ok``: type at once."""
        if not busy_ok:
            self.wait_idle()
        self.send(text + ENTER)

    def wait_idle(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while self.repl is not None and self.repl.live.streaming:
            if self.error is not None or time.monotonic() > deadline:
                raise AssertionError(f"the reply did not finish; output:\n{self.text[-3000:]}")
            time.sleep(0.01)

    def wait_for(self, predicate, *, timeout: float = 15, what: str = "", raw: bool = False) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise AssertionError(f"the REPL failed: {self.error!r}")
            text = self.out.text if raw else self.text
            if predicate(text):
                return text
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what or predicate}; output:\n{self.text[-3000:]}")

    def wait_text(self, needle: str, *, after: int = 0, **kw) -> str:
        return self.wait_for(lambda t: needle in t[after:], what=repr(needle), **kw)

    def mark(self) -> int:
        return len(self.text)

    def stop(self, timeout: float = 10) -> int | None:
        if self._thread.is_alive() and self._pipe is not None:
            try:
                self.send(CTRL_C + CTRL_D)
            except OSError:
                pass
            self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("the REPL did not exit on Ctrl-D")
        if self.error is not None:
            raise self.error
        return self.result

    def exited(self, timeout: float = 10) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


@pytest.fixture(scope="module")
def live_fake():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def live_home(live_fake):
    """A home with a daemon for the whole module (tests use their own chats)."""
    with daemon_home(live_fake) as home:
        yield home


@pytest.fixture
def fake_clean(live_fake):
    live_fake.clear()
    return live_fake


@pytest.fixture
def repl_driver(live_home):
    """``start(**options)`` → a running ReplDriver; all are stopped at the end."""
    from chatthy.repl.state import ReplOptions

    drivers: list[ReplDriver] = []

    def start(*, columns: int = 100, **options) -> ReplDriver:
        options.setdefault("color", True)
        driver = ReplDriver(live_home, ReplOptions(**options), columns=columns).start()
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        driver.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{time.monotonic_ns()}"


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
