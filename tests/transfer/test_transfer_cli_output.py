"""What `chat fork` and `chat import` tell the user: the counts on stderr (a terminal), the result with --json.

Real daemon (this directory's: small image limits), real `chatthy` command,
the fake provider; the counts are checked against what `chat show` and
`tools calls` read back from the new chat.
"""

from __future__ import annotations

import json

import pytest

from tests.ecosystem.test_ecosystem_scripting import run_on_a_terminal
from tests.fakes.replies import Text, ToolCalls
from tests.tools.png_maker import png
from tests.conftest import db_rows
from tests.transfer.conftest import export, show

COUNTS = ("messages", "images", "tool_calls", "workspace")


@pytest.fixture(scope="module")
def trip(xhome, xfake, tmp_path_factory):
    """Chat ``out-trip``: 6 messages, 2 images, 1 tool call, 1 workspace file."""
    files = tmp_path_factory.mktemp("out")
    (files / "a.png").write_bytes(png(3, 3, grey=0x31))
    (files / "b.png").write_bytes(png(4, 2, grey=0x32))
    (files / "notes.txt").write_text("The oven runs hot.\n")
    xfake.clear()
    xfake.script(Text(["Two squares."]),
                 ToolCalls([("call_1", "calculator", {"expression": "6 * 7"})], text_before="Computing."),
                 Text(["It is 42."]), Text(["Noted."]))
    xhome.run("ask", "-c", "out-trip", "-a", str(files / "a.png"), "-a", str(files / "b.png"), "what?",
              check=True)
    xhome.run("ask", "-c", "out-trip", "-T", "calculator", "six times seven?", check=True)
    xhome.run("ws", "load", "-c", "out-trip", str(files / "notes.txt"), check=True)
    xhome.run("ask", "-c", "out-trip", "thanks", check=True)
    return "out-trip"


def held(home, chat: str) -> dict:
    """What ``chat`` holds, counted from what the CLI reads back (images: from the database, each once)."""
    shown = show(home, chat)
    calls = json.loads(home.run("tools", "calls", chat, "--json", check=True).stdout)
    files = json.loads(home.run("ws", "ls", "-c", chat, "--json", check=True).stdout)["files"]
    return {"messages": len(shown["messages"]),
            "images": db_rows(home, """
                SELECT count(DISTINCT ma.attachment_id) FROM message_attachments ma
                JOIN messages m ON m.id = ma.message_id JOIN chats c ON c.id = m.chat_id
                WHERE c.name = ?""", (chat,))[0][0],
            "tool_calls": len(calls),
            "workspace": len([f for f in files if f["scope"] == "chat"])}


def test_fork_json_is_the_daemons_result_with_its_counts(xhome, fresh, trip):
    out = xhome.run("chat", "fork", trip, "out-trip-b", "--json")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    info = json.loads(out.stdout)
    assert (info["name"], info["forked_from"]) == ("out-trip-b", trip)
    assert {k: info[k] for k in COUNTS} == {"messages": 6, "images": 2, "tool_calls": 1, "workspace": 1}
    assert {k: info[k] for k in COUNTS} == held(xhome, "out-trip-b") == held(xhome, trip)

    first = show(xhome, trip)["messages"][0]["id"]
    info = json.loads(xhome.run("chat", "fork", trip, "out-trip-at", "--at", str(first), "--json",
                                check=True).stdout)
    assert {k: info[k] for k in COUNTS} == {"messages": 1, "images": 2, "tool_calls": 0, "workspace": 1}


def test_fork_says_what_it_copied_on_a_terminal_and_nothing_on_a_pipe(xhome, fresh, trip):
    code, said = run_on_a_terminal(xhome.env, "chat", "fork", trip, "out-trip-c")
    assert code == 0
    assert said.strip() == "forked out-trip → out-trip-c: 6 messages, 2 images, 1 tool call, 1 workspace file"
    out = xhome.run("chat", "fork", trip, "out-trip-d")
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    fresh.script(Text(["Hi."]))
    xhome.run("ask", "-c", "out-plain", "hello", check=True)
    code, said = run_on_a_terminal(xhome.env, "chat", "fork", "out-plain", "out-plain-b")
    assert (code, said.strip()) == (0, "forked out-plain → out-plain-b: 2 messages")


def test_import_json_names_the_chat_and_counts_what_it_holds(xhome, fresh, trip, tmp_path):
    path = tmp_path / "trip.json"
    path.write_text(export(xhome, trip))
    out = xhome.run("chat", "import", str(path), "--name", "out-trip-imported", "--json")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    info = json.loads(out.stdout)
    assert info["name"] == "out-trip-imported" and info["created_personality"] is None
    assert {k: info[k] for k in COUNTS} == held(xhome, "out-trip-imported") == held(xhome, trip)
    # From stdin, under the exported name (after renaming the original out of the way).
    xhome.run("chat", "rename", trip, "out-trip-original", check=True)
    try:
        out = xhome.run("chat", "import", "-", "--json", input=path.read_text())
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["name"] == trip
    finally:
        xhome.run("chat", "delete", trip)
        xhome.run("chat", "rename", "out-trip-original", trip, check=True)


def test_import_says_what_it_holds_on_a_terminal(xhome, fresh, trip, tmp_path):
    path = tmp_path / "trip.json"
    path.write_text(export(xhome, trip))
    code, said = run_on_a_terminal(xhome.env, "chat", "import", str(path), "--name", "out-trip-said")
    assert code == 0
    assert said.strip() == "imported 'out-trip-said' (6 messages, 2 images, 1 tool call, 1 workspace file)"
    out = xhome.run("chat", "import", str(path), "--name", "out-trip-quiet")
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
