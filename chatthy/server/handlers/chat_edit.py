"""chat.fork, chat.undo, chat.retry, chat.rm_message, chat.edit_message.

Every rewrite refuses while the chat is generating a reply (cancel it first),
is one transaction, and tells the chat's watchers (``history_changed``).
Message ids are the ones ``chat.show`` returns; they stay stable when other
messages are removed.
"""

from __future__ import annotations

from chatthy.errors import BadRequest, Conflict, NotFound
from chatthy.server.handlers.chats import _chat_dict
from chatthy.server.history_fit import chat_history
from chatthy.server.lookup import chat_of, profile_of
from chatthy.server.params import Dict, Int, Name, Str, Text
from chatthy.server.registry import method
from chatthy.server.reply import (
    ask_params, ensure_idle, history_changed, last_user_message, plan_reply, start_reply,
)
from chatthy.store.chat_history import (
    copy_chat_setup, copy_messages, delete_messages, delete_messages_from, messages_from, previous_id,
)


def _message_of(d, chat, message_id: int):
    message = d.store.get_message(message_id)
    if message is None or message.chat_id != chat.id:
        raise NotFound(f"message #{message_id} not found in chat {chat.name!r} "
                       f"(ids are shown by `chatthy chat show {chat.name}`)")
    return message


@method("chat.fork", profile=Name(), name=Name(required=True), new=Name(required=True), at=Int(min=1))
async def fork(ctx, p):
    """Copy a chat (up to message ``at``, inclusive) into a new chat ``new``.

    The copy carries what ``chat.export`` carries: every field of the messages
    (RAG citations and tool rounds in their meta), their images (shared with
    the source, stored once) and tool calls, the chat's tool choice and its own
    workspace files. ``at`` limits what belongs to messages; the chat's tool
    choice and workspace are copied as they are now.
    """
    d = ctx.daemon
    store = d.store
    profile = profile_of(d, p["profile"])
    source = chat_of(d, profile, p["name"])
    ensure_idle(d, source)
    if p["at"] is not None:
        _message_of(d, source, p["at"])
    with store.transaction():
        chat = store.create_chat(profile.id, p["new"], personality=source.personality,
                                 provider=source.provider, model=source.model)
        copied = copy_messages(store.conn, source.id, chat.id, p["at"])
        workspace = copy_chat_setup(store.conn, source.id, chat.id)
    return {**_chat_dict(d, chat), "messages": copied.messages, "images": copied.images,
            "tool_calls": copied.tool_calls, "workspace": workspace, "forked_from": source.name}


@method("chat.undo", profile=Name(), name=Name(required=True))
async def undo(ctx, p):
    """Drop the last turn: the last question and everything after it."""
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"])
    ensure_idle(d, chat)
    if d.store.count_messages(chat.id) == 0:
        raise Conflict(f"chat {chat.name!r} is empty: nothing to undo")
    question = last_user_message(chat_history(d, chat))
    dropped = delete_messages_from(d.store.conn, chat.id, question.id if question else 0)
    history_changed(d, chat, removed=dropped)
    return {"chat": chat.name, "dropped": [m.to_dict() for m in dropped]}


@method("chat.retry", streaming=True, profile=Name(), name=Name(required=True), provider=Name(),
        model=Str(max=200), options=Dict())
async def retry(ctx, p):
    """Regenerate the answer to the last question (optionally with another provider/model,
    or other API parameters: ``options``, as ask's)."""
    d = ctx.daemon
    store = d.store
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"])
    ensure_idle(d, chat)
    rows = chat_history(d, chat)
    question = last_user_message(rows)
    if question is None:
        raise Conflict(f"chat {chat.name!r} has no question to answer again")
    question = store.get_message(question.id)
    plan = await _plan_for(d, profile, chat, question, question.content, rows, p)
    ensure_idle(d, chat)
    with store.transaction():
        removed = delete_messages_from(store.conn, chat.id, question.id + 1)
        reply = store.add_message(chat.id, "assistant", "", status="partial",
                                  provider=plan.provider_cfg.name, model=plan.model,
                                  meta={"options": p["options"]} if p["options"] else None)
    history_changed(d, chat, removed=removed)
    return await start_reply(ctx, plan, chat, question, reply, new_user=False)


