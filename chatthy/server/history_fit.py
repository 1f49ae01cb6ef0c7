"""Fitting a chat's history into a request: drop old turns, or summarise them.

``[chat] truncation = "drop"`` keeps the newest whole turns that fit (see
``chatthy.context.assemble``). ``"summarise"`` sets a share of the budget
aside, drops what does not fit in the rest, and replaces the dropped messages
with a summary the model writes (``chatthy.context.summarise``), cached in the
``summaries`` table so the same span is never summarised twice.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatthy.context import Assembled, FixedPart, HistoryMessage, assemble
from chatthy.context.summarise import (
    SUMMARY_SYSTEM, batches, summary_cap, summary_key, summary_part, summary_prompt,
)
from chatthy.errors import ContextOverflow, ProviderError
from chatthy.store.chat_history import history_outline, texts, version_stamps
from chatthy.store.summaries import chat_summaries, get_summary, put_summary
from chatthy.store.usage import log_usage

if TYPE_CHECKING:
    from chatthy.server.daemon import Daemon

log = logging.getLogger("chatthy.server")

# Room left in a summarising call for its instructions and framing.
SUMMARY_SLACK = 128


@dataclass
class Fitted:
    assembled: Assembled
    summary: FixedPart | None = None
    # Dropped messages a summary would cover but none is cached yet (only
    # when fitting without making summaries: `chat tokens`).
    pending_summary: int = 0


@dataclass
class Target:
    """What the history is fitted for: the model, its window, how to count."""

    daemon: Daemon
    profile: object
    chat: object  # None for a chat that does not exist yet
    provider_cfg: object
    provider: object
    model: str
    counter: object


class OutlinedMessage:
    """A history message whose text is not read yet (``content`` "", ``meta`` None).

    Duck-types ``HistoryMessage`` for assembling, which needs only ids, roles
    and tokens; a plain slotted class because a long chat makes 10,000 of them
    per request, three times faster than the frozen dataclass.
    """

    __slots__ = ("id", "role", "content", "tokens", "meta")

    def __init__(self, id: int, role: str, tokens: int) -> None:  # noqa: A002
        self.id, self.role, self.content, self.tokens, self.meta = id, role, "", tokens, None

    def __repr__(self) -> str:
        return f"OutlinedMessage({self.id}, {self.role!r}, tokens={self.tokens})"


def chat_history(daemon: Daemon, chat) -> list[OutlinedMessage]:
    """The chat's replayable messages, oldest first, without their text (see ``with_texts``)."""
    if chat is None:
        return []
    return [OutlinedMessage(i, role, tokens) for i, role, tokens in history_outline(daemon.store.conn, chat.id)]


def with_texts(daemon: Daemon, chat, history: list[HistoryMessage]) -> list[HistoryMessage]:
    """``history`` with each message's text and meta read from the database
    (only what a request keeps, or a summary covers, is ever read)."""
    if not history or chat is None:
        return history
    found = texts(daemon.store.conn, chat.id, history[0].id, history[-1].id)
    # A message removed meanwhile (planning may have awaited a summary) is left out.
    return [HistoryMessage(m.id, m.role, found[m.id][0], m.tokens, found[m.id][1])
            for m in history if m.id in found]


