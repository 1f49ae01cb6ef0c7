"""``chatthy ws load|drop|bench|unbench|ls|show|refresh|clear``: the context workspace.

Files in a chat's workspace are sent with every message of that chat (after
the system prompt, before the history); ``--profile-wide`` files with every
chat of the profile. Benched files stay but are not sent.
"""

from __future__ import annotations

import click

from chatthy.cli.output import error_line, note, print_json, table, write_text
from chatthy.errors import BadRequest, ChatthyError


def _scope_options(func):
    func = click.option("-c", "--chat", metavar="NAME", help="The chat (default: the current one, `chat use`).")(func)
    func = click.option("--profile-wide", "-P", "profile_wide", is_flag=True,
                        help="The profile's workspace, seen by every chat of the profile.")(func)
    return func


def _scope(app, chat: str | None, profile_wide: bool, *, required: bool = True) -> dict:
    if profile_wide:
        if chat:
            raise click.UsageError("give -c NAME or --profile-wide, not both")
        return {"profile": app.current_profile(), "profile_wide": True}
    if not chat:
        from chatthy.cli.state import ClientState

        chat = ClientState.load(app.paths).chat
    if not chat and required:
        raise BadRequest("no chat: give -c NAME, pick one with `chatthy chat use NAME`, or use --profile-wide")
    return {"profile": app.current_profile(), "chat": chat}


def _where(info: dict) -> str:
    return f"chat {info['chat']!r}" if info.get("chat") else "the profile's workspace"


@click.group("ws")
def ws() -> None:
    """The context workspace: files sent with every message of a chat.

    \b
    chatthy ws load notes.md https://example.org/page report.pdf#pages=3-7 -c mychat
    chatthy ws ls                 chatthy ws bench report.pdf    chatthy ws drop notes.md
    git diff | chatthy ws load - --name diff
    """


@ws.command()
@click.argument("sources", nargs=-1, required=True, metavar="PATH|URL|-...")
@click.option("--name", metavar="NAME", help="Name in the workspace (default: the file name, or from the URL).")
@click.option("--replace", is_flag=True, help="Replace a file of the same name loaded from elsewhere.")
@click.option("--json", "as_json", is_flag=True, help="What was loaded, as JSON.")
@_scope_options
@click.pass_obj
def load(app, sources, name, replace, as_json, chat, profile_wide) -> None:
    """Load files, URLs, PDFs (x.pdf#pages=3-7), YouTube videos or stdin (-).

    Local files are read here and sent to the daemon; URLs are fetched by the
    daemon. Loading a name again from the same source updates it.
    """
    from chatthy.cli.documents import authenticate_for
    from chatthy.sources.local import read_spec

    if name and len(sources) > 1:
        raise click.UsageError("--name applies to one source at a time")
    scope = _scope(app, chat, profile_wide)
    results = []
    for spec in sources:
        upload = read_spec(spec, name=name)
        authenticate_for(app.client, [upload])
        info = app.client.call("ws.load", **scope, replace=replace or None, **upload.params())
        results.append(info)
        verb = "reloaded" if info["replaced"] else "loaded"
        note(f"{verb} {info['name']!r} in {_where(info)} ({info['tokens']:,} tokens)")
    if as_json:
        print_json(results)


@ws.command("ls")
@click.option("--json", "as_json", is_flag=True, help="The listing as JSON.")
@_scope_options
@click.pass_obj
def ls(app, as_json, chat, profile_wide) -> None:
    """List the files a chat sees, with their token counts."""
    scope = _scope(app, chat, profile_wide, required=False)
    data = app.client.call("ws.list", **scope)
    if as_json:
        print_json(data)
        return
    if not data["files"]:
        note(f"the workspace of {_where(data)} is empty: add files with `chatthy ws load PATH|URL`")
        return
    table(["NAME", "TOKENS", "STATUS", "SCOPE", "SOURCE"],
          [[f["name"], f"{f['tokens']:,}", f["status"], f["scope"], _source_label(f)] for f in data["files"]])
    note(f"{data['tokens']:,} tokens sent with each message of {_where(data)} ({data['model']})")


