"""chat.export, chat.import."""

from __future__ import annotations

from chatthy.errors import BadRequest, Conflict
from chatthy.server.chat_format import export_json, export_markdown, parse_export
from chatthy.server.handlers.chats import _chat_dict
from chatthy.server.lookup import chat_of, profile_of
from chatthy.server.params import Name, Str, Text, check_name
from chatthy.server.personalities import find_persona
from chatthy.server.registry import method
from chatthy.store.chat_history import insert_message, set_chat_times


@method("chat.export", profile=Name(), name=Name(required=True), format=Str(default="json", choices=("json", "md")))
async def chat_export(ctx, p):
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"])
    messages = d.store.messages(chat.id)
    if p["format"] == "md":
        info = _chat_dict(d, chat)
        return {"format": "md", "content": export_markdown(chat, messages, info["provider"], info["model"])}
    persona = None
    if chat.personality:
        found = find_persona(d.store, profile, chat.personality)
        persona = (chat.personality, found.prompt if found else "")
    return {"format": "json", "content": export_json(chat, messages, persona)}


@method("chat.import", profile=Name(), data=Text(required=True), name=Name())
async def chat_import(ctx, p):
    """Import what ``chat.export`` wrote, as chat ``name`` (default: its own name)."""
    from chatthy.server.calibrated import counter_for

    d = ctx.daemon
    store = d.store
    profile = profile_of(d, p["profile"])
    imported = parse_export(p["data"])
    name = p["name"] or check_name(imported.name, "chat name in the export")
    if store.get_chat(profile.id, name) is not None:
        raise Conflict(f"chat {name!r} already exists in profile {profile.name!r}: "
                       "import it under another name (--name NEW)")
    created_persona = None
    if imported.personality and find_persona(store, profile, imported.personality) is None:
        if imported.persona_prompt is None:
            raise BadRequest(f"the export uses personality {imported.personality!r}, which profile "
                             f"{profile.name!r} lacks, and does not carry its prompt")
        created_persona = check_name(imported.personality, "personality")
    # Counts missing from the export are made with the model the chat will use.
    counter = None
    if any(m["tokens"] is None for m in imported.messages):
        provider = imported.provider if imported.provider in d.config.providers else None
        cfg = d.config.provider(provider)
        counter = counter_for(d, cfg, (imported.model if provider else None) or cfg.model)
    with store.transaction():
        if created_persona:
            store.set_personality(profile.id, created_persona, imported.persona_prompt)
        chat = store.create_chat(profile.id, name, personality=imported.personality,
                                 provider=imported.provider, model=imported.model)
        for message in imported.messages:
            if message["tokens"] is None:
                message = {**message, "tokens": counter.count_message(message["role"], message["content"])}
            insert_message(store.conn, chat.id, message)
        set_chat_times(store.conn, chat.id, imported.created, imported.updated)
    chat = store.get_chat_by_id(chat.id)
    return {**_chat_dict(d, chat), "messages": len(imported.messages), "created_personality": created_persona}
