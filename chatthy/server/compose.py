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
    """The personality's prompt, or ``-s/--system`` instead of it for this message.

    The personality is ``persona`` (``ask -P``) if given, else the chat's, else
    ``default`` (built in: empty, so no system prompt at all). An explicit
    ``-s`` is a one-off personality: it replaces the prompt, it does not add to it.
    """
    from chatthy.context import FixedPart
    from chatthy.server.personalities import require_persona

    text = ctx.params.get("system")
    if text:
        return [FixedPart("system prompt (-s)", text, ctx.counter.count_message("system", text))]
    name = ctx.params.get("persona") or (ctx.chat.personality if ctx.chat is not None else None)
    persona = require_persona(ctx.daemon.store, ctx.profile, name)
    if not persona.prompt:
        return []
    return [FixedPart(f"system prompt ({persona.name})", persona.prompt,
                      ctx.counter.count_message("system", persona.prompt))]


def workspace_parts(ctx: AskContext) -> list[FixedPart]:
    """Files loaded with ``chatthy ws load`` (chatthy/server/workspace.py), one part each."""
    from chatthy.server.workspace import workspace_parts as parts

    return parts(ctx)


# Order is the order in the request: system prompt, workspace, retrieved context.
def retrieved_context_parts(ctx: AskContext) -> list[FixedPart]:
    """``ask --rag``: chunks from the vector store, numbered for citation (chatthy/vdb/rag.py)."""
    from chatthy.vdb.rag import retrieved_context_parts as parts

    return parts(ctx)


CONTRIBUTORS: list[Callable[[AskContext], list[FixedPart]]] = [
    system_prompt_parts,
    workspace_parts,
]
CONTRIBUTORS.append(retrieved_context_parts)


def fixed_parts(ctx: AskContext) -> list[FixedPart]:
    parts: list[FixedPart] = []
    for contribute in CONTRIBUTORS:
        parts.extend(contribute(ctx))
    return parts


def system_text(parts: list[FixedPart]) -> str | None:
    text = "\n\n".join(p.text for p in parts if p.text)
    return text or None