def _source_label(f: dict) -> str:
    label = f["source"] if f["source"] != "-" else "stdin"
    if f.get("pages"):
        label += f"#pages={f['pages']}"
    return label


@ws.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The file, its text and metadata as JSON.")
@click.option("--as-sent", is_flag=True, help="The text exactly as it is sent to the model.")
@_scope_options
@click.pass_obj
def show(app, name, as_json, as_sent, chat, profile_wide) -> None:
    """Print a workspace file's text."""
    data = app.client.call("ws.show", **_scope(app, chat, profile_wide), name=name)
    if as_json:
        print_json(data)
        return
    text = data["sent_as"] if as_sent else data["content"]
    write_text(text if text.endswith("\n") else text + "\n")


def _each(app, verb: str, names, chat, profile_wide) -> None:
    scope = _scope(app, chat, profile_wide)
    for name in names:
        app.client.call(f"ws.{verb}", **scope, name=name)
        note(f"{verb}{'ped' if verb == 'drop' else 'ed'} {name!r}")


@ws.command()
@click.argument("names", nargs=-1, required=True)
@_scope_options
@click.pass_obj
def drop(app, names, chat, profile_wide) -> None:
    """Remove files from the workspace."""
    _each(app, "drop", names, chat, profile_wide)


@ws.command()
@click.argument("names", nargs=-1, required=True)
@_scope_options
@click.pass_obj
def bench(app, names, chat, profile_wide) -> None:
    """Keep files in the workspace but stop sending them."""
    _each(app, "bench", names, chat, profile_wide)


@ws.command()
@click.argument("names", nargs=-1, required=True)
@_scope_options
@click.pass_obj
def unbench(app, names, chat, profile_wide) -> None:
    """Send benched files again."""
    _each(app, "unbench", names, chat, profile_wide)


@ws.command()
@_scope_options
@click.pass_obj
def clear(app, chat, profile_wide) -> None:
    """Remove every file of the chat's (or the profile's) workspace."""
    info = app.client.call("ws.clear", **_scope(app, chat, profile_wide))
    note(f"dropped {info['dropped']} file{'s' * (info['dropped'] != 1)}")


@ws.command()
@click.argument("names", nargs=-1)
@_scope_options
@click.pass_obj
def refresh(app, names, chat, profile_wide) -> None:
    """Read files again (default: all): local files from disk, URLs by the daemon."""
    scope = _scope(app, chat, profile_wide, required=False)
    listing = app.client.call("ws.list", **scope)
    files = listing["files"]
    if names:
        known = {f["name"] for f in files}
        missing = [n for n in names if n not in known]
        if missing:
            from chatthy.errors import NotFound

            raise NotFound(f"no file {missing[0]!r} in the workspace of {_where(listing)} (see `chatthy ws ls`)")
        files = [f for f in files if f["name"] in names]
    failures: list[ChatthyError] = []
    for f in files:
        try:
            _refresh_one(app, listing, f)
        except ChatthyError as exc:
            error_line(f"{f['name']}: {exc.message}")
            failures.append(exc)
    if failures:
        first = failures[0]
        raise type(first)(f"{len(failures)} of {len(files)} file{'s' * (len(files) != 1)} could not be refreshed")


def _refresh_one(app, listing: dict, f: dict) -> None:
    from chatthy.cli.documents import authenticate_for
    from chatthy.sources import is_remote
    from chatthy.sources.local import read_file

    target = {"profile": listing["profile"], "name": f["name"]}
    if f["scope"] == "profile":
        target["profile_wide"] = True
    else:
        target["chat"] = listing["chat"]
    if f["source"] == "-":
        note(f"skipped {f['name']!r}: it was read from stdin (load it again to change it)")
        return
    if is_remote(f["source"]):
        info = app.client.call("ws.refresh", **target)
    else:
        import base64
        from pathlib import Path

        from chatthy.sources.local import Upload

        data = read_file(Path(f["source"]))
        authenticate_for(app.client, [Upload(f["name"], f["source"], data=data)])
        info = app.client.call("ws.refresh", **target, content_b64=base64.b64encode(data).decode("ascii"))
    state = "changed" if info["changed"] else "unchanged"
    note(f"refreshed {info['name']!r}: {state}, {info['tokens']:,} tokens")
