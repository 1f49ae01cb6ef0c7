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
