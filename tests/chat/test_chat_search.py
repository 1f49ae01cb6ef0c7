"""`chatthy chat search`: full-text search over what was said, end to end.

The module's daemon is shared: each test makes up its own words, so hits
from other tests cannot match.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.store import Store, migrate  # first: it binds sqlite_utils to sqlean
from chatthy.store.connection import load_vec, open_connection, sqlite_utils
from chatthy.store.message_search import fts_query, search_messages
from chatthy.store.migrations import MIGRATIONS
from tests.fakes.replies import Text


def word() -> str:
    return "w" + uuid.uuid4().hex[:10]


def search(home, *args) -> list[dict]:
    return json.loads(home.run("chat", "search", "--json", *args, check=True).stdout)


def test_finds_questions_and_answers_across_chats_best_first(mhome, fresh):
    cat, fish = word(), word()
    fresh.script(Text([f"The {cat} sleeps all day; a {cat} is a {cat}."]), Text(["Nothing to see."]))
    mhome.run("ask", "-c", f"pets-{cat}", f"Tell me about the {cat}", check=True)
    mhome.run("ask", "-c", f"fish-{cat}", f"what about {fish} and the {cat}?", check=True)
    hits = search(mhome, cat)
    assert {h["chat"] for h in hits} == {f"pets-{cat}", f"fish-{cat}"}
    assert hits[0]["role"] == "assistant" and hits[0]["chat"] == f"pets-{cat}"  # three mentions rank first
    for hit in hits:
        for start, end in hit["highlights"]:
            assert hit["snippet"][start:end].lower() == cat
    assert [h["chat"] for h in search(mhome, cat, fish)] == [f"fish-{cat}"]  # every word must appear
    assert [h["role"] for h in search(mhome, "--role", "user", cat, fish)] == ["user"]
    assert {h["chat"] for h in search(mhome, "-c", f"pets-{cat}", cat)} == {f"pets-{cat}"}
    assert len(search(mhome, "-n", "1", cat)) == 1


def test_phrases_prefixes_and_text_that_looks_like_syntax(mhome, fresh):
    w = word()
    mhome.run("ask", "-c", f"syntax-{w}", f"{w} uses c++ templates, NOT OR AND col:umn (x) ^y -z \"q\"", check=True)
    assert search(mhome, f'"{w} uses"')
    assert not search(mhome, f'"uses {w}"')  # a phrase is in order
    assert search(mhome, w[:6] + "*")
    for text in ["c++", "NOT", "OR AND", "col:umn", "(x)", "^y", "-z", '"q"', "'", '"', "*", "NEAR(a b)"]:
        out = mhome.run("chat", "search", "--json", "--", w, text)  # -- : "-z" is a word here
        assert out.returncode == 0, (text, out.stderr)


def test_nothing_to_search_for_is_one_line_and_exit_2(mhome):
    for args in (["chat", "search", "*"], ["chat", "search", '""'], ["chat", "search", "   "]):
        out = mhome.run(*args)
        assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
        assert "nothing to search for" in out.stderr


def test_the_index_follows_edits_and_deletions(mhome, fresh):
    old, new, gone = word(), word(), word()
    chat = f"edits-{old}"
    mhome.run("ask", "-c", chat, f"first {old}", check=True)
    mhome.run("ask", "-c", chat, "--edit-last", f"second {new}", check=True)
    assert search(mhome, old) == []
    assert {h["role"] for h in search(mhome, new)} == {"user", "assistant"}
    mhome.run("ask", "-c", f"doomed-{gone}", f"about {gone}", check=True)
    assert search(mhome, gone)
    mhome.run("chat", "delete", f"doomed-{gone}", check=True)
    assert search(mhome, gone) == []
    mhome.run("chat", "undo", chat, check=True)
    assert search(mhome, new) == []


def test_a_streamed_reply_is_found_by_its_final_text(mhome, fresh):
    w = word()
    fresh.script(Text(["part one, ", f"then {w}", " at the end"], delay=0.05))
    mhome.run("ask", "-c", f"stream-{w}", "go", check=True)
    [hit] = search(mhome, w)
    assert hit["role"] == "assistant" and w in hit["snippet"]


def test_plain_output_is_one_line_per_hit_and_a_terminal_gets_marks(mhome, fresh):
    w = word()
    mhome.run("ask", "-c", f"plain-{w}", f"line one {w}\nline two", check=True)
    lines = mhome.run("chat", "search", w, check=True).stdout.splitlines()
    assert len(lines) == 2  # the question and the echo
    chat, msg_id, role, when, snippet = lines[0].split("\t")
    assert chat == f"plain-{w}" and msg_id.startswith("#") and role in ("user", "assistant")
    assert "\n" not in snippet and w in snippet


def test_other_profiles_are_not_searched(mhome, fresh):
    w = word()
    mhome.run("profile", "create", f"p-{w}", check=True)
    mhome.run("--profile", f"p-{w}", "ask", "-c", "elsewhere", f"secret {w}", check=True)
    assert search(mhome, w) == []
    out = json.loads(mhome.run("--profile", f"p-{w}", "chat", "search", "--json", w, check=True).stdout)
    assert {h["chat"] for h in out} == {"elsewhere"}


def test_messages_from_before_the_migration_are_found(tmp_path):
    path = tmp_path / "chatthy.db"
    before = [m for m in MIGRATIONS if m[0] != "0007_message_search"]
    conn = open_connection(path)
    load_vec(conn)
    migrate(sqlite_utils.Database(conn, execute_plugins=False), before)
    now = "2026-01-01T00:00:00.000Z"
    conn.execute("INSERT INTO chats (profile_id, name, created, updated) VALUES (1, 'old', ?, ?)", (now, now))
    for role, text in (("user", "an old question about lighthouses"), ("tool", "a tool result about lighthouses")):
        conn.execute("INSERT INTO messages (chat_id, role, content, created) VALUES (1, ?, ?, ?)", (role, text, now))
    conn.close()
    with Store.open(path) as store:
        hits = search_messages(store.conn, store.profile("default").id, "lighthouses")
        assert [(h.chat, h.role) for h in hits] == [("old", "user")]  # tool results are not indexed


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_a_valid_query_or_a_plain_refusal(text):
    """Whatever the user types, FTS5 never sees syntax it cannot parse."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(content, tokenize='unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t (content) VALUES ('some text to find')")
    try:
        query = fts_query(text)
    except ValueError:
        assert not any(ch.isalnum() for ch in text.replace("*", ""))  # only refused when there is nothing
        return
    conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (query,)).fetchall()


