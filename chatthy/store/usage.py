"""The usage log: one row per provider call (replies and summaries)."""

from __future__ import annotations

from .connection import Connection
from .models import now_iso


def log_usage(conn: Connection, *, profile_id: int, chat_id: int | None, chat: str, kind: str,
              provider: str, model: str, input_tokens: int | None, output_tokens: int | None,
              duration_ms: int | None, status: str) -> None:
    conn.execute(
        "INSERT INTO usage_log (profile_id, chat_id, chat, kind, provider, model,"
        " input_tokens, output_tokens, duration_ms, status, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (profile_id, chat_id, chat, kind, provider, model, input_tokens, output_tokens,
         duration_ms, status, now_iso()),
    )


def usage_by_model(conn: Connection, profile_id: int, *, chat_id: int | None = None,
                   chat: str | None = None, since: str | None = None) -> list[dict]:
    """Sums per (provider, model): calls, reported tokens, time.

    ``chat_id`` selects a live chat (whatever it was called); ``chat`` a name,
    for chats since deleted. ``unreported`` counts calls whose provider sent no
    usage: their tokens are missing from the sums.
    """
    rows = conn.execute(
        """SELECT provider, model, count(*),
    coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
    coalesce(sum(duration_ms), 0), sum(input_tokens IS NULL AND output_tokens IS NULL),
    sum(kind = 'summary'), min(created), max(created)
FROM usage_log
WHERE profile_id = :profile_id
  AND (:chat_id IS NULL OR chat_id = :chat_id)
  AND (:chat IS NULL OR (chat = :chat AND chat_id IS NULL))
  AND (:since IS NULL OR created >= :since)
GROUP BY provider, model
ORDER BY provider, model""",
        {"profile_id": profile_id, "chat_id": chat_id, "chat": chat, "since": since},
    ).fetchall()
    keys = ("provider", "model", "calls", "input_tokens", "output_tokens", "duration_ms",
            "unreported", "summaries", "first", "last")
    return [dict(zip(keys, row)) for row in rows]
