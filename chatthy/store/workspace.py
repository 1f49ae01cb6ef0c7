"""Workspace files: documents loaded into a chat's context (or a profile's).

A file belongs to a chat (``chat_id``) or to the whole profile (``chat_id``
NULL). Names are unique per scope. Benched files stay stored but are not sent.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .connection import Connection, transaction
from .models import _Record, dump_json, load_json, now_iso

_FIELDS = ("id", "profile_id", "chat_id", "name", "kind", "source", "title", "content", "meta",
           "tokens", "encoding", "benched", "created", "updated")
_COLUMNS = ", ".join(_FIELDS)
# Chat files first (they shadow profile-wide files of the same name), then by load order.
_ORDER = "ORDER BY (chat_id IS NULL) DESC, id"


@dataclass(frozen=True)
class WorkspaceFile(_Record):
    id: int
    profile_id: int
    chat_id: int | None
    name: str
    kind: str
    source: str
    title: str | None
    content: str
    meta: dict | None
    tokens: int
    encoding: str
    benched: bool
    created: str
    updated: str

    @property
    def scope(self) -> str:
        return "profile" if self.chat_id is None else "chat"

    @classmethod
    def from_row(cls, row: tuple) -> WorkspaceFile:
        values = dict(zip(_FIELDS, row))
        values["meta"] = load_json(values["meta"])
        values["benched"] = bool(values["benched"])
        return cls(**values)


assert tuple(f.name for f in dataclasses.fields(WorkspaceFile)) == _FIELDS


def get_file(conn: Connection, profile_id: int, chat_id: int | None, name: str) -> WorkspaceFile | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM workspace WHERE profile_id = ? AND ifnull(chat_id, 0) = ? AND name = ?",
        (profile_id, chat_id or 0, name),
    ).fetchone()
    return WorkspaceFile.from_row(row) if row else None


def list_files(conn: Connection, profile_id: int, chat_id: int | None, *,
               profile_wide: bool = True) -> list[WorkspaceFile]:
    """The chat's files (if ``chat_id``) and, with ``profile_wide``, the profile's."""
    clauses = []
    if chat_id is not None:
        clauses.append("chat_id = :chat")
    if profile_wide:
        clauses.append("chat_id IS NULL")
    if not clauses:
        return []
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM workspace WHERE profile_id = :profile AND ({' OR '.join(clauses)}) {_ORDER}",
        {"profile": profile_id, "chat": chat_id},
    ).fetchall()
    return [WorkspaceFile.from_row(r) for r in rows]


def put_file(
    conn: Connection, profile_id: int, chat_id: int | None, name: str, *,
    kind: str, source: str, title: str | None, content: str, meta: dict | None,
    tokens: int, encoding: str,
) -> tuple[WorkspaceFile, bool]:
    """Insert the file, or replace the content of the one with this name
    (keeping whether it is benched). Returns ``(file, replaced)``."""
    now = now_iso()
    with transaction(conn):
        existing = get_file(conn, profile_id, chat_id, name)
        if existing is None:
            conn.execute(
                "INSERT INTO workspace (profile_id, chat_id, name, kind, source, title, content, meta,"
                " tokens, encoding, benched, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (profile_id, chat_id, name, kind, source, title, content, dump_json(meta),
                 tokens, encoding, now, now),
            )
        else:
            conn.execute(
                "UPDATE workspace SET kind = ?, source = ?, title = ?, content = ?, meta = ?,"
                " tokens = ?, encoding = ?, updated = ? WHERE id = ?",
                (kind, source, title, content, dump_json(meta), tokens, encoding, now, existing.id),
            )
        found = get_file(conn, profile_id, chat_id, name)
    assert found is not None
    return found, existing is not None


def set_benched(conn: Connection, file_id: int, benched: bool) -> None:
    conn.execute("UPDATE workspace SET benched = ?, updated = ? WHERE id = ?",
                 (1 if benched else 0, now_iso(), file_id))


def set_tokens(conn: Connection, file_id: int, tokens: int, encoding: str) -> None:
    """Remember a recount (another model's encoding) so the next one is free."""
    conn.execute("UPDATE workspace SET tokens = ?, encoding = ? WHERE id = ?", (tokens, encoding, file_id))


def delete_file(conn: Connection, file_id: int) -> None:
    conn.execute("DELETE FROM workspace WHERE id = ?", (file_id,))


def clear(conn: Connection, profile_id: int, chat_id: int | None) -> int:
    """Drop every file of one scope; returns how many."""
    cur = conn.execute("DELETE FROM workspace WHERE profile_id = ? AND ifnull(chat_id, 0) = ?",
                       (profile_id, chat_id or 0))
    return cur.rowcount
