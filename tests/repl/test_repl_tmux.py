"""The REPL in a real terminal (tmux), against the real daemon and the fake provider."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import CHATTHY
from tests.fakes import Text
from tests.repl import tmux as tmux_mod
from tests.repl.conftest import unique
from tests.repl.tmux import Tmux, strip_ansi

pytestmark = pytest.mark.skipif(
    not tmux_mod.available(),
    reason="tmux is not installed: the end-to-end REPL tests need a real terminal (apt-get install tmux)")

CODE_REPLY = "Here:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nThat is $\\alpha^2$.\n"


@pytest.fixture
def terminal(live_home):
    sessions: list[Tmux] = []

    def start(*args: str, color: bool = True) -> Tmux:
        env = dict(live_home.env)
        if color:
            env.pop("NO_COLOR", None)
        t = Tmux(live_home.root, env)
        t.socket = str(live_home.root / f"{unique('tmux')}.sock")
        sessions.append(t)
        t.start([CHATTHY, "repl", *args])
        t.wait_text("/help for commands")
        return t

    yield start
    for t in sessions:
        t.kill()


def chat_messages(home, name: str) -> list[dict]:
    return json.loads(home.run("chat", "show", name, "--json", check=True).stdout)["messages"]


def test_code_is_highlighted_and_copy_reaches_the_clipboard(terminal, live_home, fake_clean):
    fake_clean.script(Text([CODE_REPLY[i:i + 4] for i in range(0, len(CODE_REPLY), 4)], delay=0.01))
    t = terminal("-c", unique("tmux-code"))
    t.type("show me code")
    t.keys("Enter")
    t.wait_text("─ fake-model")
    screen = t.capture(escapes=True)
    line = next(line for line in screen.split("\n") if "add" in line and "def" in line)
    assert re.search(r"\x1b\[[0-9;]*38;5;\d+[0-9;]*mdef", line), repr(line)  # a coloured keyword
    assert "That is α²." in strip_ansi(screen)
    t.type("/copy 1")
    t.keys("Enter")
    t.wait_text("copied code block 1")
    assert t.buffer() == "def add(a, b):\n    return a + b\n"  # tmux received the OSC 52


def test_ctrl_c_cancels_and_ctrl_d_quits(terminal, live_home, fake_clean):
    name = unique("tmux-cancel")
    fake_clean.script(Text(["blah "] * 400, delay=0.03))
    t = terminal("-c", name)
    t.type("go on")
    t.keys("Enter")
    t.wait_text("blah blah blah")
    t.keys("C-c")
    t.wait_text("cancelled: the partial reply is kept")
    assert chat_messages(live_home, name)[-1]["status"] == "cancelled"
    t.keys("C-c")  # at an empty prompt: stays
    t.wait_text("Ctrl-D or /quit to leave")
    t.keys("C-d")
    t.wait_text("[exited 0]")


def test_edit_and_resend_replaces_the_question(terminal, live_home, fake_clean):
    name = unique("tmux-edit")
    t = terminal("-c", name)
    t.type("teh question")
    t.keys("Enter")
    t.wait_text("You said: teh question")
    t.wait_text("─ fake-model")  # the reply's end: /edit waits for it
    t.type("/edit")
    t.keys("Enter")
    t.wait_text("edit › teh question")
    t.keys("C-u")  # emacs: clear the line
    t.type("the question")
    t.wait_text("edit › the question")
    t.keys("Enter")
    t.wait_text("You said: the question")
    assert [m["content"] for m in chat_messages(live_home, name)] == ["the question", "You said: the question"]


def test_another_clients_message_appears_live_and_once(terminal, live_home, fake_clean):
    name = unique("tmux-live")
    live_home.run("ask", "-c", name, "hello", check=True)
    t = terminal("-c", name)
    t.wait_text("You said: hello")
    fake_clean.script(Text([f"part{i} " for i in range(25)] + ["\n"], delay=0.02))
    out = live_home.run("ask", "-c", name, "from another terminal")
    assert out.returncode == 0, out.stderr
    screen = strip_ansi(t.wait_text("part24"))
    assert "› from another terminal" in screen
    t.wait_text("─ fake-model", )
    final = strip_ansi(t.capture())
    assert final.count("part0 part1") == 1 and final.count("› from another terminal") == 1
