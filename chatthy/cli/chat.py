"""``chatthy chat list|show|search|rename|delete|use|tokens|cancel`` (editing and transfer: chat_edit.py)."""

from __future__ import annotations

import click

from chatthy.cli.chat_listing import local_time, list_chats
from chatthy.cli.output import color_enabled, is_tty, neutralise, note, print_json, style, table, write_text
from chatthy.cli.search_hits import marked


@click.group()
def chat() -> None:
    """Manage chats."""


@chat.command("list")
@click.option("--persona", metavar="NAME", help="Only chats with this personality.")
@click.option("--json", "as_json", is_flag=True, help="JSON array of objects.")
@click.pass_obj
def list_(app, persona, as_json) -> None:
    """List the chats of the profile, most recently updated first."""
    list_chats(app, persona=persona, as_json=as_json)


@chat.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="The chat and its messages as JSON.")
@click.pass_obj
def show(app, name, as_json) -> None:
    """Show a chat's messages (default: the current chat)."""
    name = name or _current(app)
    data = app.client.call("chat.show", profile=app.current_profile(), name=name)
    if as_json:
        print_json(data)
        return
    tty = is_tty()
    for m in data["messages"]:
        # The id is what `chat edit --message`, `rm-message` and `fork --at` take.
        label = f"── #{m['id']} {m['role']}"
        if m["role"] == "assistant" and m.get("model"):
            label += f" · {m['model']}"
        if m["status"] != "complete":
            label += f" · {m['status']}"
        label += f" · {local_time(m['created'])}"
        if m.get("edited"):
            label += " · edited"
        if m["role"] == "assistant" and m.get("duration_ms"):
            label += f" · {m['duration_ms'] / 1000:.1f} s"
        label += " "
        if tty:
            label = label.ljust(60, "─")
            if color_enabled():
                label = click.style(label, fg="cyan" if m["role"] == "user" else "green", bold=True)
        click.echo(label)
        write_text(m["content"].rstrip("\n") + "\n", flush=False)
        if m.get("error"):
            write_text(f"[error: {m['error']}]\n", flush=False)
        click.echo("")


