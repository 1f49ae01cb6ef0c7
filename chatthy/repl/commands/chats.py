"""/chat, /new, /chats, /rename, /fork, /undo, /retry, /edit, /tokens."""

from __future__ import annotations

from chatthy.errors import BadRequest
from chatthy.repl import display
from chatthy.repl.commands import command
from chatthy.repl.live import human_count


@command("chat", usage="[NAME]", help="Switch to chat NAME (a new name starts a chat); without NAME: where am I",
         complete="chat")
async def chat(repl, arg: str) -> None:
    if not arg:
        info = repl.chat
        if not info.exists:
            repl.screen.print(f"new chat {info.name or '(named by its first message)'}\n")
            return
        data = await repl.call("chat.show", profile=repl.profile, name=info.name)
        repl.screen.print(f"chat {data['name']}: {len(data['messages'])} messages · {data['personality']} · "
                          f"{data['provider']}/{data['model']}\n")
        return
    await repl.switch_chat(arg)
    if not repl.chat.exists:
        repl.screen.note(f"new chat {arg}: it is created with your first message")


@command("new", usage="[NAME]", help="Start a new chat (named by its first message unless NAME is given)")
async def new(repl, arg: str) -> None:
    if arg:
        exists = arg in repl.names.chats
        if exists:
            raise BadRequest(f"chat {arg!r} already exists: /chat {arg} opens it")
    await repl.switch_chat(arg or None, show=0)
    repl.screen.note(f"new chat {arg or '(named by its first message)'}")


@command("chats", help="List the chats of the profile (the current one in bold)", aliases=("ls",))
async def chats(repl, arg: str) -> None:
    rows = await repl.call("chat.list", profile=repl.profile)
    repl.names.chats = [r["name"] for r in rows]
    if not rows:
        repl.screen.note("no chats yet in this profile")
        return
    mark = next((n for n, r in enumerate(rows) if r["name"] == repl.chat.name), None)
    display.print_table(repl, ["NAME", "MSGS", "PERSONA", "MODEL"],
                     [[r["name"], str(r["messages"]), r.get("personality") or "default",
                       f"{r['provider']}/{r['model']}"] for r in rows], mark=mark)


@command("rename", usage="NEW", help="Rename the current chat", idle=True)
async def rename(repl, arg: str) -> None:
    if not arg:
        raise BadRequest("/rename NEW: give the new name")
    old = repl.require_chat()
    await repl.call("chat.rename", profile=repl.profile, name=old, new=arg)
    repl.chat.name = arg
    repl.live.watching = None
    repl.live.watch(arg)
    repl.remember_chat()
    repl.refresh_names()
    repl.screen.note(f"renamed {old} to {arg}")


@command("fork", usage="NEW", help="Copy the current chat to NEW and continue there", idle=True)
async def fork(repl, arg: str) -> None:
    if not arg:
        raise BadRequest("/fork NEW: give the new chat's name")
    old = repl.require_chat()
    await repl.call("chat.fork", profile=repl.profile, name=old, new=arg)
    await repl.switch_chat(arg, show=0)
    repl.refresh_names()
    repl.screen.note(f"forked {old} into {arg}; you are now in {arg}")


@command("undo", help="Drop the last turn (your last message and its reply)", idle=True)
async def undo(repl, arg: str) -> None:
    name = repl.require_chat()
    repl.live.own_history_changes += 1
    try:
        data = await repl.call("chat.undo", profile=repl.profile, name=name)
    except BaseException:
        repl.live.own_history_changes -= 1
        raise
    dropped = len(data.get("dropped") or ()) if isinstance(data, dict) else 0
    repl.screen.note(f"dropped the last turn ({dropped} message{'s' * (dropped != 1)})")
    repl.refresh_budget()


@command("retry", help="Regenerate the answer to your last message", idle=True)
async def retry(repl, arg: str) -> None:
    name = repl.require_chat()
    repl.start_reply("chat.retry", profile=repl.profile, name=name, options=dict(repl.modes.options) or None)


@command("edit", help="Put your last message in the input; sending it replaces it and regenerates", idle=True)
async def edit(repl, arg: str) -> None:
    name = repl.require_chat()
    data = await repl.call("chat.show", profile=repl.profile, name=name)
    question = next((m for m in reversed(data.get("messages") or []) if m.get("role") == "user"), None)
    if question is None:
        raise BadRequest("this chat has no message of yours to edit")
    repl.modes.editing = question["content"]
    repl.next_default = question["content"]
    repl.flash("editing: Enter sends and regenerates; Ctrl-C (on an empty line) abandons")


@command("tokens", help="The token budget of the next request: each part, what is dropped, what is left")
async def tokens(repl, arg: str) -> None:
    info = repl.chat
    data = await repl.call("chat.tokens", profile=repl.profile, name=info.name if info.exists else None,
                           provider=info.pending.get("provider"), model=info.pending.get("model"))
    info.apply(data)
    rows = [[str(p.get("part")), "-" if p.get("tokens") is None else f"{p['tokens']:,}", str(p.get("status"))]
            for p in data.get("parts") or []]
    if rows:
        display.print_table(repl, ["PART", "TOKENS", "STATUS"], rows)
    repl.screen.print(
        f"{data.get('provider')}/{data.get('model')}: {data.get('used', 0):,} of {data.get('budget', 0):,} tokens "
        f"used ({human_count(data.get('remaining'))} left; context {human_count(data.get('context_length'))}, "
        f"{human_count(data.get('max_tokens'))} kept for the reply)\n")
