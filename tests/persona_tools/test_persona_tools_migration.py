"""A database made before personalities had tools: the daemon migrates it, and everything in it carries on."""

from __future__ import annotations

import json
import shutil

import pytest

from chatthy.store.connection import open_connection, sqlite_utils
from chatthy.store.migrations import MIGRATIONS, migrate
from tests.conftest import db_rows, make_home, running_daemon
from tests.fakes.replies import Text, ToolCalls
from tests.persona_tools.conftest import completions, offered, persona_json

BEFORE = "0005_tools"


def make_old_database(path) -> None:
    """The schema as chatthy had it up to 0005_tools, with a personality and a chat using it."""
    names = [name for name, _ in MIGRATIONS]
    old = MIGRATIONS[: names.index(BEFORE) + 1]
    conn = open_connection(path)
    try:
        migrate(sqlite_utils.Database(conn, execute_plugins=False), old)
        stamp = "2025-01-01T00:00:00.000Z"
        conn.execute("INSERT INTO personalities (profile_id, name, prompt, created, updated)"
                     " VALUES (1, 'legacy', 'Old prompt.', ?, ?)", (stamp, stamp))
        conn.execute("INSERT INTO chats (profile_id, name, personality, created, updated)"
                     " VALUES (1, 'old-chat', 'legacy', ?, ?)", (stamp, stamp))
        conn.execute("INSERT INTO messages (chat_id, role, content, tokens, created)"
                     " VALUES (1, 'user', 'an old question', 5, ?)", (stamp,))
        conn.execute("INSERT INTO messages (chat_id, role, content, tokens, created)"
                     " VALUES (1, 'assistant', 'an old answer', 5, ?)", (stamp,))
        columns = [row[1] for row in conn.execute("PRAGMA table_info(personalities)")]
        assert "tools" not in columns  # really the old schema
    finally:
        conn.close()


@pytest.fixture
def old_home(fake):
    home = make_home(fake)
    home.data_dir.mkdir(parents=True)
    make_old_database(home.database)
    try:
        with running_daemon(home):
            yield home
    finally:
        shutil.rmtree(home.root, ignore_errors=True)


def test_an_old_database_is_migrated_and_its_personality_gains_tools(old_home, fake):
    shown = persona_json(old_home, "legacy")  # answered once the daemon has migrated (its socket comes first)
    applied = [name for (name,) in db_rows(old_home, "SELECT name FROM _migrations ORDER BY rowid")]
    assert applied == [name for name, _ in MIGRATIONS] and "0006_persona_tools" in applied
    assert (shown["prompt"], shown["tools"], shown["updated"]) == ("Old prompt.", None, "2025-01-01T00:00:00.000Z")

    # no tools of its own: the old chat asks as before (no [tools] default here: no tools at all)
    old_home.run("ask", "-c", "old-chat", "still there?", check=True)
    body = completions(fake)[-1].json
    assert "tools" not in body
    assert [m["content"] for m in body["messages"]] == ["Old prompt.", "an old question", "an old answer",
                                                        "still there?"]

    old_home.run("persona", "set", "legacy", "--tools", "calculator", check=True)
    assert db_rows(old_home, "SELECT prompt, tools FROM personalities WHERE name = 'legacy'") == \
        [("Old prompt.", '["calculator"]')]
    fake.script(ToolCalls([("m1", "calculator", {"expression": "1 + 1"})]), Text(["2"]))
    out = old_home.run("ask", "-c", "old-chat", "one plus one?")
    assert (out.returncode, out.stdout) == (0, "2\n"), out.stderr
    assert offered(completions(fake)[-2]) == ["calculator"]
    calls = json.loads(old_home.run("tools", "calls", "old-chat", "--json", check=True).stdout)
    assert [(c["name"], c["result"]) for c in calls] == [("calculator", "2")]
