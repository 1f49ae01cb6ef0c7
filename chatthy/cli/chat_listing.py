"""``chatthy chat list``, Click-free so the fast path (fastpath.py) can serve it."""

from __future__ import annotations

from chatthy.cli.output import is_tty, note, print_json, table


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def local_time(iso: str | None) -> str:
    """``2026-11-25 04:01`` in local time (stored as UTC ISO-8601)."""
    if not iso:
        return "-"
    # The store's own form (2026-11-25T04:01:52.123Z) is read by hand: importing
    # datetime would cost `chat list` ~2 ms of its start.
    if len(iso) >= 20 and iso[4] + iso[7] + iso[10] + iso[13] + iso[16] == "--T::" and iso[-1] == "Z":
        try:
            fields = [int(iso[a:b]) for a, b in ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))]
        except ValueError:
            fields = []
        if fields and 1 <= fields[1] <= 12 and 1 <= fields[2] <= 31:
            import time

            y, mo, d, h, mi, s = fields
            epoch = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
            return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def list_chats(app, *, persona: str | None = None, as_json: bool = False) -> None:
    """List the chats of the profile, most recently updated first."""
    chats = app.client.call("chat.list", profile=app.current_profile(), personality=persona)
    if as_json:
        print_json(chats)
        return
    if not chats and is_tty():
        note("no chats yet: start one with `chatthy ask -c NAME …`")
        return
    table(["NAME", "MSGS", "UPDATED", "MODEL", "PERSONA"],
          [[c["name"], str(c["messages"]), local_time(c["updated"]), f"{c['provider']}/{c['model']}",
            c.get("personality") or "default"] for c in chats])
