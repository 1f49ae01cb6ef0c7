"""The chat export formats: JSON (exact, re-importable) and Markdown (to read).

JSON round-trips: importing an export and exporting it again gives the same
bytes (message ids are not part of it: they belong to one database). A chat's
personality travels with its prompt, so an import elsewhere behaves the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from chatthy.errors import BadRequest

FORMAT_VERSION = 1
MESSAGE_FIELDS = ("role", "content", "status", "tokens", "provider", "model", "usage", "error",
                  "meta", "created", "finished", "edited", "duration_ms")
ROLES = ("system", "user", "assistant", "tool")
STATUSES = ("complete", "partial", "error", "cancelled")


def export_json(chat, messages, persona) -> str:
    """``persona``: (name, prompt) of the chat's personality, or None for the default."""
    data = {
        "chatthy_export": FORMAT_VERSION,
        "chat": {"name": chat.name, "personality": chat.personality, "provider": chat.provider,
                 "model": chat.model, "created": chat.created, "updated": chat.updated},
        "personality": {"name": persona[0], "prompt": persona[1]} if persona else None,
        "messages": [{f: getattr(m, f) for f in MESSAGE_FIELDS} for m in messages],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def export_markdown(chat, messages, provider: str, model: str) -> str:
    lines = [f"# {chat.name}", ""]
    lines.append(f"- personality: {chat.personality or 'default'}")
    lines.append(f"- model: {provider}/{model}")
    lines.append(f"- created: {_when(chat.created)}")
    lines.append("")
    for m in messages:
        head = m.role.capitalize()
        if m.role == "assistant" and m.model:
            head += f" · {m.model}"
        if m.status != "complete":
            head += f" · {m.status}"
        lines += [f"## {head} · {_when(m.created)}", "", m.content.rstrip("\n"), ""]
        if m.error:
            lines += [f"> error: {m.error}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


@dataclass
class ImportedChat:
    name: str
    personality: str | None
    provider: str | None
    model: str | None
    created: str
    updated: str
    persona_prompt: str | None
    messages: list[dict]


def _bad(where: str, reason: str) -> BadRequest:
    return BadRequest(f"not a valid chatthy export: {where} {reason}")


def _typed(value, types, where: str, *, optional: bool = True):
    if value is None and optional:
        return None
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        names = " or ".join(t.__name__ for t in types) + (" or null" if optional else "")
        raise _bad(where, f"must be {names}")
    return value


def parse_export(text: str) -> ImportedChat:
    """Validate an export; BadRequest naming the first field that is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadRequest(f"not a valid chatthy export: invalid JSON ({exc})") from None
    if not isinstance(data, dict) or "chatthy_export" not in data:
        raise BadRequest("not a chatthy export (no \"chatthy_export\" field): "
                         "import reads what `chatthy chat export --format json` writes")
    if data["chatthy_export"] != FORMAT_VERSION:
        raise BadRequest(f"chatthy export version {data['chatthy_export']!r} is not supported "
                         f"(this chatthy reads version {FORMAT_VERSION})")
    chat = data.get("chat")
    if not isinstance(chat, dict):
        raise _bad("chat", "must be an object")
    name = _typed(chat.get("name"), (str,), "chat.name", optional=False)
    for key in ("personality", "provider", "model"):
        _typed(chat.get(key), (str,), f"chat.{key}")
    created = _typed(chat.get("created"), (str,), "chat.created", optional=False)
    updated = _typed(chat.get("updated"), (str,), "chat.updated", optional=False)
    persona = data.get("personality")
    prompt = None
    if persona is not None:
        if not isinstance(persona, dict):
            raise _bad("personality", "must be an object or null")
        prompt = _typed(persona.get("prompt"), (str,), "personality.prompt", optional=False)
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list):
        raise _bad("messages", "must be a list")
    messages = []
    for i, raw in enumerate(raw_messages):
        where = f"messages[{i}]"
        if not isinstance(raw, dict):
            raise _bad(where, "must be an object")
        unknown = sorted(set(raw) - set(MESSAGE_FIELDS))
        if unknown:
            raise _bad(f"{where}.{unknown[0]}", "is not a message field")
        if raw.get("role") not in ROLES:
            raise _bad(f"{where}.role", f"must be one of {', '.join(ROLES)}")
        _typed(raw.get("content"), (str,), f"{where}.content", optional=False)
        if raw.get("status", "complete") not in STATUSES:
            raise _bad(f"{where}.status", f"must be one of {', '.join(STATUSES)}")
        _typed(raw.get("created"), (str,), f"{where}.created", optional=False)
        for key in ("tokens", "duration_ms"):
            _typed(raw.get(key), (int,), f"{where}.{key}")
        for key in ("provider", "model", "error", "finished", "edited"):
            _typed(raw.get(key), (str,), f"{where}.{key}")
        for key in ("usage", "meta"):
            _typed(raw.get(key), (dict,), f"{where}.{key}")
        messages.append({f: raw.get(f) for f in MESSAGE_FIELDS} | {"status": raw.get("status", "complete")})
    return ImportedChat(name, chat.get("personality"), chat.get("provider"), chat.get("model"),
                        created, updated, prompt, messages)
