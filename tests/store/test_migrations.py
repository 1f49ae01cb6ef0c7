"""A blank database ends with exactly this schema; migrations run once each."""

from __future__ import annotations

import logging

import pytest

from chatthy.store import Store, applied_migrations, migrate
from chatthy.store.migrations import MIGRATIONS

# Written out independently of migrations.py: a change to the schema must
# change this text too, deliberately.
EXPECTED_SCHEMA = {
    ("table", "_migrations"): """CREATE TABLE _migrations (
        name TEXT PRIMARY KEY,
        applied TEXT NOT NULL
    )""",
    ("table", "profiles"): """CREATE TABLE profiles (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL
    )""",
    ("table", "personalities"): """CREATE TABLE personalities (
        id INTEGER PRIMARY KEY,
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        prompt TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        UNIQUE (profile_id, name)
    )""",
    ("table", "chats"): """CREATE TABLE chats (
        id INTEGER PRIMARY KEY,
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        personality TEXT,
        provider TEXT,
        model TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        UNIQUE (profile_id, name)
    )""",
    ("table", "messages"): """CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
        content TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'complete'
            CHECK (status IN ('complete', 'partial', 'error', 'cancelled')),
        tokens INTEGER,
        provider TEXT,
        model TEXT,
        usage TEXT,
        error TEXT,
        meta TEXT,
        created TEXT NOT NULL,
        finished TEXT,
        edited TEXT,
        duration_ms INTEGER
    )""",
    ("index", "messages_chat_id"): "CREATE INDEX messages_chat_id ON messages (chat_id, id)",
    ("table", "settings"): """CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
}


def _normalise(sql: str) -> str:
    return " ".join(sql.split())


def _schema(store: Store) -> dict[tuple[str, str], str]:
    rows = store.conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return {(kind, name): _normalise(sql) for kind, name, sql in rows}


def test_blank_database_has_exactly_the_expected_schema(store):
    expected = {key: _normalise(sql) for key, sql in EXPECTED_SCHEMA.items()}
    assert _schema(store) == expected


def test_migrations_are_recorded_by_name(store):
    assert applied_migrations(store.db) == [name for name, _ in MIGRATIONS]
    assert applied_migrations(store.db)[0] == "0001_core"
    rows = store.conn.execute("SELECT name, applied FROM _migrations").fetchall()
    assert all(applied.endswith("Z") for _, applied in rows)


def test_default_profile_is_created(store):
    assert [p.name for p in store.list_profiles()] == ["default"]


def test_migrate_twice_is_a_no_op(store):
    before = _schema(store)
    profiles = store.list_profiles()
    assert migrate(store.db) == []
    assert _schema(store) == before
    assert store.list_profiles() == profiles


def test_reopening_applies_nothing(tmp_path):
    path = tmp_path / "chatthy.db"
    with Store.open(path) as first:
        first.create_chat(first.profile("default").id, "kept")
        applied = first.conn.execute("SELECT name, applied FROM _migrations").fetchall()
    with Store.open(path) as second:
        assert second.conn.execute("SELECT name, applied FROM _migrations").fetchall() == applied
        assert [c.name for c in second.list_chats(second.profile("default").id)] == ["kept"]


def test_new_migration_runs_once_after_the_old_ones(store):
    calls = []

    def add_table(db):
        calls.append(1)
        db.conn.execute("CREATE TABLE extra (id INTEGER PRIMARY KEY)")

    extended = [*MIGRATIONS, ("9999_extra", add_table)]
    assert migrate(store.db, extended) == ["9999_extra"]
    assert migrate(store.db, extended) == []
    assert calls == [1]
    assert applied_migrations(store.db)[-1] == "9999_extra"


def test_failing_migration_leaves_nothing_behind(store):
    def half_done(db):
        db.conn.execute("CREATE TABLE half (id INTEGER PRIMARY KEY)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        migrate(store.db, [*MIGRATIONS, ("9999_half", half_done)])
    assert "half" not in store.db.table_names()
    assert "9999_half" not in applied_migrations(store.db)
    assert not store.conn.in_transaction


def test_unknown_applied_migration_is_logged_not_fatal(store, caplog):
    store.conn.execute(
        "INSERT INTO _migrations (name, applied) VALUES ('9999_future', '2030-01-01T00:00:00.000Z')"
    )
    with caplog.at_level(logging.WARNING, logger="chatthy.store"):
        assert migrate(store.db) == []
    assert "9999_future" in caplog.text
