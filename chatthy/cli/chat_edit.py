"""``chatthy chat fork|undo|retry|edit|rm-message|export|import``.

Messages are named by the ids ``chatthy chat show`` prints (``#12``); they
stay the same when other messages are removed. NAME defaults to the current
chat (``chatthy chat use``).
"""

from __future__ import annotations

import sys

import click

from chatthy.cli.output import note, print_json
from chatthy.errors import BadRequest, TooLarge

# chatthy/server/chat_format.py's MAX_EXPORT_BYTES (the client never imports the server side).
MAX_IMPORT_BYTES = 24 * 1024 * 1024


def _chat_name(app, name: str | None) -> str:
    from chatthy.cli.chat import _current

    return name or _current(app)


def _brief(message: dict) -> str:
    text = " ".join(message["content"].split())
    return f"#{message['id']} {message['role']}" + (f" {text[:50]!r}" if text else "")


@click.command()
@click.argument("name")
@click.argument("new")
@click.option("--at", type=int, metavar="ID", help="Copy messages up to and including #ID (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print the new chat and what was copied as JSON.")
@click.pass_obj
def fork(app, name, new, at, as_json) -> None:
    """Copy chat NAME into a new chat NEW, to branch the conversation.

    The copy has the messages, their images, tool calls and citations, the
    chat's tool choice and its workspace files.
    """
    info = app.client.call("chat.fork", profile=app.current_profile(), name=name, new=new, at=at)
    if as_json:
        print_json(info)
        return
    note(f"forked {name} → {new}: {_counts(info)}")


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the dropped messages as JSON.")
@click.pass_obj
def undo(app, name, as_json) -> None:
    """Drop the last turn of a chat: the last question and its answer."""
    name = _chat_name(app, name)
    info = app.client.call("chat.undo", profile=app.current_profile(), name=name)
    if as_json:
        print_json(info["dropped"])
        return
    note(f"dropped from {name!r}: " + ", ".join(_brief(m) for m in info["dropped"]))


@click.command()
@click.argument("name", required=False)
@click.option("-p", "--provider", metavar="NAME", help="Answer with this provider this time.")
@click.option("-m", "--model", metavar="NAME", help="Answer with this model this time.")
@click.option("-o", "--option", "api_options", multiple=True, metavar="KEY=VALUE",
              help="An API parameter this time (temperature=1.2), as `ask -o`; repeatable.")
@click.option("--no-stream", is_flag=True, help="Print the answer only when it is complete.")
@click.option("-r", "--raw", is_flag=True, help="Print the answer as the model writes it, on a terminal too.")
@click.option("-q", "--quiet", is_flag=True, help="No status line on stderr.")
@click.pass_obj
def retry(app, name, provider, model, api_options, no_stream, raw, quiet) -> None:
    """Regenerate the answer to the chat's last question (the old answer is replaced)."""
    from chatthy.cli.asking import follow_reply, parse_options

    stream = app.client.stream("chat.retry", profile=app.current_profile(), name=_chat_name(app, name),
                               provider=provider, model=model, options=parse_options(api_options) or None)
    follow_reply(stream, no_stream=no_stream, quiet=quiet, raw=raw)


@click.command()
@click.argument("name", required=False)
@click.option("--message", "message_id", type=int, metavar="ID",
              help="The message to edit (default: the last question).")