@chat.command()
@click.argument("words", nargs=-1, required=True)
@click.option("-c", "--chat", "name", metavar="NAME", help="Only in chat NAME.")
@click.option("--role", type=click.Choice(["user", "assistant"]), help="Only your messages, or only the model's.")
@click.option("-n", "--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="JSON array of objects (snippet, highlights, …).")
@click.pass_obj
def search(app, words, name, role, limit, as_json) -> None:
    """Find messages that hold every one of WORDS, best match first.

    Across the profile's chats (or one, with -c). "Quoted words" are a phrase;
    a word ending in * matches as a prefix (config*); anything else is searched
    for as written. Each hit shows its chat, message id (for `chat show`,
    `chat fork --at`, `chat edit --message`) and the text around the match.
    Your questions and the model's answers are searched; tool results are not.
    """
    hits = app.client.call("chat.search", profile=app.current_profile(), query=" ".join(words), name=name,
                           role=role, limit=limit)
    if as_json:
        print_json(hits)
        return
    if not hits:
        note("no messages match")
        return
    tty = is_tty()
    for hit in hits:
        if not tty:
            # One line per hit, tab-separated: chat, #id, role, time, snippet.
            write_text(f"{hit['chat']}\t#{hit['message_id']}\t{hit['role']}\t{local_time(hit['created'])}"
                       f"\t{hit['snippet']}\n", flush=False)
            continue
        click.echo(_hit_heading(hit))
        on, off = ("\x1b[1m", "\x1b[22m") if color_enabled() else ("»", "«")
        click.echo("  " + marked(hit["snippet"], hit["highlights"], on, off))


def _hit_heading(hit: dict) -> str:
    text = f"{neutralise(hit['chat'])} #{hit['message_id']} · {hit['role']} · {local_time(hit['created'])}"
    return style(text, fg="cyan" if hit["role"] == "user" else "green", bold=True) if color_enabled() else text



@chat.command()
@click.argument("name")
@click.argument("new")
@click.pass_obj
def rename(app, name, new) -> None:
    """Rename chat NAME to NEW."""
    from chatthy.cli.state import ClientState

    app.client.call("chat.rename", profile=app.current_profile(), name=name, new=new)
    state = ClientState.load(app.paths)
    if state.chat == name:
        state.chat = new
        state.save(app.paths)
    note(f"renamed {name!r} to {new!r}")


@chat.command()
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def delete(app, names) -> None:
    """Delete chats and all their messages."""
    for name in names:
        app.client.call("chat.delete", profile=app.current_profile(), name=name)
        note(f"deleted {name!r}")


@chat.command()
@click.argument("name")
@click.option("-P", "--persona", metavar="NAME", help="Switch the chat to this personality (\"\" = default).")
@click.option("-p", "--provider", metavar="NAME", help="Switch the chat to this provider (\"\" = the default).")
@click.option("-m", "--model", metavar="NAME", help="Switch the chat to this model (\"\" = the provider's).")
@click.pass_obj
def use(app, name, persona, provider, model) -> None:
    """Make NAME the current chat (for `ask --continue`, `chat show`, the REPL).

    With -P/-p/-m, also switch its personality, provider or model for good.
    """
    from chatthy.cli.state import ClientState

    if persona is not None or provider is not None or model is not None:
        info = app.client.call("chat.update", profile=app.current_profile(), name=name,
                               personality=persona, provider=provider, model=model)
        note(f"{name}: personality {info['personality']}, {info['provider']}/{info['model']}")
    else:
        app.client.call("chat.get", profile=app.current_profile(), name=name)
    state = ClientState.load(app.paths)
    state.chat = name
    state.save(app.paths)
    note(f"current chat: {name}")


@chat.command()
@click.argument("name", required=False)
@click.option("-p", "--provider", metavar="NAME", help="As if asking with this provider.")
@click.option("-m", "--model", metavar="NAME", help="As if asking with this model.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.pass_obj
def tokens(app, name, provider, model, as_json) -> None:
    """Show the token budget of the chat's next request (default: the current chat).

    Each part (system prompt, workspace, …, history) with its tokens, what is
    dropped (or summarised) to fit, and what remains for the question.
    """
    from chatthy.cli.state import ClientState

    name = name or ClientState.load(app.paths).chat
    data = app.client.call("chat.tokens", profile=app.current_profile(), name=name,
                           provider=provider, model=model)
    if as_json:
        print_json(data)
        return
    counting = data["counting"]
    how = (f"exact ({counting['encoding']})" if counting["exact"]
           else f"estimated ({counting['encoding']} × {counting['calibration']:.3f})")
    click.echo(f"chat:    {data['chat'] or '(new chat)'} · personality {data['personality']}")
    click.echo(f"model:   {data['provider']}/{data['model']} · tokens {how}")
    click.echo(f"window:  {data['context_length']:,} − {data['max_tokens']:,} for the reply"
               f" = {data['budget']:,} budget")
    click.echo("")
    table(["PART", "TOKENS", "STATUS"],
          [[row["part"], "-" if row["tokens"] is None else f"{row['tokens']:,}", row["status"]]
           for row in data["parts"]])
    click.echo("")
    dropped = data["dropped"]
    if dropped["messages"]:
        verb = "summarised" if data["summary"] else "dropped"
        click.echo(f"{verb}: {dropped['messages']:,} messages in {dropped['turns']:,} turns"
                   f" ({dropped['tokens']:,} tokens) · truncation = {data['truncation']}")
    click.echo(f"used:    {data['used']:,} of {data['budget']:,} · remaining for the question: "
               f"{data['remaining']:,}")


@chat.command()
@click.argument("name", required=False)
@click.pass_obj
def cancel(app, name) -> None:
    """Stop the reply being generated in a chat (the partial text is kept)."""
    info = app.client.call("gen.cancel", profile=app.current_profile(), chat=name or _current(app))
    note(f"cancelled the reply in {info['chat']!r} ({info['status']})")


def _current(app) -> str:
    from chatthy.cli.state import ClientState
    from chatthy.errors import BadRequest

    name = ClientState.load(app.paths).chat
    if not name:
        raise BadRequest("no chat given and no current chat (set one with `chatthy chat use NAME`)")
    return name


# Editing and transfer commands live in their own module; they join the group here.
from chatthy.cli import chat_edit  # noqa: E402

for _command in chat_edit.COMMANDS:
    chat.add_command(_command)
