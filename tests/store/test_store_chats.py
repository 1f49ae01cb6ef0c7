"""Chats: creation, listing, renaming, deletion."""

from __future__ import annotations

import time

import pytest

from chatthy.errors import BadRequest, Conflict, NotFound
from chatthy.store import Chat, ChatSummary


def _tick():
    # Timestamps have millisecond resolution; make "later" strictly later.
    time.sleep(0.002)


def test_create_and_get_chat(store, default_id):
    chat = store.create_chat(default_id, "notes", personality="terse", provider="openai",
                             model="gpt-4o")
    assert isinstance(chat, Chat)
    assert (chat.name, chat.personality, chat.provider, chat.model) == (
        "notes", "terse", "openai", "gpt-4o")
    assert chat.created == chat.updated
    assert store.get_chat(default_id, "notes") == chat
    assert store.get_chat_by_id(chat.id) == chat
    assert store.require_chat(default_id, "notes") == chat


def test_chat_defaults_are_null(store, default_id):
    chat = store.create_chat(default_id, "plain")
    assert (chat.personality, chat.provider, chat.model) == (None, None, None)


def test_missing_chat(store, default_id):
    assert store.get_chat(default_id, "nope") is None
    assert store.get_chat_by_id(12345) is None
    with pytest.raises(NotFound, match=r"^chat 'nope' not found in profile 'default'$"):
        store.require_chat(default_id, "nope")
    with pytest.raises(NotFound, match=r"^chat 'nope' not found in profile 'shown'$"):
        store.require_chat(default_id, "nope", profile_name="shown")


def test_duplicate_chat_conflicts(store, default_id):
    store.create_chat(default_id, "notes")
    with pytest.raises(Conflict, match=r"^chat 'notes' already exists in profile 'default'$"):
        store.create_chat(default_id, "notes")


def test_same_chat_name_in_two_profiles(store, default_id):
    work = store.create_profile("work")
    a = store.create_chat(default_id, "notes")
    b = store.create_chat(work.id, "notes")
    assert a.id != b.id
    assert store.get_chat(work.id, "notes") == b


def test_chat_in_missing_profile_is_not_found(store):
    with pytest.raises(NotFound, match=r"^profile #999 not found$"):
        store.create_chat(999, "notes")


def test_list_chats_orders_by_updated_and_counts(store, default_id):
    a = store.create_chat(default_id, "a")
    _tick()
    store.create_chat(default_id, "b")
    _tick()
    store.create_chat(default_id, "c", provider="anthropic")
    assert [s.name for s in store.list_chats(default_id)] == ["c", "b", "a"]
    _tick()
    store.add_message(a.id, "user", "first question")
    store.add_message(a.id, "assistant", "first answer")
    store.add_message(a.id, "user", "x" * 200)
    store.add_message(a.id, "assistant", "second answer")
    listing = store.list_chats(default_id)
    assert [s.name for s in listing] == ["a", "c", "b"]
    top = listing[0]
    assert isinstance(top, ChatSummary)
    assert top.messages == 4
    assert top.last_user == "x" * 80
    assert listing[1].messages == 0
    assert listing[1].last_user is None
    assert listing[1].provider == "anthropic"
    _tick()
    store.touch_chat(store.get_chat(default_id, "b").id)
    assert [s.name for s in store.list_chats(default_id)][0] == "b"


def test_list_chats_last_user_counts_characters_not_bytes(store, default_id):
    chat = store.create_chat(default_id, "unicode")
    store.add_message(chat.id, "user", "é" * 100)
    assert store.list_chats(default_id)[0].last_user == "é" * 80


def test_list_chats_filters_by_personality(store, default_id):
    store.create_chat(default_id, "a", personality="terse")
    store.create_chat(default_id, "b")
    store.create_chat(default_id, "c", personality="poet")
    assert [s.name for s in store.list_chats(default_id, personality="terse")] == ["a"]
    assert len(store.list_chats(default_id)) == 3


def test_list_chats_is_per_profile(store, default_id):
    store.create_chat(default_id, "mine")
    assert store.list_chats(store.create_profile("work").id) == []


def test_list_chats_is_one_query(store, default_id):
    for n in range(5):
        chat = store.create_chat(default_id, f"c{n}")
        store.add_message(chat.id, "user", "hello")
    statements = []
    store.conn.set_trace_callback(statements.append)
    try:
        assert len(store.list_chats(default_id)) == 5
    finally:
        store.conn.set_trace_callback(None)
    assert len(statements) == 1


def test_chat_summary_to_dict(store, default_id):
    store.create_chat(default_id, "notes")
    summary = store.list_chats(default_id)[0].to_dict()
    assert set(summary) == {"name", "messages", "created", "updated", "provider", "model",
                            "personality", "last_user"}


def test_rename_chat(store, default_id):
    chat = store.create_chat(default_id, "old")
    store.add_message(chat.id, "user", "kept")
    _tick()
    renamed = store.rename_chat(default_id, "old", "new")
    assert renamed.id == chat.id
    assert renamed.name == "new"
    assert renamed.updated > chat.updated
    assert store.get_chat(default_id, "old") is None
    assert [m.content for m in store.messages(chat.id)] == ["kept"]


def test_rename_to_same_name_is_a_no_op(store, default_id):
    chat = store.create_chat(default_id, "same")
    assert store.rename_chat(default_id, "same", "same") == chat


def test_rename_errors(store, default_id):
    store.create_chat(default_id, "a")
    store.create_chat(default_id, "b")
    with pytest.raises(NotFound, match=r"^chat 'ghost' not found in profile 'default'$"):
        store.rename_chat(default_id, "ghost", "c")
    with pytest.raises(Conflict, match=r"^chat 'b' already exists in profile 'default'$"):
        store.rename_chat(default_id, "a", "b")
    assert store.get_chat(default_id, "a") is not None


def test_delete_chat_cascades_messages(store, default_id):
    chat = store.create_chat(default_id, "gone")
    store.add_message(chat.id, "user", "hi")
    keep = store.create_chat(default_id, "kept")
    store.add_message(keep.id, "user", "stay")
    store.delete_chat(default_id, "gone")
    assert store.get_chat(default_id, "gone") is None
    assert store.count_messages(chat.id) == 0
    assert store.count_messages(keep.id) == 1


def test_delete_missing_chat_is_not_found(store, default_id):
    with pytest.raises(NotFound, match=r"^chat 'ghost' not found in profile 'default'$"):
        store.delete_chat(default_id, "ghost")


def test_update_chat(store, default_id):
    chat = store.create_chat(default_id, "notes", provider="openai", model="gpt-4o")
    _tick()
    updated = store.update_chat(chat.id, model="gpt-4.1", personality="terse")
    assert (updated.provider, updated.model, updated.personality) == (
        "openai", "gpt-4.1", "terse")
    assert updated.updated > chat.updated
    reset = store.update_chat(chat.id, provider=None, model=None)
    assert (reset.provider, reset.model, reset.personality) == (None, None, "terse")


def test_update_chat_refuses_other_fields(store, default_id):
    chat = store.create_chat(default_id, "notes")
    with pytest.raises(BadRequest, match=r"cannot update chat field\(s\) 'name'"):
        store.update_chat(chat.id, name="other")
    assert store.get_chat_by_id(chat.id).name == "notes"


def test_update_or_touch_missing_chat_is_not_found(store):
    with pytest.raises(NotFound, match=r"^chat #404 not found$"):
        store.update_chat(404, model="x")
    with pytest.raises(NotFound, match=r"^chat #404 not found$"):
        store.touch_chat(404)
