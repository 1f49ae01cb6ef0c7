"""Live chats: what other clients say in the chat appears in the REPL as it streams."""

from __future__ import annotations

import json
import time

from tests.fakes import Text
from tests.repl.conftest import unique


def wait(predicate, timeout: float = 15, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_message_from_another_client_appears_live(repl_driver, live_home, fake_clean):
    name = unique("live")
    live_home.run("ask", "-c", name, "opening", check=True)
    r = repl_driver(chat=name)
    r.wait_text("You said: opening")
    start = r.mark()
    live_home.run("ask", "-c", name, "from another terminal", check=True)
    r.wait_text("You said: from another terminal", after=start)
    r.wait_text("─ fake-model", after=start)  # the tail shows first; the scrollback rows follow
    shown = r.text[start:]
    assert "asked in another client" in shown and "› from another terminal" in shown


def test_two_repls_on_one_chat_see_each_other(repl_driver, fake_clean):
    name = unique("pair")
    a = repl_driver(chat=name)
    a.line("first from a")  # creates the chat
    a.wait_text("You said: first from a")
    b = repl_driver(chat=name)
    b.wait_text("You said: first from a")  # history on entering
    fake_clean.script(Text([f"chunk{i} " for i in range(30)], delay=0.02))
    mark_a = a.mark()
    b.line("hello from b")
    a.wait_text("chunk29", after=mark_a)
    a.wait_text("─ fake-model", after=mark_a)
    assert "› hello from b" in a.text[mark_a:]
    b.wait_text("chunk29")
    assert "chunk0 chunk1 chunk2" in a.text[mark_a:]  # from the start (the tmux test checks "once")


def test_joining_while_a_reply_streams_shows_it_from_the_start(repl_driver, live_home, fake_clean):
    name = unique("join")
    live_home.run("ask", "-c", name, "warm up", check=True)
    fake_clean.script(Text(["alpha "] + [f"w{i} " for i in range(40)] + ["omega"], delay=0.05))
    proc = live_home.popen("ask", "-c", name, "long answer please", stdout=-1, stderr=-1)
    try:
        wait(lambda: json.loads(live_home.run("chat", "show", name, "--json").stdout).get("generating"),
             what="the reply to start")
        time.sleep(0.5)  # several chunks have gone by
        r = repl_driver(chat=name)
        r.wait_text("omega")
        assert "alpha w0 w1" in r.text  # from its first chunk, not from where we joined
    finally:
        proc.communicate(timeout=30)


def test_ctrl_c_cancels_a_reply_started_elsewhere(repl_driver, live_home, fake_clean):
    name = unique("cancel-other")
    live_home.run("ask", "-c", name, "warm up", check=True)
    fake_clean.script(Text(["tick "] * 400, delay=0.03))
    r = repl_driver(chat=name)
    proc = live_home.popen("ask", "-c", name, "go on and on", stdout=-1, stderr=-1)
    try:
        r.wait_text("tick tick tick")
        r.send("\x03")
        r.wait_text("cancelled: the partial reply is kept")
    finally:
        proc.communicate(timeout=30)
    assert json.loads(live_home.run("chat", "show", name, "--json").stdout)["messages"][-1]["status"] == "cancelled"


def test_injected_text_lands_in_the_input_line(repl_driver, live_home, fake_clean, tmp_path):
    name = unique("inject")
    live_home.run("ask", "-c", name, "warm up", check=True)
    r = repl_driver(chat=name)
    r.wait_text("You said: warm up")
    doc = tmp_path / "snippet.txt"
    doc.write_text("injected words")
    out = live_home.run("inject", "-c", name, str(doc))
    assert out.returncode == 0, out.stderr
    r.wait_text("injected words")
    r.send("\r")
    r.wait_text("You said: ", after=r.text.index("injected words"))
    prompt = [m for m in [r for r in fake_clean.requests if r.method == "POST"][-1].json["messages"] if m["role"] == "user"][-1]["content"]
    assert "injected words" in prompt


def test_switching_chats_follows_the_new_one(repl_driver, live_home, fake_clean):
    first, second = unique("sw1"), unique("sw2")
    for name in (first, second):
        live_home.run("ask", "-c", name, f"in {name}", check=True)
    r = repl_driver(chat=first)
    r.line(f"/chat {second}")
    r.wait_text(f"You said: in {second}")
    mark = r.mark()
    live_home.run("ask", "-c", first, "not shown here", check=True)
    live_home.run("ask", "-c", second, "shown here", check=True)
    r.wait_text("You said: shown here", after=mark)
    assert "not shown here" not in r.text[mark:]
