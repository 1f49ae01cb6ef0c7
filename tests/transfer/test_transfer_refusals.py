"""What `chat import` refuses (and then writes nothing), and the older format it still reads."""

from __future__ import annotations

import base64
import copy
import hashlib
import json

import pytest

from tests.conftest import db_rows
from tests.fakes.replies import Text
from tests.tools.png_maker import png
from tests.transfer.conftest import export, show

T0 = "2026-01-02T03:04:05.006Z"

# What `chat export` wrote before images and tool calls were exported (version 1), verbatim.
VERSION_1 = """{
  "chatthy_export": 1,
  "chat": {
    "name": "old-times",
    "personality": "archivist",
    "provider": "fake",
    "model": "fake-model",
    "created": "2025-06-01T10:00:00.000Z",
    "updated": "2025-06-01T10:00:05.000Z"
  },
  "personality": {
    "name": "archivist",
    "prompt": "Keep records."
  },
  "messages": [
    {
      "role": "user",
      "content": "What year is it?",
      "status": "complete",
      "tokens": 12,
      "provider": null,
      "model": null,
      "usage": null,
      "error": null,
      "meta": null,
      "created": "2025-06-01T10:00:00.000Z",
      "finished": null,
      "edited": null,
      "duration_ms": null
    },
    {
      "role": "assistant",
      "content": "It is 2025.",
      "status": "cancelled",
      "tokens": 5,
      "provider": "fake",
      "model": "fake-model",
      "usage": {"input_tokens": 12, "output_tokens": 5},
      "error": null,
      "meta": null,
      "created": "2025-06-01T10:00:01.000Z",
      "finished": "2025-06-01T10:00:05.000Z",
      "edited": null,
      "duration_ms": 4000
    }
  ]
}
"""


NOTE = {"name": "note.txt", "kind": "file", "source": "/elsewhere/note.txt", "title": None,
        "content": "A note.", "meta": None, "tokens": 4, "encoding": "o200k_base", "benched": False,
        "created": T0, "updated": T0}


