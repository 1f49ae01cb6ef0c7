"""The pure half of summarising dropped history (``[chat] truncation = "summarise"``).

When history must be dropped to fit the window, the dropped messages are
replaced by a summary the model writes. Summaries are cached per chat under a
key naming exactly the messages covered (ids and version stamps), and a cached
summary of an older prefix is *extended* with the newly dropped messages
rather than redone: a long chat costs one small summarising call each time a
turn falls out of the window, not a re-read of everything dropped so far.

This module builds the prompts and batches; the daemon makes the calls.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chatthy.context.assemble import FixedPart, HistoryMessage

__all__ = [
    "SUMMARY_SYSTEM", "SummaryBatch", "batches", "summary_cap", "summary_key", "summary_part",
    "summary_prompt",
]

SUMMARY_SYSTEM = (
    "You maintain a running summary of a conversation between a user and an assistant. "
    "Write a concise summary that preserves every fact, decision, name, number, preference "
    "and open question that later turns may rely on, and the gist of code or documents "
    "discussed. Write in the conversation's language, in third person (\"The user …\"), "
    "with no preamble."
)
SUMMARY_MAX_TOKENS = 1024
SUMMARY_MIN_TOKENS = 64
# The summary may take at most this share of the request budget.
SUMMARY_SHARE = 4
ROLE_LABELS = {"user": "User", "assistant": "Assistant", "tool": "Tool result", "system": "System"}


def summary_cap(budget: int) -> int:
    """Tokens set aside for the summary in a request with this budget (0: no room)."""
    cap = min(SUMMARY_MAX_TOKENS, budget // SUMMARY_SHARE)
    return cap if cap >= SUMMARY_MIN_TOKENS else 0


def summary_key(messages: Sequence[tuple[int, str | None]]) -> str:
    """Key of the exact messages covered: ``(id, version stamp)`` pairs, oldest first."""
    digest = hashlib.sha256()
    for message_id, edited in messages:
        digest.update(f"{message_id}:{edited or ''}\n".encode())
    return digest.hexdigest()


def summary_part(text: str, messages: int, count: Callable[[str], int]) -> FixedPart:
    """The summary as a part of the request, counted with ``count``."""
    shown = summary_system_text(text)
    return FixedPart(f"summary of {messages:,} earlier message{'s' * (messages != 1)}",
                     shown, count(shown))


def summary_system_text(text: str) -> str:
    """How a summary appears in the request (after the other system parts)."""
    return ("Summary of the earlier part of this conversation, which is no longer shown "
            "in full:\n" + text.strip())


def summary_prompt(previous: str | None, messages: Sequence[HistoryMessage],
                   cut: dict[int, int] | None = None) -> str:
    """The user message of a summarising call: earlier summary, then the transcript.

    ``cut`` maps a message id to the number of characters to keep of it (a
    message too large for one call is shortened, saying so).
    """
    lines = []
    if previous:
        lines += ["Summary so far:", previous.strip(), "", "Continue it with this part of the conversation:"]
    else:
        lines += ["Summarise this conversation:"]
    for m in messages:
        text = m.content
        if cut and m.id in cut and cut[m.id] < len(text):
            text = text[: cut[m.id]] + " […]"
        lines += ["", f"{ROLE_LABELS.get(m.role, m.role)}: {text}"]
    lines += ["", "Write the updated summary."]
    return "\n".join(lines)


@dataclass(frozen=True)
class SummaryBatch:
    messages: list[HistoryMessage]
    cut: dict[int, int]  # message id → characters kept, for oversized messages


def batches(messages: Sequence[HistoryMessage], room: int) -> list[SummaryBatch]:
    """Split messages, in order, into batches of at most ``room`` tokens each.

    A message larger than ``room`` goes alone, shortened in proportion (its
    stored token count says by how much): better a summary of most of it than
    a request the model refuses.
    """
    room = max(1, room)
    out: list[SummaryBatch] = []
    current: list[HistoryMessage] = []
    used = 0
    for m in messages:
        if m.tokens > room:
            if current:
                out.append(SummaryBatch(current, {}))
                current, used = [], 0
            keep = max(1, len(m.content) * room // max(1, m.tokens))
            out.append(SummaryBatch([m], {m.id: keep}))
            continue
        if current and used + m.tokens > room:
            out.append(SummaryBatch(current, {}))
            current, used = [], 0
        current.append(m)
        used += m.tokens
    if current:
        out.append(SummaryBatch(current, {}))
    return out
