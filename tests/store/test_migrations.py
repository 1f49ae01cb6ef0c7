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
        updated TEXT NOT NULL, tools TEXT,
        UNIQUE (profile_id, name)
    )""",  # tools: 0006_persona_tools (ALTER TABLE … ADD COLUMN writes it there)
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
    # 0002_chat_management
    ("table", "summaries"): """CREATE TABLE summaries (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        last_id INTEGER NOT NULL,
        messages INTEGER NOT NULL,
        content TEXT NOT NULL,
        provider TEXT,
        model TEXT,
        usage TEXT,
        created TEXT NOT NULL,
        UNIQUE (chat_id, key)
    )""",
    ("table", "usage_log"): """CREATE TABLE usage_log (
        id INTEGER PRIMARY KEY,
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        chat_id INTEGER REFERENCES chats(id) ON DELETE SET NULL,
        chat TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('reply', 'summary')),
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER,
        output_tokens INTEGER,
        duration_ms INTEGER,
        status TEXT NOT NULL,
        created TEXT NOT NULL
    )""",
    ("index", "usage_log_profile"): "CREATE INDEX usage_log_profile ON usage_log (profile_id, created)",
    ("index", "messages_outline"):
        "CREATE INDEX messages_outline ON messages (chat_id, id, role, status, tokens)",
    # 0003_workspace
    ("table", "workspace"): """CREATE TABLE workspace (
        id INTEGER PRIMARY KEY,
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        chat_id INTEGER REFERENCES chats(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        title TEXT,
        content TEXT NOT NULL,
        meta TEXT,
        tokens INTEGER NOT NULL,
        encoding TEXT NOT NULL,
        benched INTEGER NOT NULL DEFAULT 0 CHECK (benched IN (0, 1)),
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    )""",
    ("index", "workspace_scope_name"):
        "CREATE UNIQUE INDEX workspace_scope_name ON workspace (profile_id, ifnull(chat_id, 0), name)",
    ("index", "workspace_chat_id"): "CREATE INDEX workspace_chat_id ON workspace (chat_id)",
    # 0004_vectors (vec0 index tables are made per embedding space at run time, not here)
    ("table", "documents"): """CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        title TEXT,
        kind TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        chunking TEXT NOT NULL,
        chars INTEGER NOT NULL,
        meta TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        UNIQUE (profile_id, source)
    )""",
    ("table", "chunks"): """CREATE TABLE chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        text TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL,
        heading TEXT,
        page INTEGER,
        sha256 TEXT NOT NULL,
        UNIQUE (document_id, seq)
    )""",
    ("table", "chunks_fts"): """CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, heading, content='chunks', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    ("table", "chunks_fts_data"): "CREATE TABLE 'chunks_fts_data'(id INTEGER PRIMARY KEY, block BLOB)",
    ("table", "chunks_fts_idx"):
        "CREATE TABLE 'chunks_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID",
    ("table", "chunks_fts_docsize"): "CREATE TABLE 'chunks_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB)",
    ("table", "chunks_fts_config"): "CREATE TABLE 'chunks_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID",
    ("trigger", "chunks_fts_insert"): """CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts (rowid, text, heading) VALUES (new.id, new.text, new.heading);
    END""",
    ("trigger", "chunks_fts_delete"): """CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts (chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, old.heading);
    END""",
    ("trigger", "chunks_fts_update"): """CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text, heading ON chunks BEGIN
        INSERT INTO chunks_fts (chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, old.heading);
        INSERT INTO chunks_fts (rowid, text, heading) VALUES (new.id, new.text, new.heading);
    END""",
    ("table", "embedding_spaces"): """CREATE TABLE embedding_spaces (
        id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        dimension INTEGER NOT NULL,
        created TEXT NOT NULL,
        UNIQUE (model, dimension)
    )""",
    ("table", "embeddings"): """CREATE TABLE embeddings (
        space_id INTEGER NOT NULL REFERENCES embedding_spaces(id) ON DELETE CASCADE,
        chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
        vector BLOB NOT NULL,
        PRIMARY KEY (space_id, chunk_id)
    )""",
    ("index", "embeddings_chunk_id"): "CREATE INDEX embeddings_chunk_id ON embeddings (chunk_id)",
    # 0005_tools
    ("table", "attachments"): """CREATE TABLE attachments (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        mime TEXT NOT NULL,
        size INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        data BLOB NOT NULL,
        created TEXT NOT NULL
    )""",
    ("table", "message_attachments"): """CREATE TABLE message_attachments (
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        attachment_id INTEGER NOT NULL REFERENCES attachments(id),
        name TEXT,
        PRIMARY KEY (message_id, position)
    )""",
    ("index", "message_attachments_attachment"):
        "CREATE INDEX message_attachments_attachment ON message_attachments (attachment_id)",
    ("trigger", "attachments_unused"): """CREATE TRIGGER attachments_unused AFTER DELETE ON message_attachments
    WHEN NOT EXISTS (SELECT 1 FROM message_attachments WHERE attachment_id = OLD.attachment_id)
    BEGIN
        DELETE FROM attachments WHERE id = OLD.attachment_id;
    END""",
    ("table", "tool_calls"): """CREATE TABLE tool_calls (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        round INTEGER NOT NULL,
        call_id TEXT NOT NULL,
        name TEXT NOT NULL,
        arguments TEXT NOT NULL,
        result TEXT,
        status TEXT NOT NULL
            CHECK (status IN ('running', 'ok', 'error', 'refused', 'skipped', 'cancelled')),
        error TEXT,
        duration_ms INTEGER,
        tokens INTEGER,
        created TEXT NOT NULL
    )""",
    ("index", "tool_calls_message"): "CREATE INDEX tool_calls_message ON tool_calls (message_id, round, id)",
    ("table", "chat_tools"): """CREATE TABLE chat_tools (
        chat_id INTEGER PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
        tools TEXT NOT NULL,
        updated TEXT NOT NULL
    )""",
    ("table", "tool_approvals"): """CREATE TABLE tool_approvals (
        chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        tool TEXT NOT NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (chat_id, tool)
    )""",
    ("table", "workflow_runs"): """CREATE TABLE workflow_runs (
        id TEXT PRIMARY KEY,
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        workflow TEXT NOT NULL,
        chat_id INTEGER REFERENCES chats(id) ON DELETE SET NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'error', 'cancelled')),
        inputs TEXT NOT NULL,
        outputs TEXT,
        error TEXT,
        created TEXT NOT NULL,
        finished TEXT
    )""",
    ("index", "workflow_runs_profile"): "CREATE INDEX workflow_runs_profile ON workflow_runs (profile_id, created)",
    # 0007_message_search: what was said, searchable (user and assistant messages only).
    ("table", "messages_fts"): """CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    )""",
    ("table", "messages_fts_data"): "CREATE TABLE 'messages_fts_data'(id INTEGER PRIMARY KEY, block BLOB)",
    ("table", "messages_fts_idx"):
        "CREATE TABLE 'messages_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID",
    ("table", "messages_fts_docsize"): "CREATE TABLE 'messages_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB)",
    ("table", "messages_fts_config"): "CREATE TABLE 'messages_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID",
    ("trigger", "messages_fts_insert"): """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
        WHEN new.role IN ('user', 'assistant') AND (new.status != 'partial' OR new.finished IS NOT NULL) BEGIN
        INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
        END""",
    ("trigger", "messages_fts_delete"): """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
        WHEN old.role IN ('user', 'assistant') AND (old.status != 'partial' OR old.finished IS NOT NULL) BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        END""",
    ("trigger", "messages_fts_update"): """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, status, finished
        ON messages
        WHEN old.role IN ('user', 'assistant') AND (old.status != 'partial' OR old.finished IS NOT NULL)
        OR new.role IN ('user', 'assistant') AND (new.status != 'partial' OR new.finished IS NOT NULL) BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content) SELECT 'delete', old.id, old.content
        WHERE old.role IN ('user', 'assistant') AND (old.status != 'partial' OR old.finished IS NOT NULL);
        INSERT INTO messages_fts (rowid, content) SELECT new.id, new.content
        WHERE new.role IN ('user', 'assistant') AND (new.status != 'partial' OR new.finished IS NOT NULL);
        END""",
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