def test_marks_go_around_the_matches_and_text_cannot_drive_the_terminal():
    from chatthy.cli.search_hits import marked

    assert marked("a cat and a cat", [[2, 5], [12, 15]], "[", "]") == "a [cat] and a [cat]"
    assert marked("x\x1b[2J cat", [[6, 9]], "[", "]") == "x^[[2J [cat]"
    # Spans a daemon should never send (overlapping, reversed, past the end) are shown unmarked.
    assert marked("a cat", [[2, 5], [3, 4], [4, 2], [0, 99], ["a", 1]], "[", "]") == "a [cat]"


WORDS = ["apple", "birch", "cedar", "delta", "ember"]
ops = st.lists(st.one_of(
    st.tuples(st.just("add"), st.sampled_from(["user", "assistant", "tool", "system"]),
              st.sampled_from(["complete", "partial", "error", "cancelled"]), st.sets(st.sampled_from(WORDS))),
    st.tuples(st.just("text"), st.integers(0, 30), st.sets(st.sampled_from(WORDS))),
    st.tuples(st.just("status"), st.integers(0, 30), st.sampled_from(["complete", "error", "cancelled"])),
    st.tuples(st.just("finish"), st.integers(0, 30)),
    st.tuples(st.just("delete"), st.integers(0, 30)),
), max_size=30)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_the_index_always_matches_what_is_said(tmp_path_factory, steps):
    """Any sequence of writes: search finds exactly the finished user/assistant
    messages holding the word (a stale or corrupted index would not)."""
    path = tmp_path_factory.mktemp("fts") / "chatthy.db"
    with Store.open(path) as store:
        pid = store.profile("default").id
        chat = store.create_chat(pid, "c")
        ids: list[int] = []
        for step in steps:
            if step[0] == "add":
                _, role, status, words = step
                ids.append(store.add_message(chat.id, role, " ".join(sorted(words)) or "-", status=status).id)
            elif ids:
                target = ids[step[1] % len(ids)]
                if step[0] == "text":
                    store.update_message(target, content=" ".join(sorted(step[2])) or "-")
                elif step[0] == "status":
                    store.update_message(target, status=step[2])
                elif step[0] == "finish":
                    store.update_message(target, finished=True)
                else:
                    store.conn.execute("DELETE FROM messages WHERE id = ?", (target,))
                    ids.remove(target)
        rows = store.conn.execute("SELECT id, role, status, finished, content FROM messages").fetchall()
        for w in WORDS:
            expected = {i for i, role, status, finished, text in rows
                        if role in ("user", "assistant") and (status != "partial" or finished) and w in text.split()}
            assert {h.message_id for h in search_messages(store.conn, pid, w, limit=500)} == expected, w


def test_a_reply_is_found_once_it_ends_and_an_interrupted_one_after_a_restart(tmp_path):
    from chatthy.server.generation import mark_interrupted

    with Store.open(tmp_path / "chatthy.db") as store:
        pid = store.profile("default").id
        chat = store.create_chat(pid, "c")
        growing = store.add_message(chat.id, "assistant", "", status="partial")
        store.update_message(growing.id, content="half of a kestrel")  # a flush: not indexed yet
        assert search_messages(store.conn, pid, "kestrel") == []
        store.update_message(growing.id, content="half of a kestrel, then all", status="complete", finished=True)
        assert [h.message_id for h in search_messages(store.conn, pid, "kestrel")] == [growing.id]
        cut = store.add_message(chat.id, "assistant", "", status="partial")
        store.update_message(cut.id, content="a heron, cut short")  # the daemon dies here
        assert search_messages(store.conn, pid, "heron") == []
        mark_interrupted(store)  # the next start stamps it finished: now it is what was said
        assert [h.message_id for h in search_messages(store.conn, pid, "heron")] == [cut.id]
