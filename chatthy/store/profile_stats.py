"""Counts per profile, for listings (one query each, not one per profile)."""

from __future__ import annotations

from .connection import Connection


def chats_per_profile(conn: Connection) -> dict[int, int]:
    rows = conn.execute("SELECT profile_id, count(*) FROM chats GROUP BY profile_id").fetchall()
    return dict(rows)


def personalities_per_profile(conn: Connection) -> dict[int, int]:
    rows = conn.execute("SELECT profile_id, count(*) FROM personalities GROUP BY profile_id").fetchall()
    return dict(rows)


def chats_with_personality(conn: Connection, profile_id: int, personality: str) -> list[tuple[int, str]]:
    """(id, name) of the profile's chats that use ``personality``."""
    rows = conn.execute(
        "SELECT id, name FROM chats WHERE profile_id = ? AND personality = ? ORDER BY name",
        (profile_id, personality),
    ).fetchall()
    return [(row[0], row[1]) for row in rows]
