"""`chat export` → `chat import` keeps everything: images, tool calls, citations, statuses.

Real daemon (local embedder for ``--rag``), real `chatthy` command, the fake
provider; the stored rows are read back from the database file itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import time

import pytest

from tests.conftest import db_rows
from tests.fakes.replies import StreamError, Text, ToolCalls
from tests.tools.png_maker import png
from tests.transfer.conftest import completions, export, show

BREAD = """# Bread

Mix flour, water, salt and yeast. Knead the dough for ten minutes, let it rise
for two hours, then bake it at 230 degrees for forty minutes.
"""

REGENERATED = ("id", "chat_id")  # per database; everything else must come back as it was


def comparable(shown: dict) -> dict:
    """``chat show --json`` without what an import may regenerate (ids) or what it was asked to change (name)."""
    out = {k: v for k, v in shown.items() if k not in ("name", "generating")}
    out["messages"] = [{k: v for k, v in m.items() if k not in REGENERATED} for m in shown["messages"]]
    return out


def calls_of(home, chat: str) -> list[dict]:
    calls = json.loads(home.run("tools", "calls", chat, "--json", check=True).stdout)
    return [{k: v for k, v in c.items() if k not in ("id", "message_id")} for c in calls]


def workspace_of(home, chat: str) -> list[dict]:
    """The chat's own workspace files, all their stored columns but the ids."""
    rows = db_rows(home, """
        SELECT w.name, w.kind, w.source, w.title, w.content, w.meta, w.tokens, w.encoding, w.benched,
               w.created, w.updated
        FROM workspace w JOIN chats c ON c.id = w.chat_id WHERE c.name = ? ORDER BY w.id""", (chat,))
    return [list(r) for r in rows]


def stored_images(home, chat: str) -> list[tuple]:
    """(message position in the chat, attachment position, name, sha256, mime, size, width, height, bytes)."""
    rows = db_rows(home, """
        SELECT m.id, ma.position, ma.name, a.sha256, a.mime, a.size, a.width, a.height, a.data
        FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id
        JOIN messages m ON m.id = ma.message_id JOIN chats c ON c.id = m.chat_id
        WHERE c.name = ? ORDER BY m.id, ma.position""", (chat,))
    ids = [r[0] for r in db_rows(home, "SELECT m.id FROM messages m JOIN chats c ON c.id = m.chat_id"
                                       " WHERE c.name = ? ORDER BY m.id", (chat,))]
    return [(ids.index(r[0]), *r[1:]) for r in rows]


