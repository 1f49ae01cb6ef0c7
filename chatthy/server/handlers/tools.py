"""tools.list, tools.set (a chat's tools: REPL /tools), tools.approve, tools.calls."""

from __future__ import annotations

from chatthy.errors import BadRequest
from chatthy.server.lookup import chat_of, profile_of
from chatthy.server.params import Bool, Int, Name, Str, StrList
from chatthy.server.registry import method
from chatthy.server.tool_plan import stored_choice
from chatthy.server.tool_runtime import ANSWERS, runtime


def _choice_of(d, profile, chat_name: str | None) -> tuple[object, list[str] | None]:
    from chatthy.tools import storage

    if not chat_name:
        return None, None
    chat = chat_of(d, profile, chat_name)
    return chat, storage.chat_tools(d.store.conn, chat.id)


def _persona_tools(d, profile, name: str) -> list[str] | None:
    from chatthy.server.personalities import find_persona

    found = find_persona(d.store, profile, name)
    return found.tools if found is not None else None


@method("tools.list", profile=Name(), chat=Name())
async def tools_list(ctx, p):
    """Every tool the daemon offers; with ``chat``, which of them that chat has on."""
    d = ctx.daemon
    rt = runtime(d)
    profile = profile_of(d, p["profile"])
    chat, choice = _choice_of(d, profile, p["chat"])
    available = await rt.registry.tools()
    default = list(d.config.tools.default)
    stored = stored_choice(d, profile, chat)  # the chat's choice, else its personality's
    effective = stored.names if stored.names is not None else default
    if effective == ["all"]:
        on = set(available)
    elif effective == ["none"]:
        on = set()
    else:
        on = set(effective)
    return {
        "tools": [{**t.spec.to_dict(), "enabled": t.spec.name in on} for t in available.values()],
        "chat": chat.name if chat is not None else None,
        "choice": choice,  # None: the chat follows its personality's tools, else [tools] default
        "source": stored.source,  # where the tools in force come from: chat, personality or default
        "persona": stored.persona,
        "persona_tools": _persona_tools(d, profile, stored.persona),  # in force only after the chat's choice
        "default": default,
        "max_rounds": d.config.tools.max_rounds,
        "mcp": rt.registry.mcp.describe(),
    }


@method("tools.set", profile=Name(), chat=Name(required=True), tools=StrList(max=64), reset=Bool())
async def tools_set(ctx, p):
    """Set a chat's tools: names, ["all"] or ["none"]; ``reset`` returns it to ``[tools] default``."""
    from chatthy.tools import storage

    d = ctx.daemon
    chat = chat_of(d, profile_of(d, p["profile"]), p["chat"])
    if p["reset"]:
        if p["tools"]:
            raise BadRequest("tools.set: give tools or reset, not both")
        storage.set_chat_tools(d.store.conn, chat.id, None)
        return {"chat": chat.name, "choice": None}
    if not p["tools"]:
        raise BadRequest("tools.set: give tool names, 'all' or 'none' (or reset)")
    await runtime(d).registry.select(p["tools"], None)  # refuses unknown names
    storage.set_chat_tools(d.store.conn, chat.id, list(p["tools"]))
    return {"chat": chat.name, "choice": list(p["tools"])}


@method("tools.approve", call_id=Str(required=True, max=64), answer=Str(required=True, choices=ANSWERS))
async def tools_approve(ctx, p):
    """The answer to an ``approval`` event: yes, no, or always (this tool, in this chat)."""
    pending = runtime(ctx.daemon).approvals.answer(p["call_id"], p["answer"])
    return {"call_id": pending.call_id, "tool": pending.tool, "answer": p["answer"]}


@method("tools.calls", profile=Name(), chat=Name(required=True), message_id=Int(min=1))
async def tools_calls(ctx, p):
    """The tool calls made in a chat's replies (or one reply's), oldest first."""
    from chatthy.tools import storage

    d = ctx.daemon
    chat = chat_of(d, profile_of(d, p["profile"]), p["chat"])
    return [c.to_dict() for c in storage.calls_of_chat(d.store.conn, chat.id, p["message_id"])]