@method("chat.rm_message", profile=Name(), name=Name(required=True), message_id=Int(required=True, min=1))
async def rm_message(ctx, p):
    """Remove one message (an assistant's tool calls go with their results)."""
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"])
    ensure_idle(d, chat)
    message = _message_of(d, chat, p["message_id"])
    if message.role == "tool":
        call = previous_id(d.store.conn, chat.id, message.id, "assistant")
        hint = f"remove the call, message #{call}, which takes its results with it" if call else "remove the turn"
        raise BadRequest(f"message #{message.id} is a tool result: providers refuse one without its call; {hint}")
    removed = [message]
    if message.role == "assistant" and (message.meta or {}).get("tool_calls"):
        for m in messages_from(d.store.conn, chat.id, message.id + 1):
            if m.role != "tool":
                break
            removed.append(m)
    delete_messages(d.store.conn, chat.id, [m.id for m in removed])
    history_changed(d, chat, removed=removed)
    return {"chat": chat.name, "removed": [m.to_dict() for m in removed]}


@method("chat.edit_message", streaming=True, profile=Name(), name=Name(required=True),
        message_id=Int(required=True, min=1), content=Text(required=True), provider=Name(),
        model=Str(max=200))
async def edit_message(ctx, p):
    """Replace a message's text. A question: what followed is dropped and the
    answer regenerated (streamed like ``ask``). Anything else: just replaced."""
    d = ctx.daemon
    store = d.store
    profile = profile_of(d, p["profile"])
    chat = chat_of(d, profile, p["name"])
    ensure_idle(d, chat)
    message = _message_of(d, chat, p["message_id"])
    content = p["content"]
    if not content.strip():
        raise BadRequest(f"the new text of message #{message.id} is empty "
                         f"(remove it with `chatthy chat rm-message {message.id}`)")
    rows = chat_history(d, chat)
    if message.role != "user":
        tokens = _counter_of(d, chat, message).count_message(message.role, content)
        store.update_message(message.id, content=content, tokens=tokens, edited=True)
        edited = store.get_message(message.id)
        history_changed(d, chat, edited=[edited])
        return {"chat": chat.name, "edited": edited.to_dict(), "regenerated": False}
    plan = await _plan_for(d, profile, chat, message, content, rows, p)
    ensure_idle(d, chat)
    with store.transaction():
        removed = delete_messages_from(store.conn, chat.id, message.id + 1)
        store.update_message(message.id, content=content, tokens=plan.input_tokens, edited=True)
        reply = store.add_message(chat.id, "assistant", "", status="partial",
                                  provider=plan.provider_cfg.name, model=plan.model)
    edited = store.get_message(message.id)
    history_changed(d, chat, removed=removed, edited=[edited])
    return await start_reply(ctx, plan, chat, edited, reply, new_user=False)


def _counter_of(d, chat, message):
    """The counter of the model that wrote ``message`` (else the chat's)."""
    from chatthy.server.calibrated import counter_for

    name = message.provider if message.provider in d.config.providers else chat.provider
    cfg = d.config.provider(name)
    model = (message.model if message.provider == cfg.name else None) or chat.model or cfg.model
    return counter_for(d, cfg, model)


async def _plan_for(d, profile, chat, question, text, rows, p):
    """Plan a reply to ``question`` (with ``text``) from the history before it.

    The question's own ``-s`` system prompt, if it had one, applies again.
    """
    params = ask_params(profile=profile.name, chat=chat.name, prompt=text or "",
                        provider=p.get("provider"), model=p.get("model"), options=p.get("options"),
                        system=(question.meta or {}).get("system") if question.role == "user" else None)
    before = [m for m in rows if m.id < question.id]
    return await plan_reply(d, profile, chat, params, before, text)
