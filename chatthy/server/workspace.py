"""The workspace in a request: which files are sent, as what text, at what cost.

Each file that is sent becomes one fixed part named ``workspace: NAME``, so
the budget (and ``chat tokens``) can say what each file costs. The stored
count is the raw count in one tiktoken encoding (the ``encoding`` column); a
model with another encoding recounts once and stores its count. Calibration
(for models whose tokenizer is estimated) is applied to the raw count exactly
as ``TokenCounter.count`` applies it, so a file is never re-tokenised just
because the calibration moved after a reply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatthy.sources import format_document
from chatthy.store import workspace as ws_store

if TYPE_CHECKING:
    from chatthy.context import FixedPart, TokenCounter
    from chatthy.server.compose import AskContext
    from chatthy.server.daemon import Daemon
    from chatthy.store.workspace import WorkspaceFile

PART_PREFIX = "workspace: "


def counter_key(counter: TokenCounter) -> str:
    return counter.encoding_name


def raw_count(counter: TokenCounter, text: str) -> int:
    """Tokens in ``text`` in the counter's encoding, before any calibration."""
    if counter.exact or counter.calibration == 1.0:
        return counter.count(text)
    from chatthy.context import TokenCounter

    return TokenCounter(counter.model, counter.kind).count(text)


def scaled(counter: TokenCounter, raw: int) -> int:
    """What ``counter.count`` returns for a text of ``raw`` tokens."""
    if counter.exact:
        return raw
    return math.ceil(round(raw * counter.calibration, 6))


def counter_for_chat(daemon: Daemon, chat) -> TokenCounter:
    """The counter an ask in ``chat`` (None: a new chat) would use by default."""
    cfg = daemon.config.provider(chat.provider if chat is not None else None)
    model = (chat.model if chat is not None else None) or cfg.model
    try:
        from chatthy.server.calibrated import counter_for
    except ImportError:  # a daemon without calibration: the plain counter is what asks use
        return daemon.token_counter(model, cfg.kind)
    return counter_for(daemon, cfg, model)


def file_text(f: WorkspaceFile) -> str:
    meta = f.meta or {}
    return format_document(f.content, name=f.name, source=f.source, title=f.title, pages=meta.get("pages"))


def file_tokens(daemon: Daemon, f: WorkspaceFile, counter: TokenCounter) -> int:
    key = counter_key(counter)
    raw = f.tokens
    if f.encoding != key:
        raw = raw_count(counter, file_text(f))
        ws_store.set_tokens(daemon.store.conn, f.id, raw, key)
    return scaled(counter, raw)


@dataclass
class Entry:
    """A file as the chat sees it."""

    file: WorkspaceFile
    status: str  # "sent" | "benched" | "shadowed"


def effective(files: list[WorkspaceFile]) -> list[Entry]:
    """Profile-wide files first, then the chat's, each in load order; a chat
    file shadows a profile-wide file of the same name."""
    chat_names = {f.name for f in files if f.chat_id is not None}
    ordered = sorted(files, key=lambda f: (f.chat_id is not None, f.id))
    out = []
    for f in ordered:
        if f.chat_id is None and f.name in chat_names:
            out.append(Entry(f, "shadowed"))
        else:
            out.append(Entry(f, "benched" if f.benched else "sent"))
    return out


def workspace_parts(ctx: AskContext) -> list[FixedPart]:
    """The contributor: one part per file sent with this request."""
    from chatthy.context import FixedPart

    files = ws_store.list_files(ctx.daemon.store.conn, ctx.profile.id,
                                ctx.chat.id if ctx.chat is not None else None)
    parts = []
    for entry in effective(files):
        if entry.status != "sent":
            continue
        f = entry.file
        parts.append(FixedPart(PART_PREFIX + f.name, file_text(f), file_tokens(ctx.daemon, f, ctx.counter)))
    return parts
