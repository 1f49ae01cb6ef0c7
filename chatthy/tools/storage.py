"""The tables of migration 0005_tools: tool calls, attachments, chat tool choices, approvals.

Plain SQL on the store's one connection (the daemon's event-loop thread),
like the rest of chatthy.store; every function takes the connection first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

from chatthy.store.models import now_iso

# Tool-call statuses: running (in flight), ok, error (the tool failed; the
# model was told), refused (approval said no), skipped (over the round
# limit), cancelled (the reply was stopped before or while it ran).
CALL_STATUSES = ("running", "ok", "error", "refused", "skipped", "cancelled")


@dataclass(frozen=True)
class ToolCallRecord:
    id: int
    message_id: int
    round: int
    call_id: str
    name: str
    arguments: dict
    result: str | None
    status: str
    error: str | None
    duration_ms: int | None
    tokens: int | None
    created: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


_CALL_COLUMNS = ("id, message_id, round, call_id, name, arguments, result, status, error, "
                 "duration_ms, tokens, created")


def _call(row: tuple) -> ToolCallRecord:
    values = list(row)
    try:
        values[5] = json.loads(values[5])
    except ValueError:
        values[5] = {}
    return ToolCallRecord(*values)


def add_call(conn, message_id: int, round_no: int, call_id: str, name: str, arguments: dict) -> int:
    cur = conn.execute(
        "INSERT INTO tool_calls (message_id, round, call_id, name, arguments, status, created)"
        " VALUES (?, ?, ?, ?, ?, 'running', ?)",
        (message_id, round_no, call_id, name, json.dumps(arguments, ensure_ascii=False), now_iso()),
    )
    return cur.lastrowid


def finish_call(conn, row_id: int, *, status: str, result: str | None, error: str | None = None,
                duration_ms: int | None = None, tokens: int | None = None) -> None:
    conn.execute(
        "UPDATE tool_calls SET status = ?, result = ?, error = ?, duration_ms = ?, tokens = ? WHERE id = ?",
        (status, result, error, duration_ms, tokens, row_id),
    )


def calls_of_messages(conn, message_ids: Iterable[int]) -> dict[int, list[ToolCallRecord]]:
    """Calls per message id, in round order then call order."""
    ids = list(message_ids)
    out: dict[int, list[ToolCallRecord]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        marks = ", ".join("?" * len(part))
        rows = conn.execute(
            f"SELECT {_CALL_COLUMNS} FROM tool_calls WHERE message_id IN ({marks}) ORDER BY message_id, round, id",
            part,
        ).fetchall()
        for row in rows:
            call = _call(row)
            out.setdefault(call.message_id, []).append(call)
    return out


def calls_of_chat(conn, chat_id: int, message_id: int | None = None) -> list[ToolCallRecord]:
    sql = (f"SELECT {', '.join('t.' + c.strip() for c in _CALL_COLUMNS.split(','))} FROM tool_calls t"
           " JOIN messages m ON m.id = t.message_id WHERE m.chat_id = ?")
    args: list[Any] = [chat_id]
    if message_id is not None:
        sql += " AND t.message_id = ?"
        args.append(message_id)
    return [_call(row) for row in conn.execute(sql + " ORDER BY t.message_id, t.round, t.id", args)]


def cancel_running_calls(conn) -> int:
    """Calls left 'running' by a daemon that stopped mid-call."""
    return conn.execute("UPDATE tool_calls SET status = 'cancelled' WHERE status = 'running'").rowcount


# -- attachments -----------------------------------------------------------

@dataclass(frozen=True)
class Attachment:
    id: int
    sha256: str
    mime: str
    size: int
    width: int | None
    height: int | None
    name: str | None = None


def store_image(conn, data: bytes, mime: str, width: int | None, height: int | None) -> int:
    """The attachment id for these bytes, inserting them only if they are new."""
    digest = hashlib.sha256(data).hexdigest()
    row = conn.execute("SELECT id FROM attachments WHERE sha256 = ?", (digest,)).fetchone()
    if row:
        return row[0]
    cur = conn.execute(
        "INSERT INTO attachments (sha256, mime, size, width, height, data, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (digest, mime, len(data), width, height, data, now_iso()),
    )
    return cur.lastrowid


def link(conn, message_id: int, attachment_ids: list[int], names: list[str | None]) -> None:
    conn.executemany(
        "INSERT INTO message_attachments (message_id, position, attachment_id, name) VALUES (?, ?, ?, ?)",
        [(message_id, i, aid, name) for i, (aid, name) in enumerate(zip(attachment_ids, names))],
    )


def attachments_of(conn, message_ids: Iterable[int], *, with_data: bool = False) -> dict[int, list[tuple]]:
    """Per message id, ``(Attachment, data or None)`` in attachment order."""
    ids = list(message_ids)
    out: dict[int, list[tuple]] = {}
    data_col = "a.data" if with_data else "NULL"
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        marks = ", ".join("?" * len(part))
        rows = conn.execute(
            f"SELECT ma.message_id, a.id, a.sha256, a.mime, a.size, a.width, a.height, ma.name, {data_col}"
            " FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id"
            f" WHERE ma.message_id IN ({marks}) ORDER BY ma.message_id, ma.position",
            part,
        ).fetchall()
        for message_id, *fields, data in rows:
            out.setdefault(message_id, []).append((Attachment(*fields), data))
    return out


# -- chat tool choice and "always" approvals ------------------------------

def chat_tools(conn, chat_id: int) -> list[str] | None:
    row = conn.execute("SELECT tools FROM chat_tools WHERE chat_id = ?", (chat_id,)).fetchone()
    return json.loads(row[0]) if row else None


def set_chat_tools(conn, chat_id: int, tools: list[str] | None) -> None:
    if tools is None:
        conn.execute("DELETE FROM chat_tools WHERE chat_id = ?", (chat_id,))
        return
    conn.execute(
        "INSERT INTO chat_tools (chat_id, tools, updated) VALUES (?, ?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET tools = excluded.tools, updated = excluded.updated",
        (chat_id, json.dumps(tools), now_iso()),
    )


def always_approved(conn, chat_id: int, tool: str) -> bool:
    return conn.execute("SELECT 1 FROM tool_approvals WHERE chat_id = ? AND tool = ?",
                        (chat_id, tool)).fetchone() is not None


def approve_always(conn, chat_id: int, tool: str) -> None:
    conn.execute("INSERT OR IGNORE INTO tool_approvals (chat_id, tool, created) VALUES (?, ?, ?)",
                 (chat_id, tool, now_iso()))
