"""Fitting a request into a model's context window.

A request is: fixed parts (system prompt, workspace files, retrieved context),
then as much history as fits, then the new input. Every part arrives with its
token count already known (counts are stored per message), so assembling is
arithmetic over integers and never re-tokenises anything.

History is kept as the newest *whole turns* that fit. A turn starts at a user
message and holds the assistant and tool messages that answer it, so a tool
call and its result are kept or dropped together (providers reject a request
whose tool call lacks its result). Once one turn does not fit, every older turn
is dropped too: a gap in the middle of a conversation would mislead the model
more than a shorter history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from chatthy.errors import ContextOverflow

__all__ = ["Assembled", "FixedPart", "HistoryMessage", "assemble", "split_turns"]


@dataclass(frozen=True, slots=True)
class HistoryMessage:
    id: int
    role: str  # 'user' | 'assistant' | 'tool'
    content: str
    tokens: int
    meta: dict | None = None  # may hold tool_calls


@dataclass(frozen=True, slots=True)
class FixedPart:
    name: str  # e.g. "system prompt", "workspace: notes.md", "input"
    text: str
    tokens: int


@dataclass(frozen=True)
class Assembled:
    system_parts: list[FixedPart]  # what precedes history
    history: list[HistoryMessage]  # kept, oldest first
    # Dropped, oldest first. A summarising mode replaces exactly these with a
    # summary; the assembler itself only reports them.
    dropped: list[HistoryMessage]
    input: FixedPart | None
    budget: int
    used: int

    @property
    def free(self) -> int:
        return self.budget - self.used

    def report(self) -> list[dict]:
        """Rows ``{part, tokens, status}`` in request order, for `chatthy chat tokens`.

        History is summarised as one row for what is sent and one for what was
        dropped: a row per message would bury the fixed parts under thousands.
        """
        rows = [{"part": p.name, "tokens": p.tokens, "status": "sent"} for p in self.system_parts]
        if self.dropped:
            rows.append(_history_row(self.dropped, "dropped"))
        if self.history:
            rows.append(_history_row(self.history, "sent"))
        if self.input is not None:
            rows.append({"part": self.input.name, "tokens": self.input.tokens, "status": "sent"})
        return rows


def _history_row(messages: list[HistoryMessage], status: str) -> dict:
    turns = len(split_turns(messages))
    label = (
        f"history: {len(messages):,} message{'s' * (len(messages) != 1)}"
        f" in {turns:,} turn{'s' * (turns != 1)}"
    )
    return {"part": label, "tokens": sum(m.tokens for m in messages), "status": status}


def split_turns(history: Sequence[HistoryMessage]) -> list[list[HistoryMessage]]:
    """Group messages into turns: each starts at a user message and runs to the
    next one; messages before the first user message form a turn of their own."""
    turns: list[list[HistoryMessage]] = []
    for message in history:
        if message.role == "user" or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def assemble(
    *,
    fixed: list[FixedPart],
    history: Sequence[HistoryMessage],
    new_input: FixedPart | None,
    context_length: int,
    max_tokens: int,
    reserve: int = 0,
) -> Assembled:
    """Keep every fixed part and the input, then the newest whole turns that fit.

    The budget is ``context_length - max_tokens - reserve`` (the reply needs
    ``max_tokens`` of the window; ``reserve`` is slack for per-request framing
    and estimate error). Raises ContextOverflow, naming every part and its
    count, if the fixed parts and input alone exceed it: the user's input is
    never cut silently.
    """
    budget = context_length - max_tokens - reserve
    if budget <= 0:
        raise ContextOverflow(
            f"no room for a request: {_window(context_length, max_tokens, reserve)}"
            f" leaves {budget:,} tokens; lower max_tokens or raise context_length",
            data={"budget": budget, "context_length": context_length,
                  "max_tokens": max_tokens, "reserve": reserve},
        )
    parts = list(fixed) + ([new_input] if new_input is not None else [])
    fixed_total = sum(p.tokens for p in parts)
    if fixed_total > budget:
        raise _overflow(fixed, new_input, fixed_total, budget, context_length, max_tokens, reserve)

    # Walk from the newest message, committing at each turn start (a user
    # message, or the very first message). The first overshoot ends the walk:
    # the turn in progress cannot fit, and older turns must go with it.
    remaining = budget - fixed_total
    running = 0
    kept_tokens = 0
    cut = len(history)
    for i in range(len(history) - 1, -1, -1):
        message = history[i]
        running += message.tokens
        if running > remaining:
            break
        if message.role == "user" or i == 0:
            cut = i
            kept_tokens = running

    return Assembled(
        system_parts=list(fixed),
        history=list(history[cut:]),
        dropped=list(history[:cut]),
        input=new_input,
        budget=budget,
        used=fixed_total + kept_tokens,
    )


def _window(context_length: int, max_tokens: int, reserve: int) -> str:
    text = f"context_length {context_length:,} − max_tokens {max_tokens:,}"
    if reserve:
        text += f" − reserve {reserve:,}"
    return text


def _overflow(
    fixed: list[FixedPart], new_input: FixedPart | None, total: int, budget: int,
    context_length: int, max_tokens: int, reserve: int,
) -> ContextOverflow:
    parts = list(fixed) + ([new_input] if new_input is not None else [])
    itemised = " + ".join(f"{p.name} {p.tokens:,}" for p in parts)
    advice = []
    if any(p.name.startswith("workspace") for p in fixed):
        advice.append("drop or bench a workspace file")
    if any(p.name.startswith("retrieved") for p in fixed):
        advice.append("retrieve less context")
    # The system prompt is rarely the culprit; mention it only when nothing else is.
    if not advice and any(p.name.startswith("system") for p in fixed):
        advice.append("shorten the system prompt")
    if new_input is not None:
        advice.append("shorten the input")
    if not advice:
        advice.append("use a model with a larger context_length")
    advice_text = ", or ".join([", ".join(advice[:-1]), advice[-1]] if len(advice) > 1 else advice)
    return ContextOverflow(
        f"request does not fit: {itemised} = {total:,} tokens > budget {budget:,}"
        f" ({_window(context_length, max_tokens, reserve)}); {advice_text}",
        data={
            "parts": [{"part": p.name, "tokens": p.tokens} for p in parts],
            "total": total, "budget": budget, "context_length": context_length,
            "max_tokens": max_tokens, "reserve": reserve,
        },
    )
