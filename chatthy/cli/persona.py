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
    """


def _first_line(text: str, width: int = 60) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "(no system prompt)"
    return line if len(line) <= width else line[: width - 1] + "…"


def _source(p: dict) -> str:
    if p["builtin"]:
        return "built-in"
    return "own, overrides built-in" if p.get("overrides_builtin") else "own"


@persona.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON array of objects.")
@click.pass_obj
def list_(app, as_json) -> None:
    """List the personalities of the profile."""
    personas = app.client.call("persona.list", profile=app.current_profile())
    if as_json:
        print_json(personas)
        return
    table(["NAME", "SOURCE", "PROMPT"], [[p["name"], _source(p), _first_line(p["prompt"])] for p in personas])


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
    note(f"[{name} · {_source(data)} · used by {len(chats)} chat{'s' * (len(chats) != 1)}]")


@persona.command("set")
@click.argument("name")
@click.argument("text", required=False)
@click.pass_obj
def set_(app, name, text) -> None:
    """Create or replace personality NAME with TEXT (`-`, or no TEXT with a pipe: stdin)."""
    if text is None or text == "-":
        if text is None and is_tty(sys.stdin):
            raise click.UsageError("give the prompt TEXT, `-` to read stdin, or use `chatthy persona edit NAME`")
        text = sys.stdin.read()
    if not text.strip() and name != "default":
        raise BadRequest(f"the prompt of {name!r} is empty (delete it with `chatthy persona delete {name}`)")
    app.client.call("persona.set", profile=app.current_profile(), name=name, prompt=text)
    note(f"saved personality {name!r}")


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