def counts(home) -> dict:
    tables = ("chats", "messages", "attachments", "message_attachments", "tool_calls", "chat_tools",
              "personalities", "workspace")
    return {t: db_rows(home, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


def chat_names(home) -> set[str]:
    return {c["name"] for c in json.loads(home.run("chat", "list", "--json", check=True).stdout)}


def image_entry(data: bytes) -> dict:
    return {"sha256": hashlib.sha256(data).hexdigest(), "mime": "image/png", "size": len(data),
            "width": None, "height": None, "data": base64.b64encode(data).decode()}


def with_images(name: str, *images: bytes, per_message: int = 1) -> dict:
    """A version-2 export whose user messages carry ``images`` (``per_message`` each)."""
    entries = [image_entry(d) for d in images]
    messages = []
    for start in range(0, len(entries), per_message):
        attached = [{"sha256": e["sha256"], "name": f"p{start + n}.png"}
                    for n, e in enumerate(entries[start:start + per_message])]
        messages.append({"role": "user", "content": "look", "created": T0, "attachments": attached})
        messages.append({"role": "assistant", "content": "seen", "created": T0, "tool_calls": [
            {"round": 0, "call_id": "c1", "name": "calculator", "arguments": {"expression": "1+1"},
             "result": "2", "status": "ok", "error": None, "duration_ms": 1, "tokens": 9, "created": T0}]})
    return {"chatthy_export": 2, "chat": {"name": name, "created": T0, "updated": T0, "tools": ["calculator"]},
            "images": entries, "workspace": [NOTE], "messages": messages}


@pytest.fixture
def valid(xhome) -> dict:
    return with_images("fine", png(2, 2), png(3, 3))


def refused(home, export_data, code: int, *needles: str) -> str:
    before = counts(home)
    names = chat_names(home)
    text = export_data if isinstance(export_data, str) else json.dumps(export_data)
    out = home.run("chat", "import", "-", input=text)
    assert out.returncode == code, (out.returncode, out.stderr)
    for needle in needles:
        assert needle in out.stderr, out.stderr
    assert counts(home) == before and chat_names(home) == names  # nothing written
    return out.stderr


def test_the_valid_one_imports(xhome, valid):
    xhome.run("chat", "import", "-", "--name", "fine-1", input=json.dumps(valid), check=True)
    assert [a["sha256"] for a in json.loads(export(xhome, "fine-1"))["images"]] == \
        [i["sha256"] for i in valid["images"]]
    calls = json.loads(xhome.run("tools", "calls", "fine-1", "--json", check=True).stdout)
    assert [(c["result"], c["created"]) for c in calls] == [("2", T0), ("2", T0)]
    assert db_rows(xhome, "SELECT w.tokens, w.encoding, w.created FROM workspace w JOIN chats c"
                          " ON c.id = w.chat_id WHERE c.name = 'fine-1'") == [(4, "o200k_base", T0)]
    # (listing recounts it for the chat's model, and keeps that count)
    files = json.loads(xhome.run("ws", "ls", "-c", "fine-1", "--json", check=True).stdout)["files"]
    assert [(f["name"], f["scope"], f["status"]) for f in files] == [("note.txt", "chat", "sent")]


def test_altered_image_bytes_are_refused_and_nothing_is_written(xhome):
    valid = with_images("altered", png(7, 7), png(8, 8))  # images no other test stores
    bad = copy.deepcopy(valid)
    bad["images"][1]["data"] = base64.b64encode(png(8, 8, grey=0x81)).decode()  # same size, other pixels
    err = refused(xhome, bad, 2, "images[1]", "damaged or altered", "nothing was imported")
    assert bad["images"][1]["sha256"][:16] in err
    # The first image was fine, and is not stored either (one transaction, checked before writing).
    sha = valid["images"][0]["sha256"]
    assert db_rows(xhome, "SELECT count(*) FROM attachments WHERE sha256 = ?", (sha,)) == [(0,)]


def test_an_edited_sha256_is_refused(xhome, valid):
    bad = copy.deepcopy(valid)
    forged = hashlib.sha256(b"something else").hexdigest()
    bad["images"][0]["sha256"] = forged
    bad["messages"][0]["attachments"][0]["sha256"] = forged
    refused(xhome, bad, 2, "damaged or altered")


@pytest.mark.parametrize("change,code,needles", [
    (lambda d: d["images"][0].update(mime="image/jpeg"), 2, ("images[0].mime", "image/png")),
    (lambda d: d["images"][0].update(data="not base64!"), 2, ("images[0].data", "base64")),
    (lambda d: d["images"][0].update(size=1), 2, ("images[0].size",)),
    (lambda d: d["images"].append(d["images"][0]), 2, ("images[2].sha256", "repeats")),
    (lambda d: d["messages"][0]["attachments"][0].update(sha256="0" * 64), 2, ("names no image",)),
    (lambda d: d["messages"][1]["tool_calls"][0].update(status="great"), 2, ("tool_calls[0].status",)),
    (lambda d: d["messages"][1]["tool_calls"][0].update(arguments="1+1"), 2, ("tool_calls[0].arguments",)),
    (lambda d: d["messages"][1].update(surprise=1), 2, ("messages[1].surprise",)),
    (lambda d: d.update(chatthy_export=3), 2, ("version 3", "newer chatthy")),
    (lambda d: d["images"].append(image_entry(png(5, 5))), 2, ("images[2]", "attached to no message")),
    (lambda d: d["workspace"].append(dict(NOTE)), 2, ("workspace[1].name", "repeats")),
    (lambda d: d["workspace"][0].update(benched="no"), 2, ("workspace[0].benched",)),
])
def test_malformed_exports_are_refused(xhome, valid, change, code, needles):
    bad = copy.deepcopy(valid)
    change(bad)
    refused(xhome, bad, code, *needles)


def test_images_over_the_configured_limits_are_refused(xhome):
    big = png(4, 4, padding=60_000)  # [images] max_mb = 0.05 in this module's config
    refused(xhome, with_images("big", big), 7, "images[0]", "max_mb")
    three = with_images("three", png(2, 2), png(3, 3), png(4, 4), per_message=3)
    refused(xhome, three, 7, "messages[0].attachments", "max_per_message")


def test_an_export_too_large_to_import_is_refused_on_both_sides(xhome, tmp_path):
    from chatthy.cli.chat_edit import MAX_IMPORT_BYTES
    from chatthy.server.chat_format import MAX_EXPORT_BYTES

    assert MAX_IMPORT_BYTES == MAX_EXPORT_BYTES
    huge = tmp_path / "huge.json"
    huge.write_text(" " * (MAX_EXPORT_BYTES + 1))
    out = xhome.run("chat", "import", str(huge))
    assert out.returncode == 7 and "at most 24 MiB" in out.stderr
    # the daemon checks too (a client that does not)
    from chatthy.client import Client
    from chatthy.errors import TooLarge
    from chatthy.paths import Paths

    paths = Paths(xhome.config_dir, xhome.data_dir, xhome.state_dir, xhome.socket)
    with Client(paths, autostart=False) as client, pytest.raises(TooLarge, match="takes at most 24.0 MiB"):
        client.call("chat.import", data=" " * (MAX_EXPORT_BYTES + 1))


def test_a_version_1_export_still_imports(xhome, fresh):
    xhome.run("chat", "import", "-", input=VERSION_1, check=True)
    shown = show(xhome, "old-times")
    assert (shown["created"], shown["updated"], shown["personality"]) == \
        ("2025-06-01T10:00:00.000Z", "2025-06-01T10:00:05.000Z", "archivist")
    reply = shown["messages"][1]
    assert (reply["status"], reply["usage"], reply["duration_ms"]) == \
        ("cancelled", {"input_tokens": 12, "output_tokens": 5}, 4000)
    assert xhome.run("persona", "show", "archivist", check=True).stdout == "Keep records.\n"
    # written again in today's format: the same messages, plus the (empty) new fields
    now = json.loads(export(xhome, "old-times"))
    old = json.loads(VERSION_1)
    assert now["chatthy_export"] == 2 and now["images"] == [] and now["chat"]["tools"] is None
    assert now["messages"] == old["messages"]
    # and it goes on as a chat
    fresh.script(Text(["It still is."]))
    xhome.run("ask", "-c", "old-times", "And now?", check=True)
    sent = [r for r in fresh.requests if r.method == "POST"][-1].json["messages"]
    assert sent[0] == {"role": "system", "content": "Keep records."}
    assert sent[1:3] == [{"role": "user", "content": "What year is it?"},
                         {"role": "assistant", "content": "It is 2025."}]


def test_a_tool_call_still_running_in_the_export_imports_as_cancelled(xhome):
    data = with_images("running", png(9, 9))
    data["workspace"] = []
    data["messages"][1]["status"] = "partial"
    data["messages"][1]["tool_calls"][0].update(status="running", result=None, duration_ms=None)
    xhome.run("chat", "import", "-", input=json.dumps(data), check=True)
    calls = json.loads(xhome.run("tools", "calls", "running", "--json", check=True).stdout)
    assert [(c["status"], c["result"]) for c in calls] == [("cancelled", None)]
    reply = show(xhome, "running")["messages"][1]
    assert (reply["status"], reply["finished"]) == ("partial", T0)
