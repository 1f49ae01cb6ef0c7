"""``chatthy tools list|set|calls`` (how a reply's tool activity is shown: tool_activity.py)."""

from __future__ import annotations

import json

import click

from chatthy.cli.output import is_tty, neutralise, note, print_json, table
from chatthy.cli.tool_activity import call_text, shorten

@click.group()
def tools() -> None:
    """Tools the model may call: list them, choose a chat's, see what was called."""


@tools.command("list")
@click.option("-c", "--chat", metavar="NAME", help="Mark the tools that chat NAME has on.")
@click.option("--json", "as_json", is_flag=True, help="Everything as JSON (schemas and MCP servers too).")
@click.pass_obj
def list_(app, chat, as_json) -> None:
    """List the built-in, user and MCP tools."""
    data = app.client.call("tools.list", profile=app.current_profile(), chat=chat)
    if as_json:
        print_json(data)
        return
    rows = []
    for t in data["tools"]:
        flags = ("on " if t["enabled"] else "") + ("confirm" if t["confirm"] else "")
        rows.append([t["name"], t["source"], flags.strip() or "-", shorten(t["description"], 70)])
    table(["NAME", "SOURCE", "STATE", "DESCRIPTION"], rows)
    for server in data.get("mcp") or []:
        if server["state"] != "ready":
            note(f"MCP server {server['name']}: {server['state']}" + (f" ({server['error']})" if server["error"] else ""))
    choice = data.get("choice")
    where = f"chat {data['chat']!r}" if data.get("chat") else "new chats"
    source = data.get("source", "chat" if choice is not None else "default")
    if source == "chat":
        note(f"{where}: {', '.join(choice)} (its own choice)")
    elif source == "personality":
        note(f"{where}: {', '.join(data['persona_tools'])} (from personality {data['persona']!r})")
    else:
        note(f"{where}: [tools] default = {', '.join(data['default']) or 'none'}")
    note(f"a reply's tools: the ask's -T/--tools, else the chat's choice (`tools set`), else its "
         f"personality's (`persona set NAME --tools`), else [tools] default · at most {data['max_rounds']} "
         "rounds per reply")


@tools.command("set")
@click.argument("names", nargs=-1)
@click.option("-c", "--chat", metavar="NAME", help="The chat (default: the current one).")
@click.option("--reset", is_flag=True, help="Back to its personality's tools, else [tools] default.")
@click.pass_obj
def set_(app, names, chat, reset) -> None:
    """Choose a chat's tools: NAMES, `all` or `none` (kept for every ask in the chat)."""
    from chatthy.cli.chat import _current

    chat = chat or _current(app)
    data = app.client.call("tools.set", profile=app.current_profile(), chat=chat, tools=list(names) or None,
                           reset=reset or None)
    note(f"chat {data['chat']!r}: tools " + (", ".join(data["choice"]) if data["choice"]
                                              else "as its personality's, else [tools] default"))


@tools.command("calls")
@click.argument("chat", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON array of the calls.")
@click.option("-v", "--verbose", is_flag=True, help="Full arguments and results.")
@click.pass_obj
def calls(app, chat, as_json, verbose) -> None:
    """The tool calls made in CHAT (default: the current chat), oldest first."""
    from chatthy.cli.chat import _current

    data = app.client.call("tools.calls", profile=app.current_profile(), chat=chat or _current(app))
    if as_json:
        print_json(data)
        return
    if verbose:
        for c in data:
            click.echo(f"── #{c['message_id']} round {c['round'] + 1} · {c['name']} · {c['status']}"
                       f" · {c['duration_ms'] or 0} ms")
            click.echo(neutralise(json.dumps(c["arguments"], ensure_ascii=False, indent=2)) if is_tty()
                       else json.dumps(c["arguments"], ensure_ascii=False, indent=2))
            click.echo(neutralise(c["result"] or c["error"] or "") if is_tty() else (c["result"] or c["error"] or ""))
        return
    table(["MESSAGE", "ROUND", "TOOL", "STATUS", "MS", "CALL"],
          [[str(c["message_id"]), str(c["round"] + 1), c["name"], c["status"], str(c["duration_ms"] or 0),
            call_text(c["name"], c["arguments"], 50)] for c in data])
