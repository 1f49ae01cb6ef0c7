"""The Markdown export of a chat: to read, not to re-import (that is chat_format.py).

Each message is a section. Attached images show as a line such as
``[image: cat.png, image/png 640×480, 12 KB]``; a reply that used tools is
cut where each round's text ended (``meta.tool_rounds``) and each round's
calls follow its text as a fenced JSON block of the arguments and a fenced
block of the result; a ``--rag`` answer lists its numbered sources.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

_BACKTICKS = re.compile(r"`{3,}")


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def _fence(text: str, info: str = "") -> list[str]:
    """``text`` in a code fence longer than any run of backticks inside it."""
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=2)
    fence = "`" * max(3, longest + 1)
    return [fence + info, text.rstrip("\n"), fence]


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def image_line(attachment, number: int) -> str:
    """``[image: cat.png, image/png 640×480, 12 KB]`` (unnamed ones by number and sha256)."""
    name = attachment.name or f"image {number} (sha256 {attachment.sha256[:12]})"
    kind = attachment.mime
    if attachment.width and attachment.height:
        kind += f" {attachment.width}×{attachment.height}"
    return f"[image: {name}, {kind}, {_size(attachment.size)}]"


def _call_lines(call) -> list[str]:
    head = f"**Tool call** `{call.name}` · round {call.round + 1} · {call.status}"
    if call.duration_ms is not None:
        head += f" · {call.duration_ms} ms"
    lines = [head, ""]
    lines += _fence(json.dumps(call.arguments, ensure_ascii=False, indent=2), "json") + [""]
    if call.error and call.error != call.result:
        lines += [f"> tool error: {call.error}", ""]
    if call.result is not None:
        lines += ["Result:", ""] + _fence(call.result) + [""]
    return lines


def _reply_body(content: str, meta: dict | None, calls: list) -> list[str]:
    """The reply's text with each round's tool calls after that round's text."""
    if not calls:
        return [content.rstrip("\n"), ""] if content.strip() else []
    by_round: dict[int, list] = {}
    for call in calls:
        by_round.setdefault(call.round, []).append(call)
    rounds = (meta or {}).get("tool_rounds") or []
    lines: list[str] = []
    pos = 0
    for index in range(max(len(rounds), max(by_round) + 1)):
        if index < len(rounds):
            end = max(pos, min(int(rounds[index].get("end", pos)), len(content)))
            text, pos = content[pos:end].strip(), end
            if text:
                lines += [text, ""]
        for call in by_round.get(index, []):
            lines += _call_lines(call)
    rest = content[pos:].strip()
    if rest:
        lines += [rest, ""]
    return lines


def _sources(meta: dict | None) -> list[str]:
    rag = (meta or {}).get("rag")
    if not isinstance(rag, dict) or not rag.get("citations"):
        return []
    lines = ["Sources:", ""]
    for c in rag["citations"]:
        where = c.get("title") or c.get("source")
        if c.get("title") and c.get("title") != c.get("source"):
            where = f"{c['title']} ({c['source']})"
        lines.append(f"- [{c.get('n')}] {where} · {c.get('position')}")
    return lines + [""]


def export_markdown(chat, messages, provider: str, model: str, *,
                    attachments: dict | None = None, calls: dict | None = None, workspace=()) -> str:
    """``attachments``: message id → [(Attachment, data)]; ``calls``: message id → [ToolCallRecord];
    ``workspace``: the chat's own WorkspaceFile rows (listed, not copied)."""
    attachments = attachments or {}
    calls = calls or {}
    lines = [f"# {chat.name}", ""]
    lines.append(f"- personality: {chat.personality or 'default'}")
    lines.append(f"- model: {provider}/{model}")
    lines.append(f"- created: {_when(chat.created)}")
    for w in workspace:
        lines.append(f"- workspace: {w.name} ({w.source}, {w.tokens:,} tokens{', benched' if w.benched else ''})")
    lines.append("")
    for m in messages:
        head = m.role.capitalize()
        if m.role == "assistant" and m.model:
            head += f" · {m.model}"
        if m.status != "complete":
            head += f" · {m.status}"
        lines += [f"## {head} · {_when(m.created)}", ""]
        images = [image_line(a, n) for n, (a, _) in enumerate(attachments.get(m.id) or [], 1)]
        if images:
            lines += images + [""]
        lines += _reply_body(m.content, m.meta, calls.get(m.id) or [])
        lines += _sources(m.meta)
        if m.error:
            lines += [f"> error: {m.error}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
