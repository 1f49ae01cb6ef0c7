"""chat.list, chat.show, chat.get, chat.rename, chat.delete, chat.update, chat.tokens, chat.watch, chat.search."""

from __future__ import annotations


import anyio

from chatthy.errors import BadRequest
from chatthy.server.lookup import chat_of, profile_of
from chatthy.server.params import Int, Name, Str, check_name
from chatthy.server.registry import method


def _chat_dict(daemon, chat) -> dict:
    provider = chat.provider or daemon.config.default_provider
    cfg = daemon.config.providers.get(provider)
    return {
        "name": chat.name,
        "personality": chat.personality or "default",
        "provider": provider,
        "model": chat.model or (cfg.model if cfg else None),
        "created": chat.created,
        "updated": chat.updated,
    }


@method("chat.list", profile=Name(), personality=Name())
async def chat_list(ctx, p):
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    out = []
    # NULL and "default" are the same personality, so filter here, not in SQL.
    wanted = p["personality"]
    for s in d.store.list_chats(profile.id):
        if wanted is not None and (s.personality or "default") != wanted:
            continue
        provider = s.provider or d.config.default_provider
        cfg = d.config.providers.get(provider)
        out.append({
            "name": s.name,
            "messages": s.messages,
            "created": s.created,
            "updated": s.updated,
            "provider": provider,
            "model": s.model or (cfg.model if cfg else None),
            "personality": s.personality or "default",
            "last_user": s.last_user,
        })
    return out


@method("chat.show", profile=Name(), name=Name(required=True))
async def chat_show(ctx, p):
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"])
    gen = d.generations.for_chat(chat.id)
    return {
        **_chat_dict(d, chat),
        "profile": profile.name,
        "generating": gen.id if gen else None,
        "messages": [m.to_dict() for m in d.store.messages(chat.id)],
    }


@method("chat.rename", profile=Name(), name=Name(required=True), new=Name(required=True))
async def chat_rename(ctx, p):
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = d.store.rename_chat(profile.id, p["name"], p["new"])
    return _chat_dict(d, chat)


@method("chat.delete", profile=Name(), name=Name(required=True))
async def chat_delete(ctx, p):
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"])
    gen = d.generations.for_chat(chat.id)
    if gen is not None:
        gen.cancel()
        await gen.finished.wait()
    d.store.delete_chat(profile.id, chat.name)
    return {"deleted": chat.name}


@method("chat.get", profile=Name(), name=Name(required=True))
async def chat_get(ctx, p):
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    return _chat_dict(d, chat_of(d, profile, p["name"]))


@method("chat.update", profile=Name(), name=Name(required=True), personality=Str(max=200),
        provider=Str(max=200), model=Str(max=200))
async def chat_update(ctx, p):
    """Switch a chat's personality, provider or model for good ("" = back to the default).

    A new provider without a model also resets the model: the old provider's
    model name rarely means anything to another one.
    """
    from chatthy.server.personalities import require_persona, stored_name
    from chatthy.server.reply import ensure_idle

    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"])
    ensure_idle(d, chat)
    fields: dict = {}
    if p["personality"] is not None:
        name = p["personality"].strip()
        if name:
            name = require_persona(d.store, profile, check_name(name, "personality")).name
        fields["personality"] = stored_name(name)
    if p["provider"] is not None:
        name = p["provider"].strip()
        fields["provider"] = d.config.provider(check_name(name, "provider")).name if name else None
        if p["model"] is None:
            fields["model"] = None
    if p["model"] is not None:
        fields["model"] = p["model"].strip() or None
    if not fields:
        raise BadRequest("chat.update: nothing to change (give personality, provider or model)")
    chat = d.store.update_chat(chat.id, **fields)
    d.publish(chat.id, {"kind": "chat_updated", "chat": chat.name, **_chat_dict(d, chat)})
    return _chat_dict(d, chat)


@method("chat.tokens", profile=Name(), name=Name(), provider=Name(), model=Str(max=200))
async def chat_tokens(ctx, p):
    """The token budget of the chat's next request: each part, what is dropped, what is left."""
    from chatthy.server.budget_report import budget_report

    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"]) if p["name"] else None
    return await budget_report(d, profile, chat, provider=p["provider"], model=p["model"])


@method("chat.watch", streaming=True, profile=Name(), name=Name(required=True))
async def chat_watch(ctx, p):
    """Stream every event of a chat (messages, replies starting and ending) until cancelled."""
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"])
    send, receive = anyio.create_memory_object_stream[dict](1024)
    d.watchers[chat.id].add(send)
    seq = 0
    try:
        gen = d.generations.for_chat(chat.id)
        if gen is not None:
            await ctx.event({"kind": "reply_start", **gen.summary()}, seq)
            seq += 1
        async with receive:
            async for event in receive:
                await ctx.event(event, seq)
                seq += 1
    finally:
        d.watchers[chat.id].discard(send)
        send.close()
    return {"count": 0, "closed": True}


@method("chat.search", profile=Name(), query=Str(required=True, max=1000), name=Name(),
        role=Str(choices=("user", "assistant")), limit=Int(default=20, min=1, max=500))
async def chat_search(ctx, p):
    """Messages of the profile's chats (or of chat ``name``) that hold every word of ``query``."""
    from chatthy.store.message_search import search_messages

    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat_id = chat_of(d, profile, p["name"]).id if p["name"] is not None else None
    try:
        hits = search_messages(d.store.conn, profile.id, p["query"], chat_id=chat_id, role=p["role"],
                               limit=p["limit"])
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return [hit.to_dict() for hit in hits]
