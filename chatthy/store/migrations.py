"""The database schema, as an append-only list of named migrations.

Each migration is a function registered with ``@migration("NNNN_name")``; it
runs once, in its own transaction, and its name is then recorded in
``_migrations``. Never edit or reorder a migration that has shipped: add a new
one. ``tests/store/test_migrations.py`` pins the schema a blank database ends
with, so any change to it is deliberate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from .connection import sqlite_utils, transaction
from .models import now_iso

log = logging.getLogger("chatthy.store")

MigrationFn = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[tuple[str, MigrationFn]] = []


def migration(name: str) -> Callable[[MigrationFn], MigrationFn]:
    """Register the decorated function as the next migration, called ``name``."""

    def register(fn: MigrationFn) -> MigrationFn:
        if any(existing == name for existing, _ in MIGRATIONS):
            raise ValueError(f"duplicate migration name {name!r}")
        MIGRATIONS.append((name, fn))
        return fn

    return register


def _ensure_table(db: sqlite_utils.Database) -> None:
    db.conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (\n"
        "    name TEXT PRIMARY KEY,\n"
        "    applied TEXT NOT NULL\n"
        ")"
    )


def applied_migrations(db: sqlite_utils.Database) -> list[str]:
    """Names of the migrations applied to ``db``, in the order they ran."""
    _ensure_table(db)
    rows = db.conn.execute("SELECT name FROM _migrations ORDER BY rowid").fetchall()
    return [name for (name,) in rows]


def migrate(
    db: sqlite_utils.Database,
    migrations: Sequence[tuple[str, MigrationFn]] | None = None,
) -> list[str]:
    """Apply every migration ``db`` lacks; return the names applied (idempotent)."""
    migrations = MIGRATIONS if migrations is None else migrations
    done = set(applied_migrations(db))
    known = {name for name, _ in migrations}
    unknown = sorted(done - known)
    if unknown:
        # A newer chatthy wrote this file. Its extra tables are additive, so
        # carry on, but leave a trace for whoever debugs a downgrade.
        log.warning("database has migrations this chatthy does not know: %s", unknown)
    applied = []
    for name, fn in migrations:
        if name in done:
            continue
        with transaction(db.conn):
            fn(db)
            db.conn.execute(
                "INSERT INTO _migrations (name, applied) VALUES (?, ?)", (name, now_iso())
            )
        log.info("applied migration %s", name)
        applied.append(name)
    return applied


@migration("0001_core")
def _core(db: sqlite_utils.Database) -> None:
    statements = (
        """CREATE TABLE profiles (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL
)""",
        """CREATE TABLE personalities (
    id INTEGER PRIMARY KEY,
    profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prompt TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (profile_id, name)
)""",
        """CREATE TABLE chats (
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
        """CREATE TABLE messages (
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
        "CREATE INDEX messages_chat_id ON messages (chat_id, id)",
        """CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
)""",
    )
    for sql in statements:
        db.conn.execute(sql)
    db.conn.execute(
        "INSERT INTO profiles (name, created) VALUES ('default', ?)", (now_iso(),)
    )


@migration("0002_chat_management")
def _chat_management(db: sqlite_utils.Database) -> None:
    # Summaries of history dropped to fit the context window ([chat] truncation =
    # "summarise"). ``key`` identifies exactly which messages (ids and version
    # stamps) a summary covers, so an edited or removed message never reuses a
    # stale summary; ``last_id`` lets a longer dropped span extend a shorter one.
    db.conn.execute(
        """CREATE TABLE summaries (
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
)"""
    )
    # What each provider call cost, kept apart from the messages: a retried,
    # undone or deleted reply was still paid for. ``chat`` is the name at the
    # time (a deleted chat's spending stays attributable).
    db.conn.execute(
        """CREATE TABLE usage_log (
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
)"""
    )
    db.conn.execute("CREATE INDEX usage_log_profile ON usage_log (profile_id, created)")
    # Assembling a request reads every message's role, status and token count,
    # but the text only of those kept: this covering index answers the first
    # read without touching the rows (whose large content sits before the
    # token count, so reading a row walks its overflow pages).
    db.conn.execute("CREATE INDEX messages_outline ON messages (chat_id, id, role, status, tokens)")
    # Replies written before this migration count too.
    db.conn.execute(
        """INSERT INTO usage_log (profile_id, chat_id, chat, kind, provider, model,
    input_tokens, output_tokens, duration_ms, status, created)
SELECT c.profile_id, c.id, c.name, 'reply', m.provider, coalesce(m.model, ''),
    json_extract(m.usage, '$.input_tokens'), json_extract(m.usage, '$.output_tokens'),
    m.duration_ms, m.status, m.created
FROM messages m JOIN chats c ON c.id = m.chat_id
WHERE m.role = 'assistant' AND m.provider IS NOT NULL AND m.status != 'partial'
ORDER BY m.id"""
    )


@migration("0003_workspace")
def _workspace(db: sqlite_utils.Database) -> None:
    # Files loaded into a chat's context. ``chat_id`` NULL: profile-wide (every
    # chat of the profile sees it). ``tokens`` were counted with ``encoding``
    # (a tiktoken encoding name) when loaded, so listing and assembling need
    # not re-tokenise while the model's encoding stays the same. ``source`` is
    # where a refresh reads it again: a client path, a URL, or "-" (stdin).
    db.conn.execute(
        """CREATE TABLE workspace (
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
)"""
    )
    # One name per scope; NULL chat ids would never collide in a plain UNIQUE.
    db.conn.execute(
        "CREATE UNIQUE INDEX workspace_scope_name ON workspace (profile_id, ifnull(chat_id, 0), name)"
    )
    db.conn.execute("CREATE INDEX workspace_chat_id ON workspace (chat_id)")


@migration("0004_vectors")
def _vectors(db: sqlite_utils.Database) -> None:
    # The vector store (chatthy/vdb). A document is one ingested source per
    # profile; ``sha256`` is of its extracted text and ``chunking`` names how it
    # was cut, so re-ingesting an unchanged source does nothing. Chunks are exact
    # slices of the text (``start_char``/``end_char``); their ``sha256`` is of
    # what was embedded, so an edited document re-embeds only what changed.
    # AUTOINCREMENT: a chunk id is never reused, so a stale row left in a vector
    # index (see below) can never point at another chunk.
    statements = (
        """CREATE TABLE documents (
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
        """CREATE TABLE chunks (
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
        # BM25 over the same chunks; kept in step by triggers (cascaded deletes fire them too).
        """CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text, heading, content='chunks', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
)""",
        """CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, text, heading) VALUES (new.id, new.text, new.heading);
