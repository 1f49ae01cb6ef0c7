"""A chat's history: reading it cheaply for a request; forking, truncating, importing.

Copies keep every field of a message (timestamps, usage, status, meta such as
RAG citations and tool-round offsets), its images and its tool calls, so a
fork or an import is the same conversation, not a re-enactment of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .chats import touch_chat
from .connection import Connection, transaction
from .models import Message, columns, dump_json, load_json

_COLUMNS = columns(Message)
# Everything but the id and the chat: what a copy carries over.
_COPIED = tuple(c for c in _COLUMNS.split(", ") if c not in ("id", "chat_id"))


def messages_from(conn: Connection, chat_id: int, from_id: int) -> list[Message]:
    """The chat's messages with id ``from_id`` or later, oldest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM messages WHERE chat_id = ? AND id >= ? ORDER BY id",
        (chat_id, from_id),
    ).fetchall()
    return [Message.from_row(row) for row in rows]


def delete_messages_from(conn: Connection, chat_id: int, from_id: int) -> list[Message]:
    """Delete message ``from_id`` and everything after it; return what went, oldest first."""
    with transaction(conn):
        gone = messages_from(conn, chat_id, from_id)
        conn.execute("DELETE FROM messages WHERE chat_id = ? AND id >= ?", (chat_id, from_id))
        if gone:
            touch_chat(conn, chat_id)
    return gone


def delete_messages(conn: Connection, chat_id: int, ids: list[int]) -> None:
    with transaction(conn):
        conn.executemany(
            "DELETE FROM messages WHERE chat_id = ? AND id = ?", [(chat_id, i) for i in ids]
        )
        touch_chat(conn, chat_id)


@dataclass(frozen=True)
class CopiedMessages:
    """What ``copy_messages`` copied: messages, distinct images they attach, tool calls."""

    messages: int
    images: int
    tool_calls: int


# The source messages a copy takes, each with the id its copy gets: the copies
# get fresh ids above every existing one, in the same order, so each table that
# points at a message (attachments, tool calls) is copied in one statement too.
_RENUMBERED = (
    "SELECT id AS old, :base + row_number() OVER (ORDER BY id) AS new FROM messages"
    " WHERE chat_id = :source AND (:upto IS NULL OR id <= :upto)"
)


def copy_messages(conn: Connection, source_chat_id: int, target_chat_id: int,
                  upto_id: int | None = None) -> CopiedMessages:
    """Copy the source chat's messages (up to ``upto_id`` inclusive) to the target,
    with what belongs to each: its images (linked, not duplicated: an image is
    stored once by sha256 and lives while any message uses it) and its tool calls.

    Call it inside a transaction: it is several statements.
    """
    base = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
    args = {"base": base, "source": source_chat_id, "target": target_chat_id, "upto": upto_id}
    copied = ", ".join(_COPIED)
    messages = conn.execute(
        f"INSERT INTO messages (id, chat_id, {copied})"
        f" SELECT :base + row_number() OVER (ORDER BY id), :target, {copied} FROM messages"
        " WHERE chat_id = :source AND (:upto IS NULL OR id <= :upto) ORDER BY id",
        args,
    ).rowcount
    if not messages:
        return CopiedMessages(0, 0, 0)
    conn.execute(
        f"WITH copied AS ({_RENUMBERED})"
        " INSERT INTO message_attachments (message_id, position, attachment_id, name)"
        " SELECT c.new, ma.position, ma.attachment_id, ma.name"
        " FROM message_attachments ma JOIN copied c ON c.old = ma.message_id ORDER BY c.new, ma.position",
        args,
    )
    images = conn.execute(
        "SELECT count(DISTINCT attachment_id) FROM message_attachments WHERE message_id BETWEEN ? AND ?",
        (base + 1, base + messages),
    ).fetchone()[0]
    calls = conn.execute(
        f"WITH copied AS ({_RENUMBERED})"
        " INSERT INTO tool_calls (message_id, round, call_id, name, arguments, result, status, error,"
        " duration_ms, tokens, created)"
        " SELECT c.new, t.round, t.call_id, t.name, t.arguments, t.result, t.status, t.error,"
        " t.duration_ms, t.tokens, t.created"
        " FROM tool_calls t JOIN copied c ON c.old = t.message_id ORDER BY t.id",
        args,
    ).rowcount
    return CopiedMessages(messages, images, calls)


