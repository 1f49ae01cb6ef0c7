"""chat.export, chat.import (formats: chatthy/server/chat_format.py, chat_markdown.py).

An import is checked whole (off the event loop: a large export with images
takes a while to parse and hash) before anything is written, then written in
one transaction: a refused import leaves the database as it was.

Two things are not copied as they are, because the imported chat is not
generating anything: a reply exported while it was still being written
(``partial`` with no ``finished``) is imported as ended, with an error saying
so, and its tool calls still ``running`` are imported as ``cancelled``. Any
chat that was not mid-reply round-trips exactly.
"""

from __future__ import annotations

import json
from functools import partial

from chatthy.errors import BadRequest, Conflict
from chatthy.server.chat_format import ImageLimits, export_json, parse_export
from chatthy.server.handlers.chats import _chat_dict
from chatthy.server.lookup import chat_of, profile_of
from chatthy.server.params import Name, Str, check_name
from chatthy.server.personalities import find_persona
from chatthy.server.registry import method
from chatthy.store.chat_history import insert_message, set_chat_times

INTERRUPTED_EXPORT = "the export was taken while this reply was being written"


@method("chat.export", profile=Name(), name=Name(required=True), format=Str(default="json", choices=("json", "md")))
async def chat_export(ctx, p):
    import anyio

    from chatthy.server.chat_markdown import export_markdown
    from chatthy.store.workspace import list_files
    from chatthy.tools import storage

    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"])
    messages = d.store.messages(chat.id)
    conn = d.store.conn
    ids = [m.id for m in messages]
    calls = storage.calls_of_messages(conn, ids)
    workspace = list_files(conn, profile.id, chat.id, profile_wide=False)
    if p["format"] == "md":
        info = _chat_dict(d, chat)
        attachments = storage.attachments_of(conn, ids)
        return {"format": "md", "content": export_markdown(chat, messages, info["provider"], info["model"],
                                                           attachments=attachments, calls=calls,
                                                           workspace=workspace)}
    persona = None
    if chat.personality:
        found = find_persona(d.store, profile, chat.personality)
        persona = (chat.personality, found.prompt if found else "", found.tools if found else None)
    attachments = storage.attachments_of(conn, ids, with_data=True)
    write = partial(export_json, chat, messages, persona, tools=storage.chat_tools(conn, chat.id),
                    attachments=attachments, calls=calls, workspace=workspace)
    content = await anyio.to_thread.run_sync(write) if attachments else write()
    return {"format": "json", "content": content}


# No length cap here: parse_export measures the export in bytes against its own
# cap (MAX_EXPORT_BYTES, above the Text one: images), and the frame limit bounds it first.
@method("chat.import", profile=Name(), data=Str(required=True, max=None), name=Name())
async def chat_import(ctx, p):
    """Import what ``chat.export`` wrote, as chat ``name`` (default: its own name)."""
    import anyio

    from chatthy.server.calibrated import counter_for

    d = ctx.daemon
    store = d.store
    profile = profile_of(d, p["profile"])
    limits = ImageLimits(d.config.images.max_bytes, d.config.images.max_per_message)
    text = p["data"]
    if len(text) > 256 * 1024:
        imported = await anyio.to_thread.run_sync(parse_export, text, limits)
    else:
        imported = parse_export(text, limits)
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
            store.set_personality(profile.id, created_persona, imported.persona_prompt, imported.persona_tools)
        chat = store.create_chat(profile.id, name, personality=imported.personality,
                                 provider=imported.provider, model=imported.model)
        _write_messages(store.conn, chat.id, imported, counter)
        _write_workspace(store.conn, profile.id, chat.id, imported.workspace)
        if imported.tools is not None:
            from chatthy.tools.storage import set_chat_tools

            set_chat_tools(store.conn, chat.id, imported.tools)
        set_chat_times(store.conn, chat.id, imported.created, imported.updated)
    chat = store.get_chat_by_id(chat.id)
    return {**_chat_dict(d, chat), "messages": len(imported.messages), "images": len(imported.images),
            "tool_calls": sum(len(m["tool_calls"]) for m in imported.messages),
            "workspace": len(imported.workspace),
            "created_personality": created_persona}


def _write_messages(conn, chat_id: int, imported, counter) -> None:
    """Inside the import's transaction: the messages, their images (stored once), their tool calls."""
    from chatthy.tools.storage import link, store_image

    image_ids: dict[str, int] = {}
    for message in imported.messages:
        attached, calls = message["attachments"], message["tool_calls"]
        fields = {k: v for k, v in message.items() if k not in ("attachments", "tool_calls")}
        if fields["tokens"] is None:
            fields["tokens"] = counter.count_message(fields["role"], fields["content"])
        if fields["status"] == "partial" and fields["finished"] is None:
            fields["finished"] = fields["created"]
            fields["error"] = fields["error"] or INTERRUPTED_EXPORT
        message_id = insert_message(conn, chat_id, fields)
        if attached:
            for sha, _ in attached:
                if sha not in image_ids:
                    image = imported.images[sha]
                    image_ids[sha] = store_image(conn, image.data, image.mime, image.width, image.height)
            link(conn, message_id, [image_ids[sha] for sha, _ in attached], [n for _, n in attached])
        for call in calls:
            _insert_call(conn, message_id, call)


def _write_workspace(conn, profile_id: int, chat_id: int, files: list[dict]) -> None:
    # chatthy.store.workspace.put_file stamps the times now; an import keeps the files' own.
    from chatthy.store.models import dump_json

    conn.executemany(
        "INSERT INTO workspace (profile_id, chat_id, name, kind, source, title, content, meta, tokens,"
        " encoding, benched, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(profile_id, chat_id, f["name"], f["kind"], f["source"], f["title"], f["content"], dump_json(f["meta"]),
          f["tokens"], f["encoding"], 1 if f["benched"] else 0, f["created"], f["updated"]) for f in files],
    )


def _insert_call(conn, message_id: int, call: dict) -> None:
    # chatthy.tools.storage.add_call stamps the time now; an import keeps the call's own.
    status = "cancelled" if call["status"] == "running" else call["status"]
    conn.execute(
        "INSERT INTO tool_calls (message_id, round, call_id, name, arguments, result, status, error,"
        " duration_ms, tokens, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (message_id, call["round"], call["call_id"], call["name"], json.dumps(call["arguments"], ensure_ascii=False),
         call["result"], status, call["error"], call["duration_ms"], call["tokens"], call["created"]),
    )
