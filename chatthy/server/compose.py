"""What goes into a request before the history.

Each feature contributes named parts (the personality's system prompt, the
workspace files, retrieved context, …) through one function in
``CONTRIBUTORS``; the parts are counted separately, so the token budget and
``chat tokens`` can say what each one costs, and are joined into the system
prompt in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from chatthy.config import ProviderConfig
    from chatthy.context import FixedPart
    from chatthy.server.daemon import Daemon


@dataclass
class AskContext:
    """Everything a contributor may look at. ``chat`` is None for a new chat."""

    daemon: Daemon
    profile: Any
    chat: Any
    params: dict
    counter: Any  # chatthy.context.TokenCounter for the model in use
    provider: ProviderConfig
    model: str


def system_prompt_parts(ctx: AskContext) -> list[FixedPart]:
    """``-s/--system`` for this message (personalities extend this)."""
    from chatthy.context import FixedPart

    text = ctx.params.get("system")
    if not text:
        return []
    return [FixedPart("system prompt", text, ctx.counter.count(text))]


# Order is the order in the request: system prompt, workspace, retrieved context.
CONTRIBUTORS: list[Callable[[AskContext], list[FixedPart]]] = [
    system_prompt_parts,
]


def fixed_parts(ctx: AskContext) -> list[FixedPart]:
    parts: list[FixedPart] = []
    for contribute in CONTRIBUTORS:
        parts.extend(contribute(ctx))
    return parts


def system_text(parts: list[FixedPart]) -> str | None:
    text = "\n\n".join(p.text for p in parts if p.text)
    return text or None
