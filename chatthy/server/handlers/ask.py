"""ask (start a reply and follow it), gen.attach, gen.cancel, gen.list."""

from __future__ import annotations

import re
import time

from chatthy.errors import BadRequest, Conflict
from chatthy.server.compose import AskContext, fixed_parts, system_text
from chatthy.server.generation import Generation
from chatthy.server.lookup import chat_of, profile_of
from chatthy.server.params import Bool, Int, Name, Str, Text
from chatthy.server.registry import method

def auto_chat_name(store, profile_id: int, prompt: str) -> str:
    """``20261125-0401-explain-sqlite-wal``: sortable, and says what it was about."""
    words = re.findall(r"[a-z0-9]+", prompt.lower())[:4]
    base = time.strftime("%Y%m%d-%H%M%S") + ("-" + "-".join(words) if words else "")
    name, n = base, 2
    while store.get_chat(profile_id, name) is not None:
        name, n = f"{base}-{n}", n + 1
    return name


def history_for_request(messages):
    """Rows worth replaying: complete messages, and replies cut short that have text."""
    from chatthy.context import HistoryMessage

    out = []
    for m in messages:
        if m.role not in ("user", "assistant", "tool"):
            continue
        if m.status != "complete" and not m.content:
            continue
        out.append(HistoryMessage(id=m.id, role=m.role, content=m.content, tokens=m.tokens or 0, meta=m.meta))
    return out


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
)
async def ask(ctx, p):
    from chatthy.context import FixedPart, assemble
    from chatthy.llm import ChatRequest

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
    provider_cfg = d.config.provider(p["provider"] or (chat.provider if chat else None))
    provider = d.providers.get(provider_cfg.name)
    model = p["model"] or (chat.model if chat else None) or provider_cfg.model
    if chat is not None and d.generations.for_chat(chat.id) is not None:
        raise d.generations.busy_error(chat.name)

    counter = d.token_counter(model, provider_cfg.kind)
    fixed = fixed_parts(AskContext(d, profile, chat, p, counter, provider_cfg, model))
    system = system_text(fixed)
    user_tokens = counter.count_message("user", prompt)
    history = history_for_request(store.messages(chat.id)) if chat else []
    # Everything that can refuse the request does so before a row is written.
    assembled = assemble(
        fixed=fixed,
        history=history,
        new_input=FixedPart("input", prompt, user_tokens),
        context_length=provider_cfg.context_length,
        max_tokens=provider_cfg.max_tokens,
    )

    with store.transaction():
        if chat is None:
            name = p["chat"] or auto_chat_name(store, profile.id, prompt)
            explicit = {"provider": p["provider"], "model": p["model"]}
            chat = store.create_chat(profile.id, name, **explicit)
        user = store.add_message(chat.id, "user", prompt, tokens=user_tokens,
                                 meta={"system": p["system"]} if p["system"] else None)
        reply = store.add_message(chat.id, "assistant", "", status="partial",
                                  provider=provider_cfg.name, model=model)

    messages = [{"role": m.role, "content": m.content} for m in assembled.history]
    messages.append({"role": "user", "content": prompt})
    request = ChatRequest(model=model, messages=messages, system=system,
                          max_tokens=provider_cfg.max_tokens, params=dict(provider_cfg.params))
    gen = Generation(chat.id, chat.name, reply.id, provider_cfg.name, model)
    d.generations.start(gen, provider, request, counter.count)
    ctx.running.generation = gen
    d.publish(chat.id, {"kind": "user_message", "chat": chat.name, "message": user.to_dict()})
    d.publish(chat.id, {"kind": "reply_start", **gen.summary()})
    await ctx.event({
        "kind": "start",
        **gen.summary(),
        "user_message_id": user.id,
        "dropped": len(assembled.dropped),
        "tokens": assembled.used,
        "budget": assembled.budget,
    }, 0)
    return await gen.follow(ctx.chunk)


@method("gen.attach", streaming=True, generation=Str(required=True, max=64), from_seq=Int(default=0, min=0))
async def attach(ctx, p):
    """Follow a generation from ``from_seq``: live chats, and resume after a cut."""
    gen = ctx.daemon.generations.get(p["generation"])
    await ctx.event({"kind": "start", **gen.summary(), "from_seq": p["from_seq"]}, 0)
    return await gen.follow(ctx.chunk, p["from_seq"])


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
