"""Messages of a chat, including replies still streaming in (status ``partial``)."""

from __future__ import annotations

import sqlean

from chatthy.errors import BadRequest, NotFound

from .chats import touch_chat
from .connection import Connection, transaction
from .models import ROLES, STATUSES, Message, columns, dump_json, now_iso

_COLUMNS = columns(Message)


def add_message(
    conn: Connection,
    chat_id: int,
    role: str,
    content: str,
    *,
    status: str = "complete",
    tokens: int | None = None,
    provider: str | None = None,
    model: str | None = None,
    meta: dict | None = None,
) -> Message:
    """Append a message to the chat and mark the chat as just used."""
    _check_role(role)
    _check_status(status)
    with transaction(conn):
        try:
            cur = conn.execute(
                "INSERT INTO messages"
                " (chat_id, role, content, status, tokens, provider, model, meta, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (chat_id, role, content, status, tokens, provider, model,
                 dump_json(meta), now_iso()),
            )
        except sqlean.IntegrityError as exc:  # role/status are checked: the chat is gone
            raise NotFound(f"chat #{chat_id} not found") from exc
        touch_chat(conn, chat_id)
    found = get_message(conn, cur.lastrowid)
    assert found is not None
    return found


def update_message(
    conn: Connection,
    message_id: int,
    *,
    content: str | None = None,
    status: str | None = None,
    tokens: int | None = None,
    usage: dict | None = None,
    error: str | None = None,
    meta: dict | None = None,
    finished: bool = False,
    edited: bool = False,
    duration_ms: int | None = None,
) -> None:
    """Change only the fields given (None means "leave as is").

    ``finished=True`` stamps the end of a generation; ``edited=True`` stamps a
    user's edit (streaming growth of a partial reply is not an edit).
    """
    if status is not None:
        _check_status(status)
    changes: dict[str, object] = {
        "content": content, "status": status, "tokens": tokens, "usage": dump_json(usage),
        "error": error, "meta": dump_json(meta), "duration_ms": duration_ms,
    }
    changes = {column: value for column, value in changes.items() if value is not None}
    now = now_iso()
    if finished:
        changes["finished"] = now
    if edited:
        changes["edited"] = now
    if not changes:
        if get_message(conn, message_id) is None:
            raise NotFound(f"message #{message_id} not found")
        return
    # Column names are the fixed keys above, never the caller's strings.
    assignments = ", ".join(f"{column} = :{column}" for column in changes)
    cur = conn.execute(
        f"UPDATE messages SET {assignments} WHERE id = :id", {**changes, "id": message_id}
    )
    if cur.rowcount == 0:
        raise NotFound(f"message #{message_id} not found")


def get_message(conn: Connection, message_id: int | None) -> Message | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (message_id,)
    ).fetchone()
    return Message.from_row(row) if row else None


def messages(conn: Connection, chat_id: int) -> list[Message]:
    """The chat's messages, oldest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,)
    ).fetchall()
    return [Message.from_row(row) for row in rows]


def count_messages(conn: Connection, chat_id: int) -> int:
    return conn.execute("SELECT count(*) FROM messages WHERE chat_id = ?", (chat_id,)).fetchone()[0]


def delete_message(conn: Connection, message_id: int) -> None:
    cur = conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))
    if cur.rowcount == 0:
        raise NotFound(f"message #{message_id} not found")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BadRequest(f"message role {role!r} is not one of {', '.join(ROLES)}")


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise BadRequest(f"message status {status!r} is not one of {', '.join(STATUSES)}")
