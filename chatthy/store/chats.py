"""Chats: named conversations, unique per profile."""

from __future__ import annotations

import sqlean

from chatthy.errors import BadRequest, Conflict, NotFound

from .connection import Connection
from .models import Chat, ChatSummary, columns, now_iso
from .profiles import profile_label

_COLUMNS = columns(Chat)
UPDATABLE = frozenset({"personality", "provider", "model"})
SUMMARY_CHARS = 80

# One statement for the whole listing: the correlated subqueries run on the
# messages (chat_id, id) index, so a profile with many chats costs one round
# trip, not one per chat.
_LIST_SQL = f"""
SELECT
    c.name,
    (SELECT count(*) FROM messages m WHERE m.chat_id = c.id),
    c.created, c.updated, c.provider, c.model, c.personality,
    (SELECT substr(m.content, 1, {SUMMARY_CHARS}) FROM messages m
     WHERE m.chat_id = c.id AND m.role = 'user' ORDER BY m.id DESC LIMIT 1)
FROM chats c
WHERE c.profile_id = :profile_id
  AND (:personality IS NULL OR c.personality = :personality)
ORDER BY c.updated DESC, c.id DESC
"""


def get_chat(conn: Connection, profile_id: int, name: str) -> Chat | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM chats WHERE profile_id = ? AND name = ?", (profile_id, name)
    ).fetchone()
    return Chat(*row) if row else None


def get_chat_by_id(conn: Connection, chat_id: int) -> Chat | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM chats WHERE id = ?", (chat_id,)).fetchone()
    return Chat(*row) if row else None


def require_chat(
    conn: Connection, profile_id: int, name: str, *, profile_name: str | None = None
) -> Chat:
    found = get_chat(conn, profile_id, name)
    if found is None:
        raise _not_found(conn, profile_id, name, profile_name)
    return found


def create_chat(
    conn: Connection,
    profile_id: int,
    name: str,
    *,
    personality: str | None = None,
    provider: str | None = None,
    model: str | None = None,
) -> Chat:
    now = now_iso()
    try:
        cur = conn.execute(
            "INSERT INTO chats (profile_id, name, personality, provider, model, created, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (profile_id, name, personality, provider, model, now, now),
        )
    except sqlean.IntegrityError as exc:
        if "UNIQUE" in str(exc):
            raise Conflict(
                f"chat {name!r} already exists in profile {profile_label(conn, profile_id)}"
            ) from exc
        raise NotFound(f"profile #{profile_id} not found") from exc
    return _by_id(conn, cur.lastrowid)


def list_chats(
    conn: Connection, profile_id: int, *, personality: str | None = None
) -> list[ChatSummary]:
    """The profile's chats, most recently updated first."""
    rows = conn.execute(
        _LIST_SQL, {"profile_id": profile_id, "personality": personality}
    ).fetchall()
    return [ChatSummary(*row) for row in rows]


def rename_chat(conn: Connection, profile_id: int, old: str, new: str) -> Chat:
    chat = require_chat(conn, profile_id, old)
    if new == old:
        return chat
    try:
        conn.execute(
            "UPDATE chats SET name = ?, updated = ? WHERE id = ?", (new, now_iso(), chat.id)
        )
    except sqlean.IntegrityError as exc:
        raise Conflict(
            f"chat {new!r} already exists in profile {profile_label(conn, profile_id)}"
        ) from exc
    return _by_id(conn, chat.id)


def delete_chat(conn: Connection, profile_id: int, name: str) -> None:
    """Delete a chat and (by cascade) its messages."""
    cur = conn.execute("DELETE FROM chats WHERE profile_id = ? AND name = ?", (profile_id, name))
    if cur.rowcount == 0:
        raise _not_found(conn, profile_id, name, None)


def update_chat(conn: Connection, chat_id: int, **fields: str | None) -> Chat:
    """Set personality/provider/model (None: back to the default)."""
    unknown = sorted(set(fields) - UPDATABLE)
    if unknown:
        raise BadRequest(
            f"cannot update chat field(s) {', '.join(map(repr, unknown))};"
            f" allowed: {', '.join(sorted(UPDATABLE))}"
        )
    # Column names come from the UPDATABLE whitelist, never from the caller.
    assignments = "".join(f"{column} = :{column}, " for column in sorted(fields))
    cur = conn.execute(
        f"UPDATE chats SET {assignments}updated = :updated WHERE id = :id",
        {**fields, "updated": now_iso(), "id": chat_id},
    )
    if cur.rowcount == 0:
        raise NotFound(f"chat #{chat_id} not found")
    return _by_id(conn, chat_id)


def touch_chat(conn: Connection, chat_id: int) -> None:
    """Mark the chat as just used (it moves to the top of the listing)."""
    cur = conn.execute("UPDATE chats SET updated = ? WHERE id = ?", (now_iso(), chat_id))
    if cur.rowcount == 0:
        raise NotFound(f"chat #{chat_id} not found")


def _by_id(conn: Connection, chat_id: int | None) -> Chat:
    row = conn.execute(f"SELECT {_COLUMNS} FROM chats WHERE id = ?", (chat_id,)).fetchone()
    return Chat(*row)


def _not_found(
    conn: Connection, profile_id: int, name: str, profile_name: str | None
) -> NotFound:
    where = repr(profile_name) if profile_name is not None else profile_label(conn, profile_id)
    return NotFound(f"chat {name!r} not found in profile {where}")
