"""The export format, in process: whatever a chat holds, parsing its export gives it back,
and exporting what was parsed gives the same bytes."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.server.chat_format import ImageLimits, export_json, parse_export
from chatthy.store.models import Chat, Message
from chatthy.store.workspace import WorkspaceFile
from chatthy.tools.storage import Attachment, ToolCallRecord
from tests.tools.png_maker import png

LIMITS = ImageLimits(max_bytes=1_000_000, max_per_message=3)
PICTURES = [png(w, h, grey=g) for w, h, g in ((1, 1, 0), (2, 3, 9), (5, 2, 200), (4, 4, 77))]
SIZES = [(w, h) for w, h in ((1, 1), (2, 3), (5, 2), (4, 4))]  # what the store reads from their headers
STAMP = st.from_regex(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z", fullmatch=True)
TEXT = st.text(max_size=40)
OPT_TEXT = st.none() | TEXT
OPT_INT = st.none() | st.integers(0, 10**9)
JSON_DICT = st.dictionaries(st.text(max_size=8), st.none() | st.integers() | st.text(max_size=8) |
                            st.lists(st.integers(), max_size=3), max_size=3)
JSONISH = st.none() | JSON_DICT
# Built, not filtered: filtering made Hypothesis give up on some runs (health check).
NAME = st.builds(lambda head, rest: head + rest, st.characters(blacklist_categories=("Z", "C")), TEXT)
STATUSES = ("complete", "partial", "error", "cancelled")
CALL_STATUSES = ("ok", "error", "refused", "skipped", "cancelled")  # "running" is imported as cancelled


@st.composite
def chats(draw):
    n = draw(st.integers(0, 6))
    messages, attachments, calls = [], {}, {}
    for i in range(1, n + 1):
        messages.append(Message(
            i, 1, draw(st.sampled_from(("system", "user", "assistant", "tool"))), draw(TEXT),
            draw(st.sampled_from(STATUSES)), draw(OPT_INT), draw(OPT_TEXT), draw(OPT_TEXT), draw(JSONISH),
            draw(OPT_TEXT), draw(JSONISH), draw(STAMP), draw(st.none() | STAMP), draw(st.none() | STAMP),
            draw(OPT_INT)))
        picked = draw(st.lists(st.sampled_from(range(len(PICTURES))), max_size=3))
        if picked:
            attachments[i] = []
            for k in picked:
                data = PICTURES[k]
                attachments[i].append((Attachment(k, hashlib.sha256(data).hexdigest(), "image/png", len(data),
                                                  *SIZES[k], draw(OPT_TEXT)), data))
        made = draw(st.lists(st.tuples(st.integers(0, 5), TEXT, TEXT, JSON_DICT,
                                       OPT_TEXT, st.sampled_from(CALL_STATUSES), OPT_TEXT, OPT_INT, OPT_INT,
                                       STAMP), max_size=3))
        if made:
            calls[i] = [ToolCallRecord(n, i, *fields) for n, fields in enumerate(sorted(made, key=lambda f: f[0]))]
    workspace = [WorkspaceFile(k, 1, 1, f"file-{k}", "file", draw(TEXT), draw(OPT_TEXT), draw(TEXT), draw(JSONISH),
                               draw(st.integers(0, 10**6)), "o200k_base", draw(st.booleans()), draw(STAMP), draw(STAMP))
                 for k in range(draw(st.integers(0, 2)))]
    chat = Chat(1, 1, draw(NAME), draw(OPT_TEXT), draw(OPT_TEXT), draw(OPT_TEXT),
                draw(STAMP), draw(STAMP))
    tools = draw(st.none() | st.lists(TEXT, max_size=3))
    persona = (chat.personality, draw(TEXT)) if chat.personality else None  # as the handler passes it
    return chat, messages, persona, tools, attachments, calls, workspace


def rebuild(imported):
    """Rows as a database would hold them after the import (fresh ids), to export again."""
    messages, attachments, calls = [], {}, {}
    shas = list(imported.images)
    for i, m in enumerate(imported.messages, 1):
        fields = {k: v for k, v in m.items() if k not in ("attachments", "tool_calls")}
        messages.append(Message(id=i, chat_id=7, **fields))
        if m["attachments"]:
            attachments[i] = []
            for sha, name in m["attachments"]:
                image = imported.images[sha]
                attachments[i].append((Attachment(shas.index(sha), sha, image.mime, len(image.data), image.width,
                                                  image.height, name), image.data))
        if m["tool_calls"]:
            calls[i] = [ToolCallRecord(n, i, **c) for n, c in enumerate(m["tool_calls"])]
    workspace = [WorkspaceFile(k, 2, 7, **f) for k, f in enumerate(imported.workspace)]
    chat = Chat(7, 2, imported.name, imported.personality, imported.provider, imported.model,
                imported.created, imported.updated)
    persona = (imported.personality, imported.persona_prompt) if imported.persona_prompt is not None else None
    return chat, messages, persona, imported.tools, attachments, calls, workspace


@settings(max_examples=100, deadline=None)
@given(chats())
def test_parse_gives_back_what_was_exported_and_exports_the_same_bytes(case):
    chat, messages, persona, tools, attachments, calls, workspace = case
    text = export_json(chat, messages, persona, tools=tools, attachments=attachments, calls=calls,
                       workspace=workspace)
    imported = parse_export(text, LIMITS)
    assert [m["content"] for m in imported.messages] == [m.content for m in messages]
    assert [m["attachments"] for m in imported.messages] == \
        [[(a.sha256, a.name) for a, _ in attachments.get(m.id, [])] for m in messages]
    assert all(imported.images[a.sha256].data == data for found in attachments.values() for a, data in found)
    assert sum(len(m["tool_calls"]) for m in imported.messages) == sum(len(c) for c in calls.values())
    assert imported.tools == tools and len(imported.workspace) == len(workspace)
    rebuilt = rebuild(imported)
    again = export_json(rebuilt[0], rebuilt[1], rebuilt[2], tools=rebuilt[3], attachments=rebuilt[4],
                        calls=rebuilt[5], workspace=rebuilt[6])
    assert again == text
