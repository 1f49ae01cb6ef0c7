"""``chatthy usage``: tokens spent, per provider and model."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import click

from chatthy.cli.output import print_json, table
from chatthy.errors import BadRequest

_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> str:
    """``2026-11-01``, ``2026-11-01T09:30`` (local time), ``7d``/``24h``/``2w``, ``today``
    → an ISO UTC timestamp."""
    now = now or datetime.now().astimezone()
    text = text.strip().lower()
    match = _RELATIVE.match(text)
    if match:
        when = now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    elif text == "today":
        when = now.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        try:
            when = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"--since {text!r}: give a date (2026-11-01), a date and time "
                             "(2026-11-01T09:30), or a span back from now (24h, 7d, 2w)") from None
        if when.tzinfo is None:
            when = when.astimezone()  # the user's own clock
    return when.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _cost(value) -> str:
    return "-" if value is None else f"${value:,.4f}"


@click.command()
@click.option("-c", "--chat", metavar="NAME", help="Only this chat (also one since deleted).")
@click.option("--since", metavar="WHEN", help="Only from WHEN on: 2026-11-01, 2026-11-01T09:30, 24h, 7d, today.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def usage(app, chat, since, as_json) -> None:
    """Tokens used per provider and model (replies and summaries), with the cost
    where prices are configured. Retried, undone and deleted replies count: they
    were paid for."""
    data = app.client.call("usage.summary", profile=app.current_profile(), chat=chat,
                           since=parse_since(since) if since else None)
    if as_json:
        print_json(data)
        return
    rows = [[f"{r['provider']}/{r['model']}", f"{r['calls']:,}", f"{r['input_tokens']:,}",
             f"{r['output_tokens']:,}", _cost(r["cost"])] for r in data["models"]]
    total = data["total"]
    if len(rows) != 1:
        rows.append(["total", f"{total['calls']:,}", f"{total['input_tokens']:,}",
                     f"{total['output_tokens']:,}", _cost(total["cost"])])
    table(["MODEL", "CALLS", "INPUT", "OUTPUT", "COST"], rows)
    if total["unreported"]:
        from chatthy.cli.output import note

        note(f"{total['unreported']} call(s) reported no usage: their tokens are not counted")
