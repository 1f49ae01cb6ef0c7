"""Messages: append, partial updates while streaming, deletion."""

from __future__ import annotations

import json
import re
import time

import pytest

from chatthy.errors import BadRequest, NotFound
from chatthy.store import Message

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def chat(store, default_id):
    return store.create_chat(default_id, "notes")


def test_add_message(store, chat):
    msg = store.add_message(chat.id, "user", "hello", tokens=2, provider="openai",
                            model="gpt-4o", meta={"files": ["a.txt"]})
    assert isinstance(msg, Message)
    assert (msg.chat_id, msg.role, msg.content, msg.status) == (chat.id, "user", "hello",
                                                                "complete")
    assert (msg.tokens, msg.provider, msg.model) == (2, "openai", "gpt-4o")
    assert msg.meta == {"files": ["a.txt"]}
    assert msg.usage is None and msg.error is None
    assert msg.finished is None and msg.edited is None and msg.duration_ms is None
    assert ISO_MS.match(msg.created)
    assert store.get_message(msg.id) == msg


def test_add_message_touches_chat(store, default_id, chat):
    time.sleep(0.002)
    msg = store.add_message(chat.id, "user", "hello")
    assert store.get_chat_by_id(chat.id).updated >= msg.created > chat.updated


def test_add_message_validates_role_and_status(store, chat):
    with pytest.raises(BadRequest, match=r"^message role 'robot' is not one of system, user,"):
        store.add_message(chat.id, "robot", "x")
    with pytest.raises(BadRequest, match=r"^message status 'done' is not one of complete,"):
        store.add_message(chat.id, "user", "x", status="done")
    assert store.count_messages(chat.id) == 0


def test_add_message_to_missing_chat_is_not_found(store):
    with pytest.raises(NotFound, match=r"^chat #404 not found$"):
        store.add_message(404, "user", "x")
    assert store.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0


def test_add_message_is_atomic(store, chat, monkeypatch):
    import chatthy.store.messages as messages_module

    def fail(conn, chat_id):
        raise RuntimeError("touch failed")

    monkeypatch.setattr(messages_module, "touch_chat", fail)
    with pytest.raises(RuntimeError):
        store.add_message(chat.id, "user", "half")
    assert store.count_messages(chat.id) == 0


def test_messages_in_order_and_count(store, chat):
    contents = ["one", "two", "three"]
    roles = ["user", "assistant", "tool"]
    for role, content in zip(roles, contents):
        store.add_message(chat.id, role, content)
    got = store.messages(chat.id)
    assert [m.content for m in got] == contents
    assert [m.role for m in got] == roles
    assert [m.id for m in got] == sorted(m.id for m in got)
    assert store.count_messages(chat.id) == 3
    assert store.messages(404) == []


def test_streaming_updates_change_only_given_fields(store, chat):
    msg = store.add_message(chat.id, "assistant", "", status="partial", provider="openai",
                            model="gpt-4o", meta={"tool_calls": []})
    store.update_message(msg.id, content="Hel")
    store.update_message(msg.id, content="Hello")
    mid = store.get_message(msg.id)
    assert (mid.content, mid.status, mid.finished, mid.edited) == ("Hello", "partial", None,
                                                                   None)
    assert mid.meta == {"tool_calls": []} and mid.provider == "openai"

    store.update_message(msg.id, status="complete", tokens=5,
                         usage={"input_tokens": 10, "output_tokens": 5},
                         finished=True, duration_ms=1234)
    done = store.get_message(msg.id)
    assert done.content == "Hello"
    assert done.status == "complete"
    assert done.tokens == 5
    assert done.usage == {"input_tokens": 10, "output_tokens": 5}
    assert done.duration_ms == 1234
    assert ISO_MS.match(done.finished)
    assert done.edited is None
    assert done.meta == {"tool_calls": []}
    assert done.created == msg.created


def test_update_message_error_and_meta(store, chat):
    msg = store.add_message(chat.id, "assistant", "partial text", status="partial")
    store.update_message(msg.id, status="error", error="rate limited",
                         meta={"citations": ["x"]})
    failed = store.get_message(msg.id)
    assert (failed.status, failed.error, failed.content) == ("error", "rate limited",
                                                             "partial text")
    assert failed.meta == {"citations": ["x"]}


def test_update_message_edited_stamp(store, chat):
    msg = store.add_message(chat.id, "user", "typo")
    store.update_message(msg.id, content="fixed", edited=True)
    edited = store.get_message(msg.id)
    assert edited.content == "fixed"
    assert ISO_MS.match(edited.edited)


def test_update_message_with_nothing_changes_nothing(store, chat):
    msg = store.add_message(chat.id, "user", "same")
    store.update_message(msg.id)
    assert store.get_message(msg.id) == msg


def test_update_message_errors(store, chat):
    msg = store.add_message(chat.id, "user", "x")
    with pytest.raises(NotFound, match=r"^message #404 not found$"):
        store.update_message(404, content="x")
    with pytest.raises(NotFound, match=r"^message #404 not found$"):
        store.update_message(404)
    with pytest.raises(BadRequest, match="status 'bogus'"):
        store.update_message(msg.id, status="bogus")


def test_json_columns_are_json_text(store, chat):
    msg = store.add_message(chat.id, "assistant", "x", meta={"ü": [1, None, "é"]})
    store.update_message(msg.id, usage={"cached": 3})
    usage, meta = store.conn.execute(
        "SELECT usage, meta FROM messages WHERE id = ?", (msg.id,)
    ).fetchone()
    assert json.loads(usage) == {"cached": 3}
    assert json.loads(meta) == {"ü": [1, None, "é"]}


def test_delete_message(store, chat):
    a = store.add_message(chat.id, "user", "a")
    b = store.add_message(chat.id, "user", "b")
    store.delete_message(a.id)
    assert store.get_message(a.id) is None
    assert store.messages(chat.id) == [b]
    with pytest.raises(NotFound, match=rf"^message #{a.id} not found$"):
        store.delete_message(a.id)


def test_message_to_dict_is_json_ready(store, chat):
    msg = store.add_message(chat.id, "assistant", "x", meta={"k": "v"})
    data = msg.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["meta"] == {"k": "v"}
    assert list(data) == ["id", "chat_id", "role", "content", "status", "tokens", "provider",
                          "model", "usage", "error", "meta", "created", "finished", "edited",
                          "duration_ms"]


def test_raw_constraints_hold_without_the_repository(store, chat):
    import sqlean

    with pytest.raises(sqlean.IntegrityError):
        store.conn.execute(
            "INSERT INTO messages (chat_id, role, content, created) VALUES (?, 'robot', '', '')",
            (chat.id,),
        )
    with pytest.raises(sqlean.IntegrityError):
        store.conn.execute(
            "INSERT INTO messages (chat_id, role, content, created) VALUES (404, 'user', '', '')"
        )
