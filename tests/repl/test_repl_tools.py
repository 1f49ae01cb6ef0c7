"""A reply's tool activity in the REPL: one line per call between the reply's text; approvals refused at once.

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


def test_an_approval_is_refused_at_once_with_a_hint(repl_driver, fake_clean):
    fake_clean.script(ToolCalls([("s1", "stamp", {"text": "hello"})]), Text(["Not stamped."]))
    r = repl_driver(chat=unique("stamp"))
    mark = r.mark()
    started = time.monotonic()
    r.line("Stamp hello")
    r.wait_text("─ fake-model", after=mark, timeout=20)
    took = time.monotonic() - started
    shown = r.text[mark:]
    hint = shown.index("tool stamp needs approval: refused (use `chatthy ask -y` or set confirm = false)")
    line = shown.index('⚙ stamp(text="hello") → refused: not run: the user said no · ')
    assert hint < line < shown.rindex("Not stamped.")  # rindex: the scrollback, not the live tail above the prompt
    assert took < 15  # answered, not waited out (approval_timeout = 60)
    assert tool_results(fake_clean) == ["not run: the user said no"]
    assert "STAMPED" not in shown
