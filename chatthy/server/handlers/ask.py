"""ask (start a reply and follow it), gen.attach, gen.cancel, gen.list."""

from __future__ import annotations

import re
import time

from chatthy.errors import BadRequest, Conflict
from chatthy.server.history_fit import chat_history
from chatthy.server.lookup import chat_of, profile_of
from chatthy.server.personalities import require_persona, stored_name
from chatthy.server.reply import ensure_idle, history_changed, last_user_message, plan_reply, start_reply
from chatthy.server.params import Bool, Dict, Int, Name, Str, StrList, Text
from chatthy.server.registry import method
from chatthy.store.chat_history import delete_messages_from


def auto_chat_name(store, profile_id: int, prompt: str) -> str:
    """``20261125-0401-explain-sqlite-wal``: sortable, and says what it was about."""
    words = re.findall(r"[a-z0-9]+", prompt.lower())[:4]
    base = time.strftime("%Y%m%d-%H%M%S") + ("-" + "-".join(words) if words else "")
    conn = store.conn
    if conn.execute("SELECT 1 FROM chats WHERE profile_id = ? AND name = ?", (profile_id, base)).fetchone() is None:
        return base
    # The highest "base-N" in one indexed query, counted by SQLite rather than by
    # fetching every name: a shell loop asking the same thing many times a second
    # would otherwise cost each ask more than the one before.
    (highest,) = conn.execute(
        "SELECT max(CAST(substr(name, ?) AS INTEGER)) FROM chats WHERE profile_id = ? AND name GLOB ?",
        (len(base) + 2, profile_id, base.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]") + "-[0-9]*"),
    ).fetchone()
    n = max(highest or 1, 1) + 1
    while conn.execute("SELECT 1 FROM chats WHERE profile_id = ? AND name = ?",
                       (profile_id, f"{base}-{n}")).fetchone() is not None:
        n += 1  # "base-7x" made by hand casts to 7: the next free one, whatever the names
    return f"{base}-{n}"


@method(
    "ask",
    streaming=True,
    profile=Name(),
    chat=Name(),
    new=Bool(),
    prompt=Text(required=True),
    provider=Name(),
    model=Str(max=200),
    system=Text(),
    persona=Name(),
    edit_last=Bool(),
    rag=Str(max=20_000),  # ask --rag [QUERY]: "" searches with the prompt (chatthy/vdb/rag.py)
    tools=StrList(max=64),  # names, ["all"] or ["none"]; kept as the chat's choice (server/tool_plan.py)
    attachments=StrList(max=64),  # images, base64 (chatthy/tools/image_files.py)
    options=Dict(),  # API parameters for this request (chatthy/request_options.py)
)
async def ask(ctx, p):
    """Ask in a chat (created on first use); ``persona`` switches the chat's
    personality; ``edit_last`` replaces the chat's last question (and what
    answered it) with this one."""
    d = ctx.daemon
    store = d.store
    prompt = p["prompt"]
    if not prompt.strip():
        raise BadRequest("empty prompt: give words, or pipe text on stdin")
    profile = profile_of(d, p["profile"])

    chat = None
    if p["chat"]:
        chat = store.get_chat(profile.id, p["chat"])
        if chat is not None and p["new"]:
            raise Conflict(f"chat {p['chat']!r} already exists (drop --new to continue it)")
    if p["persona"]:
        require_persona(store, profile, p["persona"])
    ensure_idle(d, chat)
    rows = chat_history(d, chat)
    replaced = None
    if p["edit_last"]:
        if chat is None:
            raise BadRequest("edit_last needs an existing chat: give its name")
        replaced = last_user_message(rows)
        if replaced is None:
            raise Conflict(f"chat {chat.name!r} has no question to replace")
        rows = [m for m in rows if m.id < replaced.id]

    if p["rag"] is not None:
        from chatthy.vdb.rag import retrieve

        await retrieve(d, profile, p)  # leaves the retrieved part and its citations in p
    # Everything that can refuse the request does so before a row is written.
    plan = await plan_reply(d, profile, chat, p, rows, prompt)
    ensure_idle(d, chat)  # planning may have waited for a summary

    with store.transaction():
        if chat is None:
            name = p["chat"] or auto_chat_name(store, profile.id, prompt)
            explicit = {"provider": p["provider"], "model": p["model"], "personality": stored_name(p["persona"])}
            chat = store.create_chat(profile.id, name, **explicit)
        elif p["persona"] and stored_name(p["persona"]) != chat.personality:
            chat = store.update_chat(chat.id, personality=stored_name(p["persona"]))
        removed = delete_messages_from(store.conn, chat.id, replaced.id) if replaced else []
        user = store.add_message(chat.id, "user", prompt, tokens=plan.input_tokens,
                                 meta={"system": p["system"]} if p["system"] else None)
        plan.tools.save(store, chat.id, user.id)  # images with the question; the chat's tool choice
        meta = {key: value for key, value in (("rag", p.get("rag_meta")), ("options", p["options"] or None))
                if value is not None}  # options: what this answer was made with (-o)
        reply = store.add_message(chat.id, "assistant", "", status="partial",
                                  provider=plan.provider_cfg.name, model=plan.model, meta=meta or None)
    if removed:
        history_changed(d, chat, removed=removed)
    end = await start_reply(ctx, plan, chat, user, reply)
    if p.get("rag_meta") is not None:
        end = {**end, "rag": p["rag_meta"]}  # the CLI lists the sources under the answer
    return end


@method("gen.attach", streaming=True, generation=Str(required=True, max=64), from_seq=Int(default=0, min=0))
async def attach(ctx, p):
    """Follow a generation from ``from_seq``: live chats, and resume after a cut."""
    gen = ctx.daemon.generations.get(p["generation"])
    await ctx.event({"kind": "start", **gen.summary(), "from_seq": p["from_seq"]}, 0)
    return await gen.follow(ctx.chunk, p["from_seq"], events=ctx.event)


@method("gen.cancel", generation=Str(max=64), profile=Name(), chat=Name())
async def cancel(ctx, p):
    d = ctx.daemon
    if p["generation"]:
        gen = d.generations.get(p["generation"])
    elif p["chat"]:
        chat = chat_of(d, profile_of(d, p["profile"]), p["chat"])
        gen = d.generations.for_chat(chat.id)
        if gen is None:
            raise Conflict(f"chat {chat.name!r} has no reply in progress")
    else:
        raise BadRequest("gen.cancel: give a generation id or a chat")
    gen.cancel()
    await gen.finished.wait()
    return gen.summary()


@method("gen.list")
async def gen_list(ctx, p):
    return [g.summary() for g in ctx.daemon.generations.active.values()]
