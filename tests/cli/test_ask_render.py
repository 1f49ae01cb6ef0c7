"""``chatthy ask`` on a real terminal renders the reply; through a pipe it is the model's text exactly.

The terminals are real: a pty the test reads byte by byte (what chatthy
writes), and tmux for what the screen finally shows (a streamed reply is
redrawn in place, so only a terminal emulator knows what is left on screen).
The daemon and the fake provider are real and shared by the module.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from typing import Callable

import pytest

from tests.conftest import CHATTHY, make_home, running_daemon
from tests.fakes import FakeProviderServer, Text, ToolCalls
from tests.repl import tmux as tmux_mod
from tests.repl.tmux import Tmux, strip_ansi

SGR = re.compile(rb"\x1b\[[0-9;]*m")
CURSOR_MOVES = re.compile(rb"\x1b\[[0-9]*[ABJK]")

REPLY = ("Some **bold** words and $\\alpha^2$ in a line.\n\n"
         "```python\ndef add(a, b):\n    return a + b\n```\n\nDone, *really*.")

# Makes the pty the controlling terminal of the command it runs: a \x03 typed on it is a real Ctrl-C.
CONTROLLING_TTY = ("import fcntl, os, sys, termios; os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                   "os.execv(sys.argv[1], sys.argv[1:])")


def pieces(text: str, size: int = 3) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


@pytest.fixture(scope="module")
def shared_fake():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def rhome(shared_fake):
    home = make_home(shared_fake)
    with running_daemon(home):
        yield home
    shutil.rmtree(home.root, ignore_errors=True)


@pytest.fixture
def fake(shared_fake):
    """The module's fake provider, emptied for each test (conftest's ``home`` uses it too)."""
    shared_fake.clear()
    yield shared_fake
    shared_fake.clear()


def colour_env(home, **extra) -> dict:
    env = {k: v for k, v in home.env.items() if k not in ("NO_COLOR", "COLORTERM", "CHATTHY_STYLE")}
    env.update({"TERM": "xterm-256color", **extra})
    return env


def stored_reply(home, chat: str) -> dict:
    return json.loads(home.run("chat", "show", chat, "--json", check=True).stdout)["messages"][-1]


# -- a pty -----------------------------------------------------------------------------------


@dataclass
class PtyRun:
    returncode: int
    out: bytes  # everything written on the terminal, as the terminal received it ("\n" arrives as "\r\n")
    err: str  # stderr, when it was not the terminal

    @property
    def text(self) -> str:
        return self.out.decode("utf-8", "replace").replace("\r\n", "\n")


def on_pty(argv: list[str], env: dict, *, columns: int | None = 80, stderr_on_tty: bool = False,
           controlling: bool = False, when: tuple[bytes, Callable[[int], None]] | None = None,
           timeout: float = 20) -> PtyRun:
    """Run ``argv`` with stdin and stdout (and stderr if asked) on a new pty; read it to the end.

    ``controlling``: the pty is the command's controlling terminal, so a \x03
    typed on it is a real Ctrl-C (SIGINT from the terminal). ``when=(BYTES,
    action)``: once BYTES have appeared, ``action(master_fd)`` is done, once.
    ``columns=None`` leaves the pty without a size (0×0, as a fresh pty reports).
    """
    master, slave = os.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    if controlling:
        argv = [sys.executable, "-c", CONTROLLING_TTY, *argv]
    proc = subprocess.Popen(argv, env=env, stdin=slave, stdout=slave,
                            stderr=slave if stderr_on_tty else subprocess.PIPE, start_new_session=not controlling)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every end of the terminal's slave side is closed
                    break
                if not chunk:
                    break
                seen += chunk
            if when is not None and when[0] in seen:
                when[1](master)
                when = None
        else:
            proc.kill()
            raise AssertionError(f"{argv} did not finish in {timeout} s; got {seen[-500:]!r}")
        proc.wait(10)
    finally:
        os.close(master)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    return PtyRun(proc.returncode, seen, err)


def type_ctrl_c(master: int) -> None:
    os.write(master, b"\x03")


def ask_on_pty(home, *args: str, env: dict | None = None, **kw) -> PtyRun:
    return on_pty([CHATTHY, "ask", *args], env if env is not None else colour_env(home), **kw)


# -- tmux: what the screen shows --------------------------------------------------------------

needs_tmux = pytest.mark.skipif(
    not tmux_mod.available(), reason="tmux is not installed: these tests need a terminal emulator (apt-get install tmux)")


@pytest.fixture
def screen(rhome):
    sessions: list[Tmux] = []

    def start(*args: str, width: int = 70) -> Tmux:
        t = Tmux(rhome.root, colour_env(rhome), width=width, height=30)
        t.socket = str(rhome.root / f"tmux-{os.urandom(4).hex()}.sock")  # one server per session
        sessions.append(t)
        t.start([CHATTHY, *args])
        return t

    yield start
    for t in sessions:
        t.kill()


@needs_tmux
def test_a_terminal_shows_markdown_highlighted_code_and_latex_while_the_chat_keeps_the_text(rhome, fake, screen):
    fake.script(Text(pieces(REPLY), delay=0.005))
    t = screen("ask", "-c", "shown", "show me")
    t.wait_text("[exited 0]")
    shown = t.capture(escapes=True)
    plain = strip_ansi(shown)
    assert "Some bold words and α² in a line." in plain
    assert "Done, really." in plain
    assert "**" not in plain and "$" not in plain and "\\alpha" not in plain
    assert "def add(a, b):" in plain and "return a + b" in plain
    code = next(line for line in shown.split("\n") if "add" in line and "def" in line)
    assert re.search(r"\x1b\[[0-9;]*38;5;\d+[0-9;]*mdef", code), repr(code)  # the keyword is coloured
    bold = next(line for line in shown.split("\n") if "bold" in line)
    assert re.search(r"\x1b\[[0-9;]*\b1[0-9;]*mbold", bold), repr(bold)
    assert stored_reply(rhome, "shown")["content"] == REPLY  # on screen only


@needs_tmux
def test_tool_lines_come_between_the_rounds_text_on_the_terminal(rhome, fake, screen):
    fake.script(ToolCalls([("c1", "calculator", {"expression": "6*7"})], text_before="Let me **compute** that."),
                Text(pieces("The answer is **42**.\n")))
    t = screen("ask", "-c", "tooled", "-T", "calculator", "what is 6*7?")
    t.wait_text("[exited 0]")
    lines = [line.rstrip() for line in strip_ansi(t.capture()).split("\n")]
    start = lines.index("Let me compute that.")
    assert lines[start + 1].startswith('⚙ calculator(expression="6*7") → 42 · '), lines
    assert lines[start + 2:start + 4] == ["", "The answer is 42."], lines
    assert stored_reply(rhome, "tooled")["content"] == "Let me **compute** that.\n\nThe answer is **42**.\n"


@needs_tmux
def test_a_tool_line_never_lands_inside_a_block_still_being_drawn(rhome, fake, screen):
    """An open display-math block is drawn provisionally; it steps aside for the tool line, then comes back."""
    fake.script(ToolCalls([("c1", "calculator", {"expression": "6*7"})], text_before="Consider\n$$\n\\alpha + \\beta"),
                Text(["$$\nSo **42**.\n"]))
    t = screen("ask", "-c", "mathtool", "-T", "calculator", "hi")
    t.wait_text("[exited 0]")
    lines = [line.rstrip() for line in strip_ansi(t.capture()).split("\n")]
    tool = next(i for i, line in enumerate(lines) if "calculator(" in line)
    assert lines[tool].startswith("⚙ calculator"), lines
    assert [line.strip() for line in lines[tool + 1:tool + 3]] == ["α + β", "So 42."], lines
    assert not any("\\alpha" in line for line in lines), lines


def test_what_steps_aside_for_a_tool_line_is_back_while_the_tool_runs(rhome, fake):
    fake.script(ToolCalls([("c1", "calculator", {"expression": "6*7"})], text_before="Consider\n$$\n\\alpha + \\beta"),
                Text(["$$\nSo.\n"]))
    run = ask_on_pty(rhome, "-c", "back", "-T", "calculator", "--verbose", "-q", "hi", stderr_on_tty=True)
    assert run.returncode == 0, run.err
    called, answered = run.text.index("⚙ calculator (round"), run.text.index("⚙ calculator →")
    assert "beta" in run.text[called:answered]  # drawn again right after the call was shown


# -- bytes on a pty ------------------------------------------------------------------------------


def test_raw_on_a_terminal_is_the_text_as_written_with_control_characters_shown(rhome, fake):
    reply = "**bold** $x^2$ \x1b[31mred\x1b[0m\n"
    for flag in ("--raw", "-r"):
        fake.script(Text(pieces(reply)))
        run = ask_on_pty(rhome, "-c", "raw", "-q", flag, "hi")
        assert run.returncode == 0, run.err
        assert run.text == "**bold** $x^2$ ^[[31mred^[[0m\n"  # neutralised: shown, not obeyed
    fake.script(Text(pieces(reply)))
    rendered = ask_on_pty(rhome, "-c", "raw", "-q", "hi")
    assert SGR.search(rendered.out) and "x²" in rendered.text and "^[[31m" in rendered.text


def test_a_pipe_gets_the_reply_exactly_and_never_loads_the_renderer(rhome, fake):
    reply = REPLY + " \x1b[1m<- an escape, passed on"
    for fast in (True, False):
        env = dict(rhome.env) if fast else {**rhome.env, "CHATTHY_NO_FASTPATH": "1"}
        env.pop("NO_COLOR")
        fake.script(Text(pieces(reply)))
        out = subprocess.run([sys.executable, "-X", "importtime", CHATTHY, "--color", "always", "ask", "-c", "piped",
                              "hi"], env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout == (reply + "\n").encode()  # as before: the text, a newline to end it
        assert imported(out.stderr.decode()) & {"chatthy.render", "pygments"} == set()
    # The same check sees the renderer when the reply goes to a terminal.
    fake.script(Text(pieces(reply)))
    run = on_pty([sys.executable, "-X", "importtime", CHATTHY, "ask", "-c", "piped", "hi"], colour_env(rhome))
    assert run.returncode == 0, run.err
    assert {"chatthy.render", "pygments"} <= imported(run.err)


def imported(importtime: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in importtime.splitlines() if line.startswith("import time:")}


def test_no_stream_on_a_terminal_draws_the_finished_reply_once(rhome, fake):
    reply = "A **bold** claim, $\\frac{1}{2}$ of it,\nover *two* lines"
    fake.script(Text(pieces(reply, 2), delay=0.002))
    run = ask_on_pty(rhome, "-c", "whole", "-q", "--no-stream", "hi")
    assert run.returncode == 0, run.err
    assert CURSOR_MOVES.search(run.out) is None and b"\r" not in run.out.replace(b"\r\n", b"")  # never redrawn
    assert re.search(rb"\x1b\[1mbold", run.out) and b"**" not in run.out and "½" in run.text
    assert strip_sgr(run.text).endswith("over two lines\n")
    # Streamed, the same reply is redrawn as it grows (which --no-stream spares).
    fake.script(Text(pieces(reply, 2), delay=0.002))
    streamed = ask_on_pty(rhome, "-c", "whole", "-q", "hi")
    assert CURSOR_MOVES.search(streamed.out)
    assert strip_sgr(streamed.text).endswith("over two lines\n")


def strip_sgr(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_ctrl_c_mid_reply_cancels_keeps_the_text_and_leaves_the_terminal_clean(rhome, fake):
    fake.script(Text(["Going **on** and on "] * 300, delay=0.02))
    run = ask_on_pty(rhome, "-c", "cut", "go", controlling=True, when=(b" and on Going", type_ctrl_c), timeout=30)
    assert run.returncode == 130, run.err
    assert "cancelled: the partial reply is kept in the chat" in run.err
    # The last line was still being drawn: it is finished, the cursor on a fresh line, the style reset.
    assert run.out.endswith(b"\r\n"), run.out[-200:]
    assert SGR.findall(run.out)[-1] == b"\x1b[0m"
    reply = stored_reply(rhome, "cut")
    assert reply["status"] == "cancelled"
    assert reply["content"].startswith("Going **on** and on Going **on**")
    assert len(reply["content"]) < 300 * len("Going **on** and on ")


def test_colour_follows_color_and_no_color_and_the_style_the_repl_uses(rhome, fake):
    from pygments.token import Keyword

    from chatthy.render.theme import Theme

    reply = "```python\ndef f():\n    pass\n```\n**b** $\\alpha$\n"

    def ask(*global_options: str, stderr_on_tty: bool = False, **env: str) -> PtyRun:
        fake.script(Text([reply]))
        run = on_pty([CHATTHY, *global_options, "ask", "-c", "colours", "-q", "hi"], colour_env(rhome, **env),
                     stderr_on_tty=stderr_on_tty)
        assert run.returncode == 0, run.err
        return run

    plain = ask(NO_COLOR="1")
    assert SGR.search(plain.out) is None
    assert "**b** α" in plain.text  # no colour: the Markdown as written (as in the REPL), the maths converted
    assert SGR.search(ask("--color", "never").out) is None
    assert SGR.search(ask(NO_COLOR="").out)  # empty means unset (no-color.org)
    assert SGR.search(ask("--color", "always", NO_COLOR="1").out)
    for style in ("friendly", "monokai"):
        keyword = Theme.from_style(style, truecolor=False).token(Keyword)
        assert f"\x1b[{keyword}mdef".encode() in ask(CHATTHY_STYLE=style).out, style
    odd = ask(CHATTHY_STYLE="no-such-style", stderr_on_tty=True)  # said on the terminal; the default style used
    assert "CHATTHY_STYLE is ignored: unknown Pygments style 'no-such-style'" in odd.text
    assert f"\x1b[{Theme.from_style('monokai', truecolor=False).token(Keyword)}mdef".encode() in odd.out
    dumb = ask(TERM="dumb")  # e.g. Emacs' shell: no cursor movement, so the text as written
    assert dumb.text == reply


def test_a_terminal_that_does_not_know_its_width_gets_unwrapped_lines(rhome, fake):
    line = " ".join(f"word{i}" for i in range(30))
    fake.script(Text(pieces(line + "\n", 7)))
    run = ask_on_pty(rhome, "-c", "wide", "-q", "hi", columns=None)
    assert run.returncode == 0, run.err
    assert strip_sgr(run.text).endswith(line + "\n") and "\n" not in strip_sgr(run.text).rstrip("\n")


def test_chat_retry_and_edit_render_on_a_terminal_and_take_raw(rhome, fake):
    fake.script(Text(["first"]))
    rhome.run("ask", "-c", "again", "question", check=True)
    fake.script(Text(pieces("A **better** answer\n")))
    retried = on_pty([CHATTHY, "chat", "retry", "again", "-q"], colour_env(rhome))
    assert retried.returncode == 0, retried.err
    assert re.search(rb"\x1b\[1mbetter", retried.out) and strip_sgr(retried.text).endswith("A better answer\n")
    fake.script(Text(pieces("An **edited** answer\n")))
    edited = on_pty([CHATTHY, "chat", "edit", "again", "--text", "new question", "--raw", "-q"], colour_env(rhome))
    assert edited.returncode == 0, edited.err
    assert edited.text == "An **edited** answer\n"
    fake.script(Text(pieces("Raw **again**\n")))
    raw_retry = on_pty([CHATTHY, "chat", "retry", "again", "-r", "-q"], colour_env(rhome))
    assert raw_retry.text == "Raw **again**\n"
    assert stored_reply(rhome, "again")["content"] == "Raw **again**\n"


def test_ctrl_c_while_a_step_is_being_drawn_waits_for_the_step_to_end():
    """A real SIGINT inside a drawing step: the step runs to its end, then the interrupt is raised."""
    import signal

    from chatthy.cli.asking import HeldInterrupt

    held = HeldInterrupt()
    finished = False
    with pytest.raises(KeyboardInterrupt):
        with held:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the signal is handled in here, and held
            finished = True
    assert finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_reply_that_fails_midway_shows_its_text_then_the_error_on_a_line_of_its_own(rhome, fake):
    from tests.fakes import StreamError

    fake.script(StreamError(after_chunks=2, message="the model fell over"))
    run = ask_on_pty(rhome, "-c", "broken", "hi", stderr_on_tty=True)
    assert run.returncode != 0
    lines = strip_sgr(run.text).split("\n")
    error = next(i for i, line in enumerate(lines) if "error" in line)
    assert lines[error].startswith("chatthy: error: ") and "the model fell over" in lines[error], lines
    assert lines[error - 1].strip(), lines  # the text that came, ended on the line before


def test_a_daemon_that_dies_mid_reply_leaves_the_text_then_the_error_line(home, fake, daemon):
    fake.script(Text(["Half **a** reply "] * 200, delay=0.03))
    # SIGKILL: the reply's stream ends with no closing frame.
    run = ask_on_pty(home, "-c", "died", "hi", stderr_on_tty=True, when=(b"reply Half", lambda _: daemon.kill()))
    lines = strip_sgr(run.text).split("\n")
    error = next(i for i, line in enumerate(lines) if "error" in line)
    assert run.returncode == 3, lines
    assert lines[error].startswith("chatthy: error: the daemon stopped during the reply"), lines
    assert lines[error - 1].startswith("Half a reply Half a reply"), lines  # drawn, its line ended
