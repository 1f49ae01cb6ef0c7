"""Names for chats started without -c: sortable, about the prompt, never taken."""

from __future__ import annotations

import time

from chatthy.server.handlers import ask as ask_handler


def name_now(store, monkeypatch, prompt: str) -> str:
    monkeypatch.setattr(time, "strftime", lambda fmt: "20261125-101010")
    return ask_handler.auto_chat_name(store, store.profile("default").id, prompt)


def test_the_same_question_in_the_same_second_gets_the_next_number(store, monkeypatch):
    pid = store.profile("default").id
    names = []
    for _ in range(12):
        name = name_now(store, monkeypatch, "Explain SQLite WAL, please!")
        store.create_chat(pid, name)
        names.append(name)
    base = "20261125-101010-explain-sqlite-wal-please"
    assert names == [base] + [f"{base}-{n}" for n in range(2, 13)]


def test_names_made_by_hand_are_stepped_over(store, monkeypatch):
    pid = store.profile("default").id
    base = "20261125-101010-hi"
    for name in (base, f"{base}-7x", f"{base}-8"):  # -7x casts to 7 in SQL: still never reused
        store.create_chat(pid, name)
    assert name_now(store, monkeypatch, "hi") == f"{base}-9"
    store.create_chat(pid, f"{base}-9")
    assert name_now(store, monkeypatch, "hi") == f"{base}-10"


def test_glob_characters_in_the_prompt_match_only_themselves(store, monkeypatch):
    pid = store.profile("default").id
    # Words are [a-z0-9]+, so the base has no glob characters of its own; another
    # chat whose name merely matches a wider pattern must not count.
    store.create_chat(pid, "20261125-101010-a")
    store.create_chat(pid, "20261125-101010-ab-5")
    assert name_now(store, monkeypatch, "a") == "20261125-101010-a-2"
    assert name_now(store, monkeypatch, "***") == "20261125-101010"  # no words: the time alone
