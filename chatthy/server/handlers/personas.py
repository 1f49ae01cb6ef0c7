"""persona.list, persona.show, persona.set, persona.delete (a personality's tools: chatthy/server/tool_plan.py)."""

from __future__ import annotations

from chatthy.errors import BadRequest, Conflict, NotFound
from chatthy.server.lookup import profile_of
from chatthy.server.params import Bool, Name, StrList, Text
from chatthy.server.personalities import (
    DEFAULT, check_deletable, find_persona, list_personas, require_persona,
)
from chatthy.server.registry import method
from chatthy.store.profile_stats import chats_with_personality


def _chats_using(d, profile, name: str) -> list[str]:
    if name == DEFAULT:
        return [s.name for s in d.store.list_chats(profile.id) if s.personality in (None, DEFAULT)]
    return [chat_name for _, chat_name in chats_with_personality(d.store.conn, profile.id, name)]


@method("persona.list", profile=Name())
async def persona_list(ctx, p):
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    return [persona.to_dict() for persona in list_personas(d.store, profile)]


@method("persona.show", profile=Name(), name=Name(required=True))
async def persona_show(ctx, p):
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    persona = require_persona(d.store, profile, p["name"])
    return {**persona.to_dict(), "chats": _chats_using(d, profile, persona.name)}


@method("persona.set", profile=Name(), name=Name(required=True), prompt=Text(), tools=StrList(max=64),
        reset_tools=Bool())
async def persona_set(ctx, p):
    """Create or replace a personality of the profile (a built-in one is overridden).

    ``prompt`` None keeps the current one (the built-in's, for a new
    override). ``tools``: names, ["all"] or ["none"], each checked against
    the tools the daemon has (BadRequest, nothing written); ``reset_tools``:
    it names none (its chats follow ``[tools] default``); neither keeps what
    it had (a new override starts with the built-in's).
    """
    from chatthy.server.tool_plan import checked_choice

    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    name = p["name"]
    current = find_persona(d.store, profile, name)
    if p["tools"] and p["reset_tools"]:
        raise BadRequest("persona.set: give tools or reset_tools, not both")
    if p["prompt"] is None:
        if current is None:
            raise NotFound(f"personality {name!r} not found in profile {profile.name!r}: "
                           f"give its prompt too (`chatthy persona set {name} TEXT`)")
        if not p["tools"] and not p["reset_tools"]:
            raise BadRequest("persona.set: nothing to change (give a prompt, tools or reset_tools)")
    prompt = current.prompt if p["prompt"] is None else p["prompt"].strip()
    if p["reset_tools"]:
        tools = None
    elif p["tools"]:
        try:
            tools = await checked_choice(d, p["tools"])
        except BadRequest as exc:
            raise BadRequest(f"personality {name!r}: {exc.message}; nothing saved") from None
    else:
        tools = current.tools if current is not None else None
    d.store.set_personality(profile.id, name, prompt, tools)
    return require_persona(d.store, profile, name).to_dict()


@method("persona.delete", profile=Name(), name=Name(required=True), force=Bool())
async def persona_delete(ctx, p):
    """Delete a personality. Deleting an override brings the built-in back; deleting
    one that chats use needs ``force`` (they go back to ``default``)."""
    d = ctx.daemon
    store = d.store
    profile = profile_of(d, p["profile"])
    name = p["name"]
    found = find_persona(store, profile, name)
    check_deletable(name, found, profile)
    reset: list[str] = []
    if not found.overrides_builtin:
        using = chats_with_personality(store.conn, profile.id, name)
        if using and not p["force"]:
            shown = ", ".join(repr(n) for _, n in using[:5]) + (f" and {len(using) - 5} more" if len(using) > 5 else "")
            raise Conflict(f"personality {name!r} is used by {len(using)} chat{'s' * (len(using) != 1)} "
                           f"({shown}); switch them first, or delete with --force to put them back on 'default'")
        with store.transaction():
            for chat_id, chat_name in using:
                store.update_chat(chat_id, personality=None)
                reset.append(chat_name)
            store.delete_personality(profile.id, name)
    else:
        store.delete_personality(profile.id, name)
    restored = find_persona(store, profile, name)
    return {"deleted": name, "builtin_restored": restored is not None, "chats_reset": reset}
