"""A reply's tool activity in the REPL: one line per call between the reply's text; approvals asked y/n/a.

The real REPL through prompt-toolkit's pipe input, the real daemon with the
calculator and a ``confirm = true`` tool on in every chat, the fake provider
asking for the calls.
"""

from __future__ import annotations

import json
import sys
import time

import pytest

from tests.conftest import daemon_home
from tests.fakes import Text, ToolCalls
from tests.repl.conftest import unique

PY = json.dumps(sys.executable)

# approval_timeout is long: a REPL that let the daemon wait would not finish the reply in the test's time.
TOOLS_CONFIG = f"""
[tools]
default = ["calculator", "stamp"]
max_rounds = 1
approval_timeout = 60

[tools.user.stamp]
description = "Stamp a text with a seal (needs the user's approval)"
command = [{PY}, "-c", "import json, sys; a = json.load(sys.stdin); print('STAMPED:' + a['text'])"]
parameters = {{ type = "object", properties = {{ text = {{ type = "string" }} }}, required = ["text"] }}
confirm = true
"""


@pytest.fixture(scope="module")
def live_home(live_fake):
    """This module's daemon: the REPL fixtures (tests/repl/conftest.py) use it."""
    with daemon_home(live_fake, TOOLS_CONFIG) as home:
        yield home


def tool_results(fake) -> list[str]:
    body = [r for r in fake.requests if r.method == "POST"][-1].json
    return [m["content"] for m in body["messages"] if m.get("role") == "tool"]


def test_a_call_is_one_line_between_the_reply_text(repl_driver, fake_clean):
    fake_clean.script(ToolCalls([("c1", "calculator", {"expression": "6*7"})], text_before="Let me **compute**."),
                      Text(["The answer is ", "**42**."]))
    r = repl_driver(chat=unique("calc"))
    mark = r.mark()
    r.line("What is 6*7?")
    r.wait_text("─ fake-model", after=mark)
    shown = r.text[mark:]
    # rindex: the scrollback, not the live tail drawn above the prompt while the text streams.
    before, call, after = (shown.rindex("Let me compute."), shown.index('⚙ calculator(expression="6*7") → 42 · '),
                           shown.rindex("The answer is 42."))
    assert before < call < after < shown.index("─ fake-model")
    assert "compute.The answer" not in shown  # the first round's block was ended, not run on into the next
    assert shown.count("⚙ calculator(") == 1  # collapsed: one line per call, once it has its result
    assert " ms\n" in shown[call:after]  # a line of its own
    assert tool_results(fake_clean) == ["42"]
    # Dim, like the REPL's other notes; the Markdown around it still rendered (bold, no asterisks).
    assert '\x1b[2m⚙ calculator(expression="6*7") → 42 · ' in r.out.text
    assert "**" not in shown


def test_the_round_limit_is_one_notice(repl_driver, fake_clean):
    fake_clean.script(ToolCalls([("c1", "calculator", {"expression": "1+1"})]),
                      ToolCalls([("c2", "calculator", {"expression": "2+2"})]))
    r = repl_driver(chat=unique("limit"))
    mark = r.mark()
    r.line("Keep computing")
    r.wait_text("─ fake-model", after=mark)
    shown = r.text[mark:]
    assert '⚙ calculator(expression="1+1") → 2 · ' in shown
    # Over the limit: not run; its result says so (as `chatthy ask` shows it), then one notice.
    assert "⚙ calculator() → skipped: not run: the limit of tool rounds" in shown
    assert "2+2" not in shown
    notices = [line for line in shown.splitlines() if line.startswith("chatthy: ")]
    assert len(notices) == 1 and "1" in notices[0], shown


def ask_for_a_stamp(r, fake, mark):
    fake.script(ToolCalls([("s1", "stamp", {"text": "hello"})]), Text(["Done."]))
    r.line("Stamp hello")
    r.wait_text('⚙ the model wants to run stamp(text="hello") (no answer in 60 s = no)', after=mark)
    r.wait_text("run stamp? [y]es / [n]o / [a]lways in this chat ›", after=mark)


def test_y_runs_a_tool_that_asks(repl_driver, fake_clean):
    r = repl_driver(chat=unique("stamp-yes"))
    mark = r.mark()
    ask_for_a_stamp(r, fake_clean, mark)
    r.line("y", busy_ok=True)  # the reply waits for the answer
    r.wait_text("─ fake-model", after=mark, timeout=20)
    shown = r.text[mark:]
    asked, ran = shown.index("the model wants to run"), shown.index('⚙ stamp(text="hello") → STAMPED:hello · ')
    assert asked < ran < shown.rindex("Done.")  # rindex: the scrollback, not the live tail above the prompt
    assert tool_results(fake_clean) == ["STAMPED:hello\n"]
    r.wait_idle()
    assert r.repl.modes.approval is None


def test_n_refuses_it_and_the_model_is_told(repl_driver, fake_clean):
    r = repl_driver(chat=unique("stamp-no"))
    mark = r.mark()
    started = time.monotonic()
    ask_for_a_stamp(r, fake_clean, mark)
    r.line("n", busy_ok=True)
    r.wait_text("─ fake-model", after=mark, timeout=20)
    assert time.monotonic() - started < 15  # answered, not waited out (approval_timeout = 60)
    assert '⚙ stamp(text="hello") → refused: not run: the user said no · ' in r.text[mark:]
    assert tool_results(fake_clean) == ["not run: the user said no"]


def test_always_runs_it_and_stops_asking_in_this_chat(repl_driver, fake_clean):
    r = repl_driver(chat=unique("stamp-always"))
    mark = r.mark()
    ask_for_a_stamp(r, fake_clean, mark)
    r.line("always", busy_ok=True)  # the word works too
    r.wait_text("─ fake-model", after=mark, timeout=20)
    assert tool_results(fake_clean) == ["STAMPED:hello\n"]
    mark = r.mark()
    fake_clean.script(ToolCalls([("s2", "stamp", {"text": "again"})]), Text(["Again."]))
    r.line("Stamp again")
    r.wait_text("─ fake-model", after=mark, timeout=20)
    assert "the model wants to run" not in r.text[mark:] and "stamp wants to run" not in r.text[mark:]
    assert tool_results(fake_clean)[-1] == "STAMPED:again\n"  # earlier rounds are history


def test_enter_alone_is_no_and_other_text_is_not_an_answer(repl_driver, fake_clean):
    r = repl_driver(chat=unique("stamp-enter"))
    mark = r.mark()
    ask_for_a_stamp(r, fake_clean, mark)
    r.line("what does it stamp?", busy_ok=True)  # a question, not an answer: kept for later
    r.wait_text("a reply is still streaming", after=mark)
    assert r.repl.modes.approval is not None
    r.send("\x15")  # Ctrl-U: the kept question goes
    r.line("", busy_ok=True)
    r.wait_text("─ fake-model", after=mark, timeout=20)
    assert tool_results(fake_clean) == ["not run: the user said no"]


def test_ctrl_c_cancels_the_reply_and_the_question(repl_driver, live_home, fake_clean):
    r = repl_driver(chat=unique("stamp-cancel"))
    mark = r.mark()
    ask_for_a_stamp(r, fake_clean, mark)
    r.send("\x03")
    r.wait_text("cancelled: the partial reply is kept", after=mark, timeout=20)
    r.wait_idle()
    assert r.repl.modes.approval is None
    assert "run stamp?" not in r.text[r.mark() - 200:]
