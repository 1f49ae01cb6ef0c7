"""`chat fork` keeps everything `chat export` carries: images, tool calls, citations, tool choice, workspace.

Real daemon (local embedder for ``--rag``), real `chatthy` command, the fake
provider; stored rows are read back from the database file itself.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from tests.fakes.replies import Text, ToolCalls
from tests.conftest import db_rows
from tests.fork.conftest import calls_of, comparable, completions, show, stored_images, tool_choice, workspace_of
from tests.tools.png_maker import png

BREAD = """# Bread

Mix flour, water, salt and yeast. Knead the dough for ten minutes, let it rise
for two hours, then bake it at 230 degrees for forty minutes.
"""


def image_urls(body: dict) -> list[bytes]:
    """The images of an OpenAI request, decoded, in the order they were sent."""
    out = []
    for m in body["messages"]:
        if isinstance(m["content"], list):
            for part in m["content"]:
                if part["type"] == "image_url":
                    out.append(base64.b64decode(part["image_url"]["url"].partition(",")[2]))
    return out


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    path = tmp_path_factory.mktemp("pics") / "cat.png"
    path.write_bytes(png(6, 4))
    return path


@pytest.fixture(scope="module")
def full_chat(fhome, ffake, picture, tmp_path_factory):
    """Chat ``trip``: an image, workspace files (one benched), a tool round, a --rag answer."""
    docs = tmp_path_factory.mktemp("docs")
    (docs / "bread.md").write_text(BREAD)
    out = fhome.run("vdb", "ingest", str(docs), timeout=120)
    assert out.returncode == 0, out.stderr
    (docs / "notes.txt").write_text("Remember: the oven runs hot.\n")
    (docs / "aside.txt").write_text("An aside kept out of the requests.\n")
    ffake.clear()
    ffake.script(
        Text(["A grey ", "rectangle."]),
        ToolCalls([("call_1", "calculator", {"expression": "6 * 7"})], text_before="Let me compute."),
        Text(["It is 42."]),
        Text(["Bake it for forty minutes [1]."]),
    )
    fhome.run("ask", "-c", "trip", "-a", str(picture), "what is this?", check=True)
    fhome.run("ws", "load", "-c", "trip", str(docs / "notes.txt"), str(docs / "aside.txt"), check=True)
    fhome.run("ws", "bench", "-c", "trip", "aside.txt", check=True)
    fhome.run("ask", "-c", "trip", "-T", "calculator", "six times seven?", check=True)
    out = fhome.run("ask", "-c", "trip", "--rag", "How long do I bake bread?", check=True)
    assert "Sources:" in out.stdout
    messages = show(fhome, "trip")["messages"]
    assert len(messages) == 6
    assert messages[3]["meta"]["tool_rounds"]
    assert messages[5]["meta"]["rag"]["citations"][0]["source"] == str(docs / "bread.md")
    return "trip"


def test_fork_copies_images_tool_calls_citations_tool_choice_and_workspace(fhome, fresh, full_chat, picture):
    before = {"shown": show(fhome, full_chat), "calls": calls_of(fhome, full_chat),
              "images": stored_images(fhome, full_chat), "workspace": workspace_of(fhome, full_chat)}
    assert [c["result"] for c in before["calls"]] == ["42"]
    assert len(before["images"]) == 1 and before["images"][0][-1] == picture.read_bytes()
    assert [(w[1], w[9]) for w in before["workspace"]] == [("notes.txt", 0), ("aside.txt", 1)]
    images_before = db_rows(fhome, "SELECT count(*) FROM attachments")

    out = fhome.run("chat", "fork", full_chat, "trip-fork")
    assert out.returncode == 0, out.stderr

    fork = show(fhome, "trip-fork")
    assert fork["name"] == "trip-fork"
    assert comparable(fork) == comparable(before["shown"])  # every field: meta.rag, tool_rounds, usage, times
    assert {m["id"] for m in fork["messages"]}.isdisjoint(m["id"] for m in before["shown"]["messages"])
    assert calls_of(fhome, "trip-fork") == before["calls"]
    assert stored_images(fhome, "trip-fork") == before["images"]  # the same attachment row: shared
    assert db_rows(fhome, "SELECT count(*) FROM attachments") == images_before  # not duplicated
    assert workspace_of(fhome, "trip-fork") == before["workspace"]
    assert tool_choice(fhome, "trip-fork") == tool_choice(fhome, full_chat) == [(json.dumps(["calculator"]),)]
    assert show(fhome, full_chat) == before["shown"]  # the source is untouched
    assert calls_of(fhome, full_chat) == before["calls"]

    # Both chats go on the same way: image, tool round, tool choice and workspace replayed alike.
    fresh.script(Text(["same"]), Text(["same"]))
    fhome.run("ask", "-c", full_chat, "next?", check=True)
    fhome.run("ask", "-c", "trip-fork", "next?", check=True)
    first, second = (r.json for r in completions(fresh)[-2:])
    assert first == second
    assert [t["function"]["name"] for t in first["tools"]] == ["calculator"]
    assert image_urls(first) == [picture.read_bytes()]
    assert any(m.get("tool_calls") for m in first["messages"])
    assert "the oven runs hot" in json.dumps(first["messages"])
    assert "An aside kept out" not in json.dumps(first["messages"])  # still benched


def test_fork_at_a_middle_message_copies_only_what_belongs_to_messages_up_to_it(fhome, fresh, full_chat,
                                                                                 picture):
    messages = show(fhome, full_chat)["messages"]
    calls = calls_of(fhome, full_chat)
    images = stored_images(fhome, full_chat)

    tool_answer = messages[3]  # the reply with the tool round; the --rag turn comes after it
    fhome.run("chat", "fork", full_chat, "trip-mid", "--at", str(tool_answer["id"]), check=True)
    mid = show(fhome, "trip-mid")
    assert comparable(mid)["messages"] == comparable({"messages": messages[:4]})["messages"]
    assert not any((m["meta"] or {}).get("rag") for m in mid["messages"])
    assert calls_of(fhome, "trip-mid") == [c for c in calls if c["result"] == "42"] and calls
    assert stored_images(fhome, "trip-mid") == images
    assert tool_choice(fhome, "trip-mid") == tool_choice(fhome, full_chat)
    assert workspace_of(fhome, "trip-mid") == workspace_of(fhome, full_chat)  # the chat's, as it is now

    question = messages[2]  # the question of the tool turn: its answer and calls are not copied
    fhome.run("chat", "fork", full_chat, "trip-q", "--at", str(question["id"]), check=True)
    assert [m["content"] for m in show(fhome, "trip-q")["messages"]] == [m["content"] for m in messages[:3]]
    assert calls_of(fhome, "trip-q") == []
    assert stored_images(fhome, "trip-q") == images

    fhome.run("chat", "fork", full_chat, "trip-first", "--at", str(messages[0]["id"]), check=True)
    assert len(show(fhome, "trip-first")["messages"]) == 1
    assert stored_images(fhome, "trip-first") == images

    # The mid fork goes on from the tool turn: the image and the tool round are in its next request.
    fresh.script(Text(["from the middle"]))
    fhome.run("ask", "-c", "trip-mid", "and then?", check=True)
    body = completions(fresh)[-1].json
    assert image_urls(body) == [picture.read_bytes()]
    assert [m.get("tool_calls", [{}])[0].get("function", {}).get("name") for m in body["messages"]
            if m.get("tool_calls")] == ["calculator"]
    assert body["messages"][-1] == {"role": "user", "content": "and then?"}
    assert "forty minutes" not in json.dumps(body["messages"])


def test_deleting_the_original_keeps_the_forks_images(fhome, fresh, tmp_path):
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    first.write_bytes(png(5, 5, grey=0x11))
    second.write_bytes(png(7, 3, grey=0x22))
    digests = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second))
    fresh.script(Text(["two squares"]), Text(["yes"]))
    fhome.run("ask", "-c", "pics", "-a", str(first), "-a", str(second), "compare", check=True)
    fhome.run("ask", "-c", "pics", "and?", check=True)
    fhome.run("chat", "fork", "pics", "pics-fork", check=True)
    count = "SELECT count(*) FROM attachments WHERE sha256 IN (?, ?)"
    assert db_rows(fhome, count, digests) == [(2,)]

    fhome.run("chat", "delete", "pics", check=True)
    assert db_rows(fhome, count, digests) == [(2,)]  # the fork still uses them
    fresh.script(Text(["still two"]))
    out = fhome.run("ask", "-c", "pics-fork", "what were they?")
    assert out.returncode == 0, out.stderr
    body = fresh.requests[-1].json
    assert image_urls(body) == [first.read_bytes(), second.read_bytes()]
    assert body["messages"][0]["content"][0] == {"type": "text", "text": "compare"}

    # A fork of the fork, then the fork goes: the images live while any message uses them.
    fhome.run("chat", "fork", "pics-fork", "pics-fork2", "--at", str(show(fhome, "pics-fork")["messages"][0]["id"]),
              check=True)
    fhome.run("chat", "delete", "pics-fork", check=True)
    assert db_rows(fhome, count, digests) == [(2,)]
    fhome.run("chat", "delete", "pics-fork2", check=True)
    assert db_rows(fhome, count, digests) == [(0,)]  # the last user gone: the bytes go


def test_a_refused_fork_writes_nothing(fhome, fresh, full_chat):
    tables = ("chats", "messages", "message_attachments", "attachments", "tool_calls", "workspace", "chat_tools")

    def counts():
        return [db_rows(fhome, f"SELECT count(*) FROM {t}")[0][0] for t in tables]

    before = counts()
    out = fhome.run("chat", "fork", full_chat, full_chat)  # the name is taken
    assert out.returncode == 8 and "already exists" in out.stderr
    out = fhome.run("chat", "fork", full_chat, "trip-nowhere", "--at", "999999")
    assert out.returncode == 4, out.stderr
    assert counts() == before
    assert fhome.run("chat", "show", "trip-nowhere").returncode == 4