async def fit_history(target: Target, fixed: list[FixedPart], history: list[HistoryMessage],
                      new_input: FixedPart | None, *, make_summary: bool = True) -> Fitted:
    """Assemble the request's parts; summarise dropped history when configured.

    ``history`` needs no text (tokens decide); the dropped messages' text is
    read only when a summary has to be made. With ``make_summary=False`` only
    a cached summary is used.
    """
    cfg = target.provider_cfg
    plain = assemble(fixed=fixed, history=history, new_input=new_input,
                     context_length=cfg.context_length, max_tokens=cfg.max_tokens)
    if target.daemon.config.truncation != "summarise" or not plain.dropped or target.chat is None:
        return Fitted(plain)
    cap = summary_cap(plain.budget)
    if cap == 0:
        return Fitted(plain)
    try:
        reserved = assemble(fixed=fixed, history=history, new_input=new_input,
                            context_length=cfg.context_length, max_tokens=cfg.max_tokens, reserve=cap)
    except ContextOverflow:
        return Fitted(plain)  # no room for a summary: plain dropping it is
    dropped = reserved.dropped
    # With the ids, the created/edited stamps key the cache: SQLite may give a
    # deleted message's id to the next one, and an edit makes a new version.
    stamps = version_stamps(target.daemon.store.conn, target.chat.id, dropped[0].id, dropped[-1].id)
    pairs = [(m.id, stamps.get(m.id)) for m in dropped]
    cached = get_summary(target.daemon.store.conn, target.chat.id, summary_key(pairs))
    if cached is not None:
        text = cached.content
    elif make_summary:
        text = await _summarise(target, dropped, pairs, cap)
    else:
        return Fitted(plain, pending_summary=len(dropped))
    part = summary_part(text, len(dropped), target.counter.count)
    try:
        final = assemble(fixed=[*fixed, part], history=history[len(dropped):], new_input=new_input,
                         context_length=cfg.context_length, max_tokens=cfg.max_tokens)
    except ContextOverflow:
        # The summary came out longer than its share and crowds out the input.
        log.warning("summary of chat %r is too long for the window; dropping instead", target.chat.name)
        return Fitted(plain)
    combined = Assembled(system_parts=final.system_parts, history=final.history,
                         dropped=[*dropped, *final.dropped], input=new_input,
                         budget=final.budget, used=final.used)
    return Fitted(combined, part)


async def _summarise(target: Target, dropped: list[HistoryMessage],
                     pairs: list[tuple[int, str | None]], cap: int) -> str:
    """Summarise ``dropped``, extending the longest cached summary of a prefix of it."""
    store = target.daemon.store
    chat = target.chat
    position = {m.id: i for i, m in enumerate(dropped)}
    previous, start = None, 0
    for cached in chat_summaries(store.conn, chat.id):
        i = position.get(cached.last_id)
        if i is not None and summary_key(pairs[: i + 1]) == cached.key:
            previous, start = cached.content, i + 1
            break
    counter = target.counter
    cfg = target.provider_cfg
    # The call holds: instructions, the summary so far (≤ cap), the transcript,
    # and room for the new summary (cap).
    room = cfg.context_length - 2 * cap - counter.count(SUMMARY_SYSTEM) - SUMMARY_SLACK
    rest = with_texts(target.daemon, chat, dropped[start:])
    for batch in batches(rest, max(room, 256)):
        previous = await _summary_call(target, summary_prompt(previous, batch.messages, batch.cut), cap)
        end = position[batch.messages[-1].id] + 1
        put_summary(store.conn, chat.id, key=summary_key(pairs[:end]), last_id=dropped[end - 1].id,
                    messages=end, content=previous, provider=cfg.name, model=target.model, usage=None)
    assert previous is not None
    return previous


async def _summary_call(target: Target, prompt: str, cap: int) -> str:
    from chatthy.llm import ChatRequest, TextDelta, Usage

    cfg = target.provider_cfg
    request = ChatRequest(model=target.model, messages=[{"role": "user", "content": prompt}],
                          system=SUMMARY_SYSTEM, max_tokens=cap, params=dict(cfg.params))
    pieces: list[str] = []
    usage = None
    started = time.monotonic()
    status = "error"
    try:
        async with contextlib.aclosing(target.provider.stream(request)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    pieces.append(event.text)
                elif isinstance(event, Usage):
                    usage = event
        status = "complete"
    finally:
        log_usage(target.daemon.store.conn, profile_id=target.profile.id, chat_id=target.chat.id,
                  chat=target.chat.name, kind="summary", provider=cfg.name, model=target.model,
                  input_tokens=usage.input_tokens if usage else None,
                  output_tokens=usage.output_tokens if usage else None,
                  duration_ms=int((time.monotonic() - started) * 1000), status=status)
    text = "".join(pieces).strip()
    if not text:
        raise ProviderError(f"{cfg.name} ({target.model}) returned an empty summary of the dropped history")
    return text
