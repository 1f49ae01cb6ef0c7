"""``chatthy persona list|show|set|edit|delete``: personalities (saved system prompts)."""

from __future__ import annotations

import sys

import click

from chatthy.cli.output import is_tty, note, print_json, table, write_text
from chatthy.errors import BadRequest, NotFound


@click.group()
def persona() -> None:
    """Personalities: named system prompts a chat uses.

    Built-in ones ship with chatthy; `persona set` of the same name overrides
    one for the profile, `persona delete` brings it back. `default` (built in:
    no system prompt) is what a chat uses until switched with
    `chatthy ask -P NAME` or `chatthy chat use CHAT --persona NAME`.

    A personality may name the tools its chats get (`persona set NAME --tools
    a,b`): an ask's -T/--tools comes first, then the chat's own choice
    (`tools set`), then the personality's, then `[tools] default`.
    """


def _first_line(text: str, width: int = 60) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "(no system prompt)"
    return line if len(line) <= width else line[: width - 1] + "…"


def _source(p: dict) -> str:
    if p["builtin"]:
        return "built-in"
    return "own, overrides built-in" if p.get("overrides_builtin") else "own"


def _tools(p: dict) -> str:
    return ", ".join(p["tools"]) if p.get("tools") else "-"


def _tools_option(values: tuple[str, ...]) -> tuple[list[str] | None, bool]:
    """``--tools`` values (repeatable, comma-separated) → (names, reset): `default` resets."""
    names = [n.strip() for value in values for n in value.split(",") if n.strip()]
    if values and not names:
        raise click.BadParameter("give tool names (a,b), `all`, `none` or `default`", param_hint="'--tools'")
    if "default" in names:
        if len(names) > 1:
            raise click.BadParameter("`default` stands alone (it clears the personality's tools)",
                                     param_hint="'--tools'")
        return None, True
    return names or None, False


@persona.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON array of objects.")
@click.pass_obj
def list_(app, as_json) -> None:
    """List the personalities of the profile."""
    personas = app.client.call("persona.list", profile=app.current_profile())
    if as_json:
        print_json(personas)
        return
    # TOOLS last: scripts reading the tab-separated columns keep theirs
    table(["NAME", "SOURCE", "PROMPT", "TOOLS"],
          [[p["name"], _source(p), _first_line(p["prompt"]), _tools(p)] for p in personas])


@persona.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The personality and the chats using it, as JSON.")
@click.pass_obj
def show(app, name, as_json) -> None:
    """Print a personality's prompt."""
    data = app.client.call("persona.show", profile=app.current_profile(), name=name)
    if as_json:
        print_json(data)
        return
    if data["prompt"]:
        write_text(data["prompt"].rstrip("\n") + "\n")
    chats = data.get("chats") or []
    tools = f" · tools: {_tools(data)}" if data.get("tools") else ""
    note(f"[{name} · {_source(data)}{tools} · used by {len(chats)} chat{'s' * (len(chats) != 1)}]")


@persona.command("set")
@click.argument("name")
@click.argument("text", required=False)
@click.option("--tools", "tools", multiple=True, metavar="a,b|all|none|default",
              help="The tools its chats get (checked now); `default`: none of its own. Without TEXT, "
                   "only the tools change.")
@click.pass_obj
def set_(app, name, text, tools) -> None:
    """Create or replace personality NAME with TEXT (`-`, or no TEXT with a pipe: stdin).

    The tools it had stay unless --tools is given; a new override of a
    built-in one starts with the built-in's.
    """
    names, reset = _tools_option(tools)
    if text is None and tools:
        prompt = None  # the tools alone change
    else:
        if text is None or text == "-":
            if text is None and is_tty(sys.stdin):
                raise click.UsageError("give the prompt TEXT, `-` to read stdin, or use `chatthy persona edit NAME`")
            text = sys.stdin.read()
        if not text.strip() and name != "default":
            raise BadRequest(f"the prompt of {name!r} is empty (delete it with `chatthy persona delete {name}`)")
        prompt = text
    data = app.client.call("persona.set", profile=app.current_profile(), name=name, prompt=prompt,
                           tools=names, reset_tools=reset or None)
    note(f"saved personality {name!r}" + (f" (tools: {_tools(data)})" if data.get("tools") else ""))


@persona.command()
@click.argument("name")
@click.pass_obj
def edit(app, name) -> None:
    """Edit personality NAME in $EDITOR (a new one starts empty)."""
    profile = app.current_profile()
    try:
        current = app.client.call("persona.show", profile=profile, name=name)["prompt"]
    except NotFound:
        current = ""
    text = click.edit(current + "\n" if current else "", extension=".md", require_save=True)
    if text is None or text.strip() == current.strip():
        note("unchanged: nothing saved")
        return
    if not text.strip() and name != "default":
        raise BadRequest(f"the prompt of {name!r} is empty: nothing saved")
    app.client.call("persona.set", profile=profile, name=name, prompt=text)
    note(f"saved personality {name!r}")


@persona.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--force", is_flag=True, help="Also when chats use it (they go back to `default`).")
@click.pass_obj
def delete(app, names, force) -> None:
    """Delete personalities (a deleted override brings the built-in back)."""
    for name in names:
        info = app.client.call("persona.delete", profile=app.current_profile(), name=name, force=force or None)
        extra = "; the built-in one is back" if info["builtin_restored"] else ""
        if info["chats_reset"]:
            extra += f"; {len(info['chats_reset'])} chat(s) back on 'default'"
        note(f"deleted personality {name!r}{extra}")
