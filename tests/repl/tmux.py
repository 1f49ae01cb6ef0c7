"""A real terminal for end-to-end REPL tests: a private tmux server.

Every test session runs on its own tmux socket (``-S`` in the test's home),
so tests never touch the user's tmux and never collide with each other.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

TMUX = shutil.which("tmux") or "/usr/bin/tmux"
ANSI = re.compile(r"\x1b\[[0-9;:?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]")


def available() -> bool:
    return os.path.exists(TMUX) and os.access(TMUX, os.X_OK)


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


class Tmux:
    def __init__(self, root: Path, env: dict[str, str], *, width: int = 100, height: int = 40) -> None:
        self.socket = str(root / "tmux.sock")
        self.env = env
        self.width, self.height = width, height
        self.started = False

    def _tmux(self, *args: str, check: bool = True, timeout: float = 10) -> subprocess.CompletedProcess:
        out = subprocess.run([TMUX, "-S", self.socket, *args], capture_output=True, text=True,
                             timeout=timeout, env=self.env)
        if check and out.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args[:3])} failed ({out.returncode}): {out.stderr.strip()}")
        return out

    def start(self, command: list[str], *, clipboard: bool = True) -> Tmux:
        env_args = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items() if k.startswith(
            ("CHATTHY_", "HOME", "FAKE_", "NO_COLOR", "COLORTERM", "PYTHON", "PATH", "LANG", "LC_", "EDITOR", "VISUAL")))
        shell = f"env -i TERM=screen-256color {env_args} {' '.join(shlex.quote(c) for c in command)}; echo \"[exited $?]\"; sleep 30"
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", str(self.width), "-y", str(self.height),
                   shell)
        self.started = True
        self._tmux("set-option", "-g", "set-clipboard", "on" if clipboard else "off")
        self._tmux("set-option", "-g", "remain-on-exit", "on", check=False)
        # tmux moves a fully cleared screen into the history (prompt-toolkit clears
        # from the top row when it redraws); without this, captures show ghosts.
        self._tmux("set-option", "-g", "scroll-on-clear", "off", check=False)
        return self

    def keys(self, *keys: str, literal: bool = False) -> None:
        self._tmux("send-keys", "-t", "t", *(["-l"] if literal else []), *keys)

    def type(self, text: str) -> None:
        self.keys(text, literal=True)

    def capture(self, *, escapes: bool = False, history: bool = True) -> str:
        args = ["capture-pane", "-p", "-t", "t"]
        if escapes:
            args.append("-e")
        if history:
            args += ["-S", "-2000"]
        return self._tmux(*args).stdout

    def screen(self) -> str:
        return self.capture()

    def wait_for(self, predicate, *, timeout: float = 15, escapes: bool = False, what: str = "") -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.capture(escapes=escapes)
            if predicate(text):
                return text
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what or predicate}; screen:\n{strip_ansi(text)}")

    def wait_text(self, needle: str, **kw) -> str:
        return self.wait_for(lambda t: needle in strip_ansi(t), what=repr(needle), **kw)

    def buffer(self) -> str | None:
        out = self._tmux("show-buffer", check=False)
        return out.stdout if out.returncode == 0 else None

    def alive(self) -> bool:
        out = self._tmux("list-panes", "-t", "t", "-F", "#{pane_dead}", check=False)
        return out.returncode == 0 and out.stdout.strip() == "0"

    def kill(self) -> None:
        if self.started:
            self._tmux("kill-server", check=False)
            self.started = False
