"""Profiles: independent sets of chats and personalities (``default`` always exists)."""

from __future__ import annotations

import sqlean

from chatthy.errors import BadRequest, Conflict, NotFound

from .connection import Connection
from .models import Profile, columns, now_iso

DEFAULT_PROFILE = "default"
_COLUMNS = columns(Profile)


def get_profile(conn: Connection, name: str) -> Profile | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM profiles WHERE name = ?", (name,)).fetchone()
    return Profile(*row) if row else None


def profile(conn: Connection, name: str) -> Profile:
    found = get_profile(conn, name)
    if found is None:
        raise NotFound(f"profile {name!r} not found")
    return found


def list_profiles(conn: Connection) -> list[Profile]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM profiles ORDER BY name").fetchall()
    return [Profile(*row) for row in rows]


def create_profile(conn: Connection, name: str) -> Profile:
    try:
        cur = conn.execute(
            "INSERT INTO profiles (name, created) VALUES (?, ?)", (name, now_iso())
        )
    except sqlean.IntegrityError as exc:
        raise Conflict(f"profile {name!r} already exists") from exc
    return _by_id(conn, cur.lastrowid)


def get_or_create_profile(conn: Connection, name: str) -> Profile:
    # Read first: every request names a profile, and the insert takes the write lock.
    found = get_profile(conn, name)
    if found is not None:
        return found
    conn.execute(
        "INSERT INTO profiles (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        (name, now_iso()),
    )
    return profile(conn, name)


def delete_profile(conn: Connection, name: str) -> None:
    """Delete a profile with its chats, messages and personalities."""
    if name == DEFAULT_PROFILE:
        raise BadRequest(f"profile {DEFAULT_PROFILE!r} cannot be deleted")
    cur = conn.execute("DELETE FROM profiles WHERE name = ?", (name,))
    if cur.rowcount == 0:
        raise NotFound(f"profile {name!r} not found")


def profile_label(conn: Connection, profile_id: int) -> str:
    """``'name'`` of a profile for error messages (``#id`` if it is gone)."""
    row = conn.execute("SELECT name FROM profiles WHERE id = ?", (profile_id,)).fetchone()
    return repr(row[0]) if row else f"#{profile_id}"


def _by_id(conn: Connection, profile_id: int | None) -> Profile:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM profiles WHERE id = ?", (profile_id,)
    ).fetchone()
    return Profile(*row)