def copy_chat_setup(conn: Connection, source_chat_id: int, target_chat_id: int) -> int:
    """Copy what belongs to the chat rather than to a message: its tool choice
    and its own workspace files (as they are now). Returns the files copied.

    "Always" tool approvals stay with the source chat (as an export leaves them
    out): a grant to run a tool unasked is given per chat, by the user.
    """
    conn.execute(
        "INSERT INTO chat_tools (chat_id, tools, updated) SELECT ?, tools, updated FROM chat_tools WHERE chat_id = ?",
        (target_chat_id, source_chat_id),
    )
    return conn.execute(
        "INSERT INTO workspace (profile_id, chat_id, name, kind, source, title, content, meta, tokens,"
        " encoding, benched, created, updated)"
        " SELECT profile_id, ?, name, kind, source, title, content, meta, tokens, encoding, benched,"
        " created, updated FROM workspace WHERE chat_id = ? ORDER BY id",
        (target_chat_id, source_chat_id),
    ).rowcount


def insert_message(conn: Connection, chat_id: int, fields: dict) -> int:
    """Insert a message with every field given (an import); returns its id.

    ``fields`` holds the columns of ``Message`` but id/chat_id; usage and meta
    are dicts (or None). The caller validates them.
    """
    values = {c: fields.get(c) for c in _COPIED}
    values["usage"] = dump_json(values["usage"])
    values["meta"] = dump_json(values["meta"])
    names = ", ".join(_COPIED)
    marks = ", ".join(f":{c}" for c in _COPIED)
    cur = conn.execute(
        f"INSERT INTO messages (chat_id, {names}) VALUES (:chat_id, {marks})",
        {**values, "chat_id": chat_id},
    )
    return cur.lastrowid


def set_chat_times(conn: Connection, chat_id: int, created: str, updated: str) -> None:
    """Keep an imported chat's own timestamps."""
    conn.execute("UPDATE chats SET created = ?, updated = ? WHERE id = ?", (created, updated, chat_id))


# -- reading history cheaply --------------------------------------------------

def history_outline(conn: Connection, chat_id: int) -> list[tuple[int, str, int]]:
    """``(id, role, tokens)`` of the messages a request may replay, oldest first.

    Read from a covering index (id, role, status, tokens): no message text is
    touched, so 10,000 messages take a few milliseconds where loading them
    takes a hundred times that. Replayed: user, assistant and tool messages
    that are complete, or that were cut short with some text.
    """
    # Measured: a filter on role in SQL, or the status as text, doubles the time
    # for 10,000 rows; system messages are rare, so they are skipped below.
    rows = conn.execute(
        "SELECT id, role, status != 'complete', tokens FROM messages INDEXED BY messages_outline"
        " WHERE chat_id = ? ORDER BY id",
        (chat_id,),
    ).fetchall()
    # Only unfinished replies can be left out (empty): ask the table about those few.
    unfinished = [row[0] for row in rows if row[2]]
    empty: set[int] = set()
    for start in range(0, len(unfinished), 500):
        ids = unfinished[start:start + 500]
        marks = ", ".join("?" * len(ids))
        empty.update(row[0] for row in conn.execute(
            f"SELECT id FROM messages WHERE id IN ({marks}) AND content = ''", ids))
    return [(i, role, tokens or 0) for i, role, _, tokens in rows if role != "system" and i not in empty]


def texts(conn: Connection, chat_id: int, first_id: int, last_id: int) -> dict[int, tuple[str, dict | None]]:
    """``id → (content, meta)`` of the chat's messages with ids in [first_id, last_id]."""
    rows = conn.execute(
        "SELECT id, content, meta FROM messages WHERE chat_id = ? AND id BETWEEN ? AND ?",
        (chat_id, first_id, last_id),
    ).fetchall()
    return {row[0]: (row[1], load_json(row[2])) for row in rows}


def version_stamps(conn: Connection, chat_id: int, first_id: int, last_id: int) -> dict[int, str]:
    """``id → "created|edited"``: what tells two versions of a message (or two
    messages that got the same id one after the other) apart."""
    rows = conn.execute(
        "SELECT id, created, edited FROM messages WHERE chat_id = ? AND id BETWEEN ? AND ?",
        (chat_id, first_id, last_id),
    ).fetchall()
    return {row[0]: f"{row[1]}|{row[2] or ''}" for row in rows}


def previous_id(conn: Connection, chat_id: int, before_id: int, role: str) -> int | None:
    row = conn.execute(
        "SELECT id FROM messages WHERE chat_id = ? AND id < ? AND role = ? ORDER BY id DESC LIMIT 1",
        (chat_id, before_id, role),
    ).fetchone()
    return row[0] if row else None