def wait_for_reply_text(home, chat: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = home.run("chat", "show", chat, "--json")  # exit 4 until the ask has created the chat
        messages = json.loads(out.stdout)["messages"] if out.returncode == 0 else []
        if messages and messages[-1]["role"] == "assistant" and messages[-1]["content"]:
            return messages[-1]
        time.sleep(0.05)
    raise AssertionError(f"no reply text in {chat!r} after {timeout} s")


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    path = tmp_path_factory.mktemp("pics") / "cat.png"
    path.write_bytes(png(6, 4))
    return path


@pytest.fixture(scope="module")
def full_chat(xhome, xfake, picture, tmp_path_factory):
    """Chat ``trip``: an image, a tool round, a --rag answer, a cancelled partial reply, a failed one."""
    docs = tmp_path_factory.mktemp("docs")
    (docs / "bread.md").write_text(BREAD)
    out = xhome.run("vdb", "ingest", str(docs), timeout=120)
    assert out.returncode == 0, out.stderr
    (docs / "notes.txt").write_text("Remember: the oven runs hot.\n")
    (docs / "aside.txt").write_text("An aside kept out of the requests.\n")
    xfake.clear()
    xfake.script(
        Text(["A grey ", "rectangle."]),
        ToolCalls([("call_1", "calculator", {"expression": "6 * 7"})], text_before="Let me compute."),
        Text(["It is 42."]),
        Text(["Bake it for forty minutes [1]."]),
        Text(["word "] * 400, delay=0.03),
        StreamError(after_chunks=2, message="the model fell over"),
    )
    xhome.run("ask", "-c", "trip", "-a", str(picture), "what is this?", check=True)
    xhome.run("ws", "load", "-c", "trip", str(docs / "notes.txt"), str(docs / "aside.txt"), check=True)
    xhome.run("ws", "bench", "-c", "trip", "aside.txt", check=True)
    xhome.run("ask", "-c", "trip", "-T", "calculator", "six times seven?", check=True)
    out = xhome.run("ask", "-c", "trip", "--rag", "How long do I bake bread?", check=True)
    assert "Sources:" in out.stdout
    talker = xhome.popen("ask", "-c", "trip", "talk for a while", stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        wait_for_reply_text(xhome, "trip")
        xhome.run("chat", "cancel", "trip", check=True)
    finally:
        talker.wait(15)
    assert xhome.run("ask", "-c", "trip", "and fail").returncode != 0
    messages = show(xhome, "trip")["messages"]
    assert [m["status"] for m in messages[1::2]] == ["complete", "complete", "complete", "cancelled", "error"]
    assert messages[7]["content"].startswith("word word") and messages[9]["content"] and messages[9]["error"]
    assert messages[5]["meta"]["rag"]["citations"][0]["source"] == str(docs / "bread.md")
    assert messages[3]["meta"]["tool_rounds"]
    return "trip"


def test_everything_survives_export_and_import(xhome, fresh, full_chat, picture, tmp_path):
    original = export(xhome, full_chat)
    data = json.loads(original)
    assert data["chatthy_export"] == 2 and data["chat"]["tools"] == ["calculator"]
    digest = hashlib.sha256(picture.read_bytes()).hexdigest()
    assert data["images"] == [{"sha256": digest, "mime": "image/png", "size": picture.stat().st_size,
                               "width": 6, "height": 4,
                               "data": base64.b64encode(picture.read_bytes()).decode()}]
    assert data["messages"][0]["attachments"] == [{"sha256": digest, "name": None}]
    assert [c["name"] for c in data["messages"][3]["tool_calls"]] == ["calculator"]
    before = {"shown": show(xhome, full_chat), "calls": calls_of(xhome, full_chat),
              "images": stored_images(xhome, full_chat), "workspace": workspace_of(xhome, full_chat)}
    assert before["calls"][0]["result"] == "42" and len(before["images"]) == 1
    assert [(w[0], w[8]) for w in before["workspace"]] == [("notes.txt", 0), ("aside.txt", 1)]

    path = tmp_path / "trip.json"
    path.write_text(original)
    out = xhome.run("chat", "import", str(path), "--name", "trip-copy")
    assert out.returncode == 0, out.stderr
    copy = show(xhome, "trip-copy")
    assert copy["name"] == "trip-copy"
    assert comparable(copy) == comparable(before["shown"])
    assert calls_of(xhome, "trip-copy") == before["calls"]
    assert stored_images(xhome, "trip-copy") == before["images"]
    assert workspace_of(xhome, "trip-copy") == before["workspace"]
    # exporting the copy gives the same bytes (but for its name)
    again = export(xhome, "trip-copy")
    assert again.replace('"name": "trip-copy"', '"name": "trip"', 1) == original

    # Both chats go on the same way: images, tool rounds (the remembered tool choice) replayed alike.
    fresh.script(Text(["same"]), Text(["same"]))
    xhome.run("ask", "-c", full_chat, "next?", check=True)
    xhome.run("ask", "-c", "trip-copy", "next?", check=True)
    first, second = (r.json for r in completions(fresh)[-2:])
    assert first == second
    assert [t["function"]["name"] for t in first["tools"]] == ["calculator"]
    assert any(isinstance(m["content"], list) for m in first["messages"])  # the image, replayed
    assert any(m.get("tool_calls") for m in first["messages"])

    # From a database that no longer has the image: its bytes come from the export.
    for chat in (full_chat, "trip-copy"):
        xhome.run("chat", "delete", chat, check=True)
    assert db_rows(xhome, "SELECT count(*) FROM attachments WHERE sha256 = ?", (digest,)) == [(0,)]
    xhome.run("chat", "import", str(path), check=True)
    assert comparable(show(xhome, full_chat)) == comparable(before["shown"])
    assert stored_images(xhome, full_chat) == before["images"]
    assert before["images"][0][-1] == picture.read_bytes()
    assert calls_of(xhome, full_chat) == before["calls"]
    assert workspace_of(xhome, full_chat) == before["workspace"]


def test_markdown_shows_images_tool_calls_and_sources(xhome, fresh):
    picture = png(3, 3, padding=2000)
    (xhome.root / "md.png").write_bytes(picture)
    fresh.script(Text(["Grey."]),
                 ToolCalls([("c1", "calculator", {"expression": "2 ** 10"})], text_before="Computing."),
                 Text(["It is 1024."]))
    xhome.run("ask", "-c", "md-trip", "-a", str(xhome.root / "md.png"), "look", check=True)
    xhome.run("ask", "-c", "md-trip", "-T", "calculator", "two to the ten?", check=True)
    text = export(xhome, "md-trip", "--format", "md")
    digest = hashlib.sha256(picture).hexdigest()
    assert f"\n[image: image 1 (sha256 {digest[:12]}), image/png 3×3, 2 KB]\n" in text
    call = "**Tool call** `calculator` · round 1 · ok · "
    assert text.index("Computing.") < text.index(call) < text.index("It is 1024.")
    assert '```json\n{\n  "expression": "2 ** 10"\n}\n```' in text
    assert "Result:\n\n```\n1024\n```" in text
    assert base64.b64encode(picture).decode()[:40] not in text  # a line, not the bytes
    trip = export(xhome, "trip", "--format", "md")
    assert "\n- workspace: notes.txt (" in trip and " tokens, benched)\n" in trip


def test_markdown_lists_rag_sources_and_errors(xhome, fresh, tmp_path):
    from chatthy.server.chat_markdown import export_markdown
    from chatthy.store.models import Chat, Message

    chat = Chat(1, 1, "c", None, None, None, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z")
    rag = {"citations": [{"n": 1, "source": "/d/bread.md", "title": "Bread", "position": "Bread"}]}
    reply = Message(2, 1, "assistant", "Forty minutes [1].\n```\nfenced\n```", "error", 3, "fake", "m", None,
                    "boom", {"rag": rag}, "2026-01-01T00:00:00.000Z", None, None, None)
    text = export_markdown(chat, [reply], "fake", "m")
    assert "## Assistant · m · error · " in text
    assert "Sources:\n\n- [1] Bread (/d/bread.md) · Bread\n" in text
    assert "> error: boom" in text


def test_an_export_taken_mid_reply_imports_as_ended(xhome, fresh):
    fresh.script(Text(["word "] * 300, delay=0.03))
    talker = xhome.popen("ask", "-c", "midway", "talk", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_reply_text(xhome, "midway")
        snapshot = export(xhome, "midway")
    finally:
        xhome.run("chat", "cancel", "midway")
        talker.wait(15)
    reply = json.loads(snapshot)["messages"][1]
    assert reply["status"] == "partial" and reply["finished"] is None
    xhome.run("chat", "import", "-", "--name", "midway-copy", input=snapshot, check=True)
    imported = show(xhome, "midway-copy")["messages"][1]
    assert imported["status"] == "partial" and imported["content"] == reply["content"]
    assert imported["finished"] == imported["created"] == reply["created"]
    assert imported["error"] == "the export was taken while this reply was being written"
