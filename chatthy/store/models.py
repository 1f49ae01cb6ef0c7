"""The rows chatthy stores, as frozen dataclasses.

Field order matches the column order the repositories select (they derive
their column lists from these fields), so a row tuple builds a model directly.
Timestamps are ISO-8601 UTC strings with milliseconds (``now_iso()``): they
sort as text in time order and cross the wire unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

ROLES = ("system", "user", "assistant", "tool")
STATUSES = ("complete", "partial", "error", "cancelled")


def now_iso() -> str:
    """The current time as ``2026-11-25T04:00:00.123Z``."""
    now = datetime.now(timezone.utc)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def columns(model: type) -> str:
    """The SQL column list for ``model``, in field order."""
    return ", ".join(f.name for f in dataclasses.fields(model))


class _Record:
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Profile(_Record):
    id: int
    name: str
    created: str


@dataclass(frozen=True)
class Personality(_Record):
    """``tools``: the tool names it asks for (or ["all"] / ["none"]); None: it names none."""

    id: int
    profile_id: int
    name: str
    prompt: str
    created: str
    updated: str
    tools: list[str] | None = None

    @classmethod
    def from_row(cls, row: tuple) -> Personality:
        *fields, tools = row
        return cls(*fields, tools=json.loads(tools) if tools is not None else None)


@dataclass(frozen=True)
class Chat(_Record):
    """A chat; ``personality``/``provider``/``model`` None mean: use the defaults."""

    id: int
    profile_id: int
    name: str
    personality: str | None
    provider: str | None
    model: str | None
    created: str
    updated: str


@dataclass(frozen=True)
class ChatSummary(_Record):
    """One line of a chat listing; ``last_user`` is the first 80 characters
    of the latest user message."""

    name: str
    messages: int
    created: str
    updated: str
    provider: str | None
    model: str | None
    personality: str | None
    last_user: str | None


@dataclass(frozen=True)
class Message(_Record):
    id: int
    chat_id: int
    role: str
    content: str
    status: str
    tokens: int | None
    provider: str | None
    model: str | None
    usage: dict | None
    error: str | None
    meta: dict | None
    created: str
    finished: str | None
    edited: str | None
    duration_ms: int | None

    @classmethod
    def from_row(cls, row: tuple) -> Message:
        values = dict(zip((f.name for f in dataclasses.fields(cls)), row))
        values["usage"] = load_json(values["usage"])
        values["meta"] = load_json(values["meta"])
        return cls(**values)


def dump_json(value: dict | None) -> str | None:
    """Serialise a JSON column (None stays NULL)."""
    return None if value is None else json.dumps(value, ensure_ascii=False)


def load_json(text: str | None) -> dict | None:
    return None if text is None else json.loads(text)