END""",
        """CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, old.heading);
END""",
        """CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text, heading ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, old.heading);
    INSERT INTO chunks_fts (rowid, text, heading) VALUES (new.id, new.text, new.heading);
END""",
        # One space per (embedding model, dimension): vectors of two spaces are
        # never compared. Each space gets a vec0 index table at run time
        # (``vec_space_<id>``: sign bits of the vectors, partitioned by profile),
        # derived from ``embeddings`` and rebuilt from it whenever needed.
        """CREATE TABLE embedding_spaces (
    id INTEGER PRIMARY KEY,
    model TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (model, dimension)
)""",
        # The vectors themselves (float32, unit length): exact re-scoring and
        # the numpy fallback read them; they do not need sqlite-vec.
        """CREATE TABLE embeddings (
    space_id INTEGER NOT NULL REFERENCES embedding_spaces(id) ON DELETE CASCADE,
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    vector BLOB NOT NULL,
    PRIMARY KEY (space_id, chunk_id)
)""",
        "CREATE INDEX embeddings_chunk_id ON embeddings (chunk_id)",
    )
    for sql in statements:
        db.conn.execute(sql)


@migration("0005_tools")
def _tools(db: sqlite_utils.Database) -> None:
    # Images attached to messages, stored once per content (sha256) however
    # often they are attached; the trigger removes an image when the last
    # message using it goes (deleting a chat cascades to message_attachments).
    # Tool calls of a reply, one row per call, in the rounds they were made:
    # enough to replay the exchange to the model and to show it (args, result,
    # error, timing). ``chat_tools``: the tools a chat has on; ``tool_approvals``:
    # "always" answers. ``workflow_runs``: runs of `chatthy run`, kept after the
    # run for `run list` and `run --attach`.
    statements = (
        """CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    data BLOB NOT NULL,
    created TEXT NOT NULL
)""",
        """CREATE TABLE message_attachments (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    attachment_id INTEGER NOT NULL REFERENCES attachments(id),
    name TEXT,
    PRIMARY KEY (message_id, position)
)""",
        "CREATE INDEX message_attachments_attachment ON message_attachments (attachment_id)",
        """CREATE TRIGGER attachments_unused AFTER DELETE ON message_attachments
WHEN NOT EXISTS (SELECT 1 FROM message_attachments WHERE attachment_id = OLD.attachment_id)
BEGIN
    DELETE FROM attachments WHERE id = OLD.attachment_id;
END""",
        """CREATE TABLE tool_calls (
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
        "CREATE INDEX tool_calls_message ON tool_calls (message_id, round, id)",
        """CREATE TABLE chat_tools (
    chat_id INTEGER PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
    tools TEXT NOT NULL,
    updated TEXT NOT NULL
)""",
        """CREATE TABLE tool_approvals (
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    tool TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (chat_id, tool)
)""",
        """CREATE TABLE workflow_runs (
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
        "CREATE INDEX workflow_runs_profile ON workflow_runs (profile_id, created)",
    )
    for sql in statements:
        db.conn.execute(sql)


@migration("0006_persona_tools")
def _persona_tools(db: sqlite_utils.Database) -> None:
    # The tools a personality asks for (chatthy/server/tool_plan.py): a JSON
    # list of tool names, or ["all"] / ["none"]; NULL names none, and its chats
    # follow ``[tools] default``. An ask's -T and a chat's own choice come first.
    db.conn.execute("ALTER TABLE personalities ADD COLUMN tools TEXT")


@migration("0007_message_search")
def _message_search(db: sqlite_utils.Database) -> None:
    # Full-text search over what was said (`chatthy chat search`): the user's
    # and the model's messages, not tool results or system text, and not a
    # reply still being written (its text is rewritten every flush; it is
    # indexed once, when it ends; an interrupted one when the daemon next
    # starts and stamps it finished). An external content table (the text
    # lives once, in messages) kept by triggers. FTS5's 'delete' must be given
    # exactly what was indexed, so every trigger tests the same condition on
    # the old row that put it there; a message's role never changes.
    indexed = "{0}.role IN ('user', 'assistant') AND ({0}.status != 'partial' OR {0}.finished IS NOT NULL)"
    statements = (
        """CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
)""",
        f"""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN {indexed.format("new")} BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END""",
        f"""CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN {indexed.format("old")} BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END""",
        f"""CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, status, finished ON messages
WHEN {indexed.format("old")} OR {indexed.format("new")} BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.id, old.content WHERE {indexed.format("old")};
    INSERT INTO messages_fts (rowid, content) SELECT new.id, new.content WHERE {indexed.format("new")};
END""",
        # What was said before this migration: indexed once, here ('rebuild' would
        # index every row).
        f"INSERT INTO messages_fts (rowid, content) SELECT id, content FROM messages m WHERE {indexed.format('m')}",
    )
    for sql in statements:
        db.conn.execute(sql)