@click.option("--text", metavar="TEXT", help="The new text (default: edit it in $EDITOR; - reads stdin).")
@click.option("--no-stream", is_flag=True, help="Print the new answer only when it is complete.")
@click.option("-r", "--raw", is_flag=True, help="Print the new answer as the model writes it, on a terminal too.")
@click.option("-q", "--quiet", is_flag=True, help="No status line on stderr.")
@click.pass_obj
def edit(app, name, message_id, text, no_stream, raw, quiet) -> None:
    """Edit a message of a chat in $EDITOR.

    Editing a question drops what followed it and generates a new answer
    (streamed like `ask`); editing an answer just replaces its text.
    """
    from chatthy.cli.asking import follow_reply

    name = _chat_name(app, name)
    profile = app.current_profile()
    data = app.client.call("chat.show", profile=profile, name=name)
    messages = data["messages"]
    if message_id is None:
        questions = [m for m in messages if m["role"] == "user"]
        if not questions:
            raise BadRequest(f"chat {name!r} has no question to edit")
        message = questions[-1]
    else:
        message = next((m for m in messages if m["id"] == message_id), None)
        if message is None:
            raise BadRequest(f"chat {name!r} has no message #{message_id} (see `chatthy chat show {name}`)")
    if text == "-":
        text = sys.stdin.read()
    elif text is None:
        text = click.edit(message["content"], extension=".md", require_save=True)
        if text is None:
            note("not saved: nothing changed")
            return
    if text.rstrip("\n") == message["content"].rstrip("\n"):
        note("unchanged: nothing to do")
        return
    stream = app.client.stream("chat.edit_message", profile=profile, name=name,
                               message_id=message["id"], content=text)
    if message["role"] != "user":
        for _ in stream:
            pass
        note(f"replaced the text of #{message['id']} ({message['role']})")
        return
    follow_reply(stream, no_stream=no_stream, quiet=quiet, raw=raw)


@click.command("rm-message")
@click.argument("ids", nargs=-1, type=int, required=True, metavar="ID...")
@click.option("-c", "--chat", "name", metavar="NAME", help="The chat (default: the current one).")
@click.pass_obj
def rm_message(app, ids, name) -> None:
    """Remove messages from a chat by id (`chatthy chat show` prints them)."""
    name = _chat_name(app, name)
    for message_id in ids:
        info = app.client.call("chat.rm_message", profile=app.current_profile(), name=name, message_id=message_id)
        note(f"removed from {name!r}: " + ", ".join(_brief(m) for m in info["removed"]))


@click.command()
@click.argument("name", required=False)
@click.option("-f", "--format", "fmt", type=click.Choice(["json", "md"]), default="json", show_default=True,
              help="json re-imports exactly; md is for reading.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to a file, not stdout.")
@click.pass_obj
def export(app, name, fmt, output) -> None:
    """Export a chat as JSON (for `chat import`) or Markdown.

    JSON keeps everything: images (base64, with their sha256), tool calls and
    their results, citations, status, usage, the chat's workspace files.
    Markdown shows images as a line and tool calls as fenced blocks.
    """
    data = app.client.call("chat.export", profile=app.current_profile(), name=_chat_name(app, name), format=fmt)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(data["content"])
        note(f"wrote {output}")
    else:
        sys.stdout.write(data["content"])


@click.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--name", metavar="NEW", help="Import under this name (default: the exported one).")
@click.option("--json", "as_json", is_flag=True, help="Print the imported chat and what it holds as JSON.")
@click.pass_obj
def import_(app, file, name, as_json) -> None:
    """Import a chat from FILE (`-` for stdin), as written by `chat export`.

    Everything is checked first (each image against its sha256, and against
    [images] max_mb and max_per_message): a refused import writes nothing.
    """
    text = file.read()
    size = len(text.encode("utf-8"))
    if size > MAX_IMPORT_BYTES:  # refused by the daemon too; checked here to spare sending it
        raise TooLarge(f"{file.name}: {size / 2**20:.1f} MiB; `chat import` takes at most "
                       f"{MAX_IMPORT_BYTES / 2**20:.0f} MiB")
    info = app.client.call("chat.import", profile=app.current_profile(), data=text, name=name)
    if as_json:
        print_json(info)
        return
    extra = f"; created personality {info['created_personality']!r}" if info.get("created_personality") else ""
    note(f"imported {info['name']!r} ({_counts(info)}){extra}")


def _counts(info: dict) -> str:
    """``12 messages, 2 images, 3 tool calls, 1 workspace file`` from chat.fork's or chat.import's result."""
    counts = [_plural(info["messages"], "message")]
    extras = (("images", "image"), ("tool_calls", "tool call"), ("workspace", "workspace file"))
    counts += [_plural(info[key], word) for key, word in extras if info.get(key)]
    return ", ".join(counts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


COMMANDS = [fork, undo, retry, edit, rm_message, export, import_]
