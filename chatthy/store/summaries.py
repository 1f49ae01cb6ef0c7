"""Cached summaries of history dropped to fit the context window."""

from __future__ import annotations

from dataclasses import dataclass

from .connection import Connection
from .models import dump_json, load_json, now_iso

KEEP_PER_CHAT = 8  # older summaries can only ever be extended, and rarely


@dataclass(frozen=True)
class Summary:
    id: int
    chat_id: int
    key: str
    last_id: int
    messages: int
    content: str
    provider: str | None
    model: str | None
    usage: dict | None
    created: str


_COLUMNS = "id, chat_id, key, last_id, messages, content, provider, model, usage, created"


def _summary(row: tuple) -> Summary:
    values = list(row)
    values[8] = load_json(values[8])
    return Summary(*values)


def get_summary(conn: Connection, chat_id: int, key: str) -> Summary | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM summaries WHERE chat_id = ? AND key = ?", (chat_id, key)
    ).fetchone()
    return _summary(row) if row else None


def chat_summaries(conn: Connection, chat_id: int) -> list[Summary]:
    """The chat's cached summaries, the one covering most messages first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM summaries WHERE chat_id = ? ORDER BY messages DESC, id DESC",
        (chat_id,),
    ).fetchall()
    return [_summary(row) for row in rows]


def put_summary(conn: Connection, chat_id: int, *, key: str, last_id: int, messages: int,
                content: str, provider: str | None, model: str | None,
                usage: dict | None) -> Summary:
    conn.execute(
        "INSERT INTO summaries (chat_id, key, last_id, messages, content, provider, model, usage, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (chat_id, key) DO UPDATE SET content = excluded.content,"
        " provider = excluded.provider, model = excluded.model, usage = excluded.usage,"
        " created = excluded.created",
        (chat_id, key, last_id, messages, content, provider, model, dump_json(usage), now_iso()),
    )
    conn.execute(
        "DELETE FROM summaries WHERE chat_id = ? AND id NOT IN"
        " (SELECT id FROM summaries WHERE chat_id = ? ORDER BY id DESC LIMIT ?)",
        (chat_id, chat_id, KEEP_PER_CHAT),
    )
    found = get_summary(conn, chat_id, key)
    assert found is not None
    return found
