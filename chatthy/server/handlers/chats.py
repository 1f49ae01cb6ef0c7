"""chat.list, chat.show, chat.rename, chat.delete, chat.use, chat.watch."""

from __future__ import annotations


import anyio

from chatthy.server.lookup import chat_of, profile_of
from chatthy.server.params import Name
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
    for s in d.store.list_chats(profile.id, personality=p["personality"]):
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
