"""Personalities: named system prompts, per profile, with the tools each asks for."""

from __future__ import annotations

import json

import sqlean

from chatthy.errors import NotFound

from .connection import Connection
from .models import Personality, columns, now_iso
from .profiles import profile_label

_COLUMNS = columns(Personality)


def get_personality(conn: Connection, profile_id: int, name: str) -> Personality | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM personalities WHERE profile_id = ? AND name = ?",
        (profile_id, name),
    ).fetchone()
    return Personality.from_row(row) if row else None


def set_personality(conn: Connection, profile_id: int, name: str, prompt: str,
                    tools: list[str] | None = None) -> Personality:
    """Create the personality, or replace its prompt and tools (keeping ``created``).

    ``tools`` None: it names no tools (its chats follow ``[tools] default``).
    The names are not checked here: the daemon checks them against the tools
    it has (chatthy/server/handlers/personas.py).
    """
    now = now_iso()
    stored = json.dumps(list(tools), ensure_ascii=False) if tools is not None else None
    try:
        conn.execute(
            "INSERT INTO personalities (profile_id, name, prompt, created, updated, tools)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (profile_id, name)"
            " DO UPDATE SET prompt = excluded.prompt, tools = excluded.tools, updated = excluded.updated",
            (profile_id, name, prompt, now, now, stored),
        )
    except sqlean.IntegrityError as exc:  # only the profile foreign key can fail
        raise NotFound(f"profile #{profile_id} not found") from exc
    found = get_personality(conn, profile_id, name)
    assert found is not None
    return found


def list_personalities(conn: Connection, profile_id: int) -> list[Personality]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM personalities WHERE profile_id = ? ORDER BY name",
        (profile_id,),
    ).fetchall()
    return [Personality.from_row(row) for row in rows]


def delete_personality(conn: Connection, profile_id: int, name: str) -> None:
    cur = conn.execute(
        "DELETE FROM personalities WHERE profile_id = ? AND name = ?", (profile_id, name)
    )
    if cur.rowcount == 0:
        raise NotFound(
            f"personality {name!r} not found in profile {profile_label(conn, profile_id)}"
        )
