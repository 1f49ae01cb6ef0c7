"""Personalities: named system prompts, per profile."""

from __future__ import annotations

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
    return Personality(*row) if row else None


def set_personality(conn: Connection, profile_id: int, name: str, prompt: str) -> Personality:
    """Create the personality, or replace its prompt (keeping ``created``)."""
    now = now_iso()
    try:
        conn.execute(
            "INSERT INTO personalities (profile_id, name, prompt, created, updated)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (profile_id, name)"
            " DO UPDATE SET prompt = excluded.prompt, updated = excluded.updated",
            (profile_id, name, prompt, now, now),
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
    return [Personality(*row) for row in rows]


def delete_personality(conn: Connection, profile_id: int, name: str) -> None:
    cur = conn.execute(
        "DELETE FROM personalities WHERE profile_id = ? AND name = ?", (profile_id, name)
    )
    if cur.rowcount == 0:
        raise NotFound(
            f"personality {name!r} not found in profile {profile_label(conn, profile_id)}"
        )
