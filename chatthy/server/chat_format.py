"""The chat export format: JSON, exact and re-importable (Markdown: chat_markdown.py).

JSON round-trips: importing an export and exporting it again gives the same
bytes. Database ids are not part of it (they belong to one database); what
links things is the export's own structure. A chat's personality travels
with its prompt, so an import elsewhere behaves the same.

Version 2 (version 1 files still import: they simply have none of these)::

    {"chatthy_export": 2,
     "chat": {name, personality, provider, model, created, updated, tools},
     "personality": {name, prompt, tools?} | null,
     "images": [{sha256, mime, size, width, height, data (base64)}],
     "workspace": [{name, kind, source, title, content, meta, tokens, encoding,
                    benched, created, updated}],
     "messages": [{role, content, status, tokens, provider, model, usage, error,
                   meta, created, finished, edited, duration_ms,
                   "attachments": [{sha256, name}],        (only when it has some)
                   "tool_calls": [{round, call_id, name, arguments, result,
                                   status, error, duration_ms, tokens, created}]}]}

``chat.tools`` is the chat's tool choice (``chatthy ask -T``), null when it
has none; ``personality.tools`` the personality's (``persona set --tools``),
present only when it names some (so exports of personalities without tools
are what they were before personalities had tools, and read the same). ``workspace`` holds the files loaded into this chat's context
(``chatthy ws load``; the profile-wide ones are the profile's, not the
chat's). Each image is stored once (by sha256) however many messages attach
it, as the database does. RAG citations live in a reply's ``meta.rag``, tool
rounds' text offsets in ``meta.tool_rounds``. Not exported: "always" tool
approvals (a file must never grant a tool the right to run without asking),
summaries (a cache) and the usage log (what was spent in this database).

Parsing checks everything before the caller writes anything: each image's
sha256 against its bytes, its type by content, its size and the count per
message against ``[images]``; every field's type.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field

from chatthy.errors import BadRequest, TooLarge

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
# What `chat import` takes, in UTF-8 bytes: the request carries it in one
# frame (32 MiB), JSON-escaped once more; exports larger than this are
# refused when written, so a file `chat export` writes always imports.
MAX_EXPORT_BYTES = 24 * 1024 * 1024
MESSAGE_FIELDS = ("role", "content", "status", "tokens", "provider", "model", "usage", "error",
                  "meta", "created", "finished", "edited", "duration_ms")
CALL_FIELDS = ("round", "call_id", "name", "arguments", "result", "status", "error",
               "duration_ms", "tokens", "created")
WORKSPACE_FIELDS = ("name", "kind", "source", "title", "content", "meta", "tokens", "encoding",
                    "benched", "created", "updated")
ROLES = ("system", "user", "assistant", "tool")
STATUSES = ("complete", "partial", "error", "cancelled")
CALL_STATUSES = ("running", "ok", "error", "refused", "skipped", "cancelled")
MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_SHA256 = re.compile(r"[0-9a-f]{64}")


# -- writing ---------------------------------------------------------------------

def export_json(chat, messages, persona, *, tools: list[str] | None = None,
                attachments: dict | None = None, calls: dict | None = None, workspace=()) -> str:
    """The export of ``chat``.

    ``persona``: (name, prompt) or (name, prompt, tools) of the chat's
    personality, or None for the default; ``attachments``: message id → [(Attachment, bytes)] in order;
    ``calls``: message id → [ToolCallRecord] in round order; ``workspace``:
    the chat's own WorkspaceFile rows.
    """
    attachments = attachments or {}
    calls = calls or {}
    images: dict[str, dict] = {}
    out_messages = []
    for m in messages:
        entry = {f: getattr(m, f) for f in MESSAGE_FIELDS}
        attached = attachments.get(m.id) or []
        if attached:
            entry["attachments"] = [{"sha256": a.sha256, "name": a.name} for a, _ in attached]
            for a, data in attached:
                images.setdefault(a.sha256, {
                    "sha256": a.sha256, "mime": a.mime, "size": a.size, "width": a.width, "height": a.height,
                    "data": base64.b64encode(data).decode("ascii")})
        made = calls.get(m.id) or []
        if made:
            entry["tool_calls"] = [{f: getattr(c, f) for f in CALL_FIELDS} for c in made]
        out_messages.append(entry)
    data = {
        "chatthy_export": FORMAT_VERSION,
        "chat": {"name": chat.name, "personality": chat.personality, "provider": chat.provider,
                 "model": chat.model, "created": chat.created, "updated": chat.updated, "tools": tools},
        "personality": _persona_entry(persona),
        "images": list(images.values()),
        "workspace": [{f: getattr(w, f) for f in WORKSPACE_FIELDS} for w in workspace],
        "messages": out_messages,
    }
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    size = len(text.encode("utf-8"))
    if size > MAX_EXPORT_BYTES:
        raise TooLarge(f"chat {chat.name!r} exports to {_mib(size)} ({len(images)} images), more than "
                       f"`chat import` takes ({_mib(MAX_EXPORT_BYTES)}): fork it into smaller chats "
                       "(`chatthy chat fork --at ID`), or export it as Markdown (--format md)")
    return text


def _persona_entry(persona: tuple | None) -> dict | None:
    if not persona:
        return None
    entry = {"name": persona[0], "prompt": persona[1]}
    if len(persona) > 2 and persona[2] is not None:
        entry["tools"] = list(persona[2])
    return entry


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


# -- reading -----------------------------------------------------------------------

@dataclass
class ImportedImage:
    sha256: str
    mime: str
    data: bytes
    width: int | None
    height: int | None


@dataclass
class ImportedChat:
    name: str
    personality: str | None
    provider: str | None
    model: str | None
    created: str
    updated: str
    persona_prompt: str | None
    messages: list[dict]  # MESSAGE_FIELDS, plus "attachments" [(sha256, name)] and "tool_calls" [dict]
    tools: list[str] | None = None
    images: dict[str, ImportedImage] = field(default_factory=dict)
    workspace: list[dict] = field(default_factory=list)  # WORKSPACE_FIELDS
    persona_tools: list[str] | None = None  # the personality's tools, when it names some


@dataclass(frozen=True)
class ImageLimits:
    """``[images]``: what an imported image may weigh, and how many one message may carry."""

    max_bytes: int
    max_per_message: int


def _bad(where: str, reason: str) -> BadRequest:
    return BadRequest(f"not a valid chatthy export: {where} {reason}")


def _typed(value, types, where: str, *, optional: bool = True):
    if value is None and optional:
        return None
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        names = " or ".join(t.__name__ for t in types) + (" or null" if optional else "")
        raise _bad(where, f"must be {names}")
    return value


def _object(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise _bad(where, "must be an object")
    return value


def _only(raw: dict, known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise _bad(f"{where}.{unknown[0]}", "is not a known field")


def parse_export(text: str, limits: ImageLimits) -> ImportedChat:
    """Validate an export; BadRequest naming the first field that is wrong (TooLarge past a limit)."""
    size = len(text.encode("utf-8"))
    if size > MAX_EXPORT_BYTES:
        raise TooLarge(f"the export is {_mib(size)}; `chat import` takes at most {_mib(MAX_EXPORT_BYTES)}")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadRequest(f"not a valid chatthy export: invalid JSON ({exc})") from None
    if not isinstance(data, dict) or "chatthy_export" not in data:
        raise BadRequest("not a chatthy export (no \"chatthy_export\" field): "
                         "import reads what `chatthy chat export --format json` writes")
    version = data["chatthy_export"]
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise BadRequest(f"chatthy export version {version!r} is not supported (this chatthy reads versions "
                         f"{', '.join(map(str, READABLE_VERSIONS))}): a newer chatthy wrote it")
    chat = _object(data.get("chat"), "chat")
    name = _typed(chat.get("name"), (str,), "chat.name", optional=False)
    for key in ("personality", "provider", "model"):
        _typed(chat.get(key), (str,), f"chat.{key}")
    created = _typed(chat.get("created"), (str,), "chat.created", optional=False)
    updated = _typed(chat.get("updated"), (str,), "chat.updated", optional=False)
    tools = _typed(chat.get("tools"), (list,), "chat.tools")
    if tools is not None and not all(isinstance(t, str) for t in tools):
        raise _bad("chat.tools", "must be a list of tool names")
    persona = data.get("personality")
    prompt = persona_tools = None
    if persona is not None:
        if not isinstance(persona, dict):
            raise _bad("personality", "must be an object or null")
        prompt = _typed(persona.get("prompt"), (str,), "personality.prompt", optional=False)
        persona_tools = _tool_names(persona.get("tools"), "personality.tools")
    images = _images(data.get("images", []), limits)
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list):
        raise _bad("messages", "must be a list")
    messages = [_message(raw, f"messages[{i}]", images, limits) for i, raw in enumerate(raw_messages)]
    used = {sha for m in messages for sha, _ in m["attachments"]}
    for n, sha in enumerate(images):
        if sha not in used:
            raise _bad(f"images[{n}]", "is attached to no message")
    workspace = _workspace(data.get("workspace", []))
    return ImportedChat(name, chat.get("personality"), chat.get("provider"), chat.get("model"),
                        created, updated, prompt, messages, tools, images, workspace, persona_tools)


def _tool_names(raw, where: str) -> list[str] | None:
    """A tool choice: tool names, or ["all"] / ["none"] (whether the tools exist is the daemon's concern)."""
    from chatthy.tools.settings import TOOL_NAME

    names = _typed(raw, (list,), where)
    if names is None:
        return None
    if not names or not all(isinstance(n, str) and TOOL_NAME.match(n) for n in names):
        raise _bad(where, "must be a non-empty list of tool names")
    return names


def _workspace(raw) -> list[dict]:
    from chatthy.server.params import check_name

    if not isinstance(raw, list):
        raise _bad("workspace", "must be a list")
    out = []
    for n, item in enumerate(raw):
        where = f"workspace[{n}]"
        item = _object(item, where)
        _only(item, WORKSPACE_FIELDS, where)
        entry = {f: item.get(f) for f in WORKSPACE_FIELDS}
        for key in ("name", "kind", "source", "content", "encoding", "created", "updated"):
            _typed(entry[key], (str,), f"{where}.{key}", optional=False)
        try:
            entry["name"] = check_name(entry["name"], "name")
        except BadRequest as exc:
            raise _bad(f"{where}.name", f"is invalid: {exc.message}") from None
        if any(e["name"] == entry["name"] for e in out):
            raise _bad(f"{where}.name", f"repeats {entry['name']!r} (a name is loaded once per chat)")
        _typed(entry["title"], (str,), f"{where}.title")
        _typed(entry["meta"], (dict,), f"{where}.meta")
        _typed(entry["tokens"], (int,), f"{where}.tokens", optional=False)
        _typed(entry["benched"], (bool,), f"{where}.benched", optional=False)
        out.append(entry)
    return out


def _message(raw, where: str, images: dict[str, ImportedImage], limits: ImageLimits) -> dict:
    raw = _object(raw, where)
    _only(raw, (*MESSAGE_FIELDS, "attachments", "tool_calls"), where)
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
    message = {f: raw.get(f) for f in MESSAGE_FIELDS} | {"status": raw.get("status", "complete")}
    message["attachments"] = _attachments(raw.get("attachments", []), f"{where}.attachments", images, limits)
    calls = raw.get("tool_calls", [])
    if not isinstance(calls, list):
        raise _bad(f"{where}.tool_calls", "must be a list")
    message["tool_calls"] = [_call(c, f"{where}.tool_calls[{n}]") for n, c in enumerate(calls)]
    return message


def _attachments(raw, where: str, images: dict[str, ImportedImage], limits: ImageLimits) -> list[tuple]:
    if not isinstance(raw, list):
        raise _bad(where, "must be a list")
    if len(raw) > limits.max_per_message:
        raise TooLarge(f"{where}: {len(raw)} images on one message; at most {limits.max_per_message} "
                       "([images] max_per_message)")
    out = []
    for n, item in enumerate(raw):
        item = _object(item, f"{where}[{n}]")
        _only(item, ("sha256", "name"), f"{where}[{n}]")
        sha = _typed(item.get("sha256"), (str,), f"{where}[{n}].sha256", optional=False)
        if sha not in images:
            raise _bad(f"{where}[{n}].sha256", f"names no image of the export's \"images\" ({sha[:16]}…)")
        out.append((sha, _typed(item.get("name"), (str,), f"{where}[{n}].name")))
    return out


def _call(raw, where: str) -> dict:
    raw = _object(raw, where)
    _only(raw, CALL_FIELDS, where)
    call = {f: raw.get(f) for f in CALL_FIELDS}
    if _typed(call["round"], (int,), f"{where}.round", optional=False) < 0:
        raise _bad(f"{where}.round", "must not be negative")
    for key in ("call_id", "name", "created"):
        _typed(call[key], (str,), f"{where}.{key}", optional=False)
    _typed(call["arguments"], (dict,), f"{where}.arguments", optional=False)
    for key in ("result", "error"):
        _typed(call[key], (str,), f"{where}.{key}")
    for key in ("duration_ms", "tokens"):
        _typed(call[key], (int,), f"{where}.{key}")
    if call["status"] not in CALL_STATUSES:
        raise _bad(f"{where}.status", f"must be one of {', '.join(CALL_STATUSES)}")
    return call


def _images(raw, limits: ImageLimits) -> dict[str, ImportedImage]:
    """The export's images by sha256, each checked against its bytes."""
    from chatthy.tools.image_files import check_image

    if not isinstance(raw, list):
        raise _bad("images", "must be a list")
    out: dict[str, ImportedImage] = {}
    for n, item in enumerate(raw):
        where = f"images[{n}]"
        item = _object(item, where)
        _only(item, ("sha256", "mime", "size", "width", "height", "data"), where)
        sha = _typed(item.get("sha256"), (str,), f"{where}.sha256", optional=False)
        if not _SHA256.fullmatch(sha):
            raise _bad(f"{where}.sha256", "must be 64 lowercase hex digits")
        if sha in out:
            raise _bad(f"{where}.sha256", "repeats an earlier image (each image is listed once)")
        mime = item.get("mime")
        if mime not in MIMES:
            raise _bad(f"{where}.mime", f"must be one of {', '.join(MIMES)}")
        for key in ("size", "width", "height"):
            _typed(item.get(key), (int,), f"{where}.{key}")
        text = _typed(item.get("data"), (str,), f"{where}.data", optional=False)
        # Cheap bound before decoding: base64 is 4 characters per 3 bytes.
        if len(text) // 4 * 3 > limits.max_bytes + 3:
            raise TooLarge(f"{where}: image is larger than the limit of {_mib(limits.max_bytes)} "
                           "(raise [images] max_mb to import it)")
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise _bad(f"{where}.data", "is not valid base64") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha:
            raise BadRequest(f"{where} (sha256 {sha[:16]}…) is damaged or altered: its data hashes to "
                             f"{actual[:16]}…; nothing was imported")
        if item.get("size") is not None and item["size"] != len(data):
            raise _bad(f"{where}.size", f"says {item['size']} bytes, the data has {len(data)}")
        info = check_image(data, name=where, max_bytes=limits.max_bytes)
        if info.mime != mime:
            raise _bad(f"{where}.mime", f"says {mime}, but the data is {info.mime}")
        out[sha] = ImportedImage(sha, mime, data, info.width, info.height)
    return out
