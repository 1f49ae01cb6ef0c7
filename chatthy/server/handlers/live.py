"""repl.names (everything the REPL completes) and repl.watch (a chat's events,
starting with a snapshot of its last messages).

Completion must answer while the user types, so this never asks a provider's
API (``models.list`` does, and may take seconds): models are the configured
defaults plus those the profile's chats have used. The REPL adds an API list
in the background when the user first completes a model name.
"""

from __future__ import annotations

import anyio

from chatthy.server.daemon import EVENT_QUEUE
from chatthy.server.lookup import chat_of, profile_of
from chatthy.server.params import Int, Name
from chatthy.server.personalities import list_personas
from chatthy.server.registry import method


@method("repl.names", profile=Name())
async def repl_names(ctx, p):
    """{chats, personalities, profiles, providers, models: {provider: [model, …]}}."""
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chats = d.store.list_chats(profile.id)
    models: dict[str, set[str]] = {name: {cfg.model} for name, cfg in d.config.providers.items()}
    for chat in chats:
        provider = chat.provider or d.config.default_provider
        if chat.model and provider in models:
            models[provider].add(chat.model)
    personalities = [persona.name for persona in list_personas(d.store, profile)]
    return {
        "profile": profile.name,
        "chats": [chat.name for chat in chats],
        "personalities": sorted(set(personalities)),
        "profiles": [x.name for x in d.store.list_profiles()],
        "providers": sorted(d.config.providers),
        "default_provider": d.config.default_provider,
        "models": {name: sorted(found) for name, found in sorted(models.items())},
    }


@method("repl.watch", streaming=True, profile=Name(), name=Name(required=True), recent=Int(default=0, min=0))
async def repl_watch(ctx, p):
    """``chat.watch`` that starts with a snapshot, so a REPL misses nothing.

    The first event, ``{"kind": "watching", "chat", "messages", "total",
    "generating"}``, is taken in the same step as the subscription: the last
    ``recent`` messages (without the reply in progress, which follows as
    ``reply_start`` and is best shown live from its first chunk). Every later
    message arrives as an event; none falls between the two, none comes twice.
    """
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"])
    send, receive = anyio.create_memory_object_stream[dict](EVENT_QUEUE)
    d.watchers[chat.id].add(send)  # no await between this and the snapshot below
    try:
        gen = d.generations.for_chat(chat.id)
        rows = d.store.messages(chat.id)
        if gen is not None:
            rows = [m for m in rows if m.id != gen.message_id]
        shown = rows[-p["recent"]:] if p["recent"] else []
        await ctx.event({"kind": "watching", "chat": chat.name, "total": len(rows),
                         "messages": [m.to_dict() for m in shown],
                         "generating": gen.summary() if gen is not None else None}, 0)
        seq = 1
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
