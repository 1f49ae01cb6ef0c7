"""/help, /clear, /quit, /cancel, /show."""

from __future__ import annotations

from chatthy.errors import BadRequest
from chatthy.repl import commands
from chatthy.repl.commands import command
from chatthy.repl.keys import HELP as KEYS


@command("help", usage="[COMMAND]", help="List the commands and keys (or explain one command)",
         aliases=("h", "?"), complete="command")
async def help_(repl, arg: str) -> None:
    if arg:
        cmd = commands.lookup(arg.lstrip("/"))
        if cmd is None:
            raise BadRequest(f"no command /{arg.lstrip('/')}")
        aliases = f"  (also {', '.join('/' + a for a in cmd.aliases)})" if cmd.aliases else ""
        repl.screen.print(f"{cmd.synopsis}{aliases}\n  {cmd.help}\n")
        return
    table = commands.load()
    width = max(len(c.synopsis) for c in table.values())
    lines = ["Commands (a line starting with / is a command; // sends a message starting with /):"]
    lines += [f"  {c.synopsis.ljust(width)}  {c.help}" for c in sorted(table.values(), key=lambda c: c.name)]
    lines.append("Keys:")
    key_width = max(len(k) for k, _ in KEYS)
    lines += [f"  {k.ljust(key_width)}  {v}" for k, v in KEYS]
    repl.screen.print("\n".join(lines) + "\n")


@command("clear", help="Clear the screen (the chat is kept)", aliases=("cls",))
async def clear(repl, arg: str) -> None:
    await repl.screen.drained()
    repl.screen.clear()


@command("quit", help="Leave the REPL (a reply in progress is finished and saved by the daemon)",
         aliases=("exit", "q"))
async def quit_(repl, arg: str) -> None:
    repl.quitting = True


@command("cancel", help="Cancel the reply being generated (like Ctrl-C)")
async def cancel(repl, arg: str) -> None:
    if not repl.live.cancel():
        raise BadRequest("no reply is being generated in this chat")


@command("show", usage="[N]", help="Show the chat's last N messages again (default 10; 0 = all)")
async def show(repl, arg: str) -> None:
    name = repl.require_chat()
    count = 10
    if arg:
        if not arg.isdigit():
            raise BadRequest("/show takes a number of messages")
        count = int(arg)
    repl.screen.note(f"─ chat {name}")
    await repl.show_recent(count)
