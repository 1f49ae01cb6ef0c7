"""``chatthy inject SOURCE``: put a document into a REPL's input, or send it.

By default the text goes to every REPL watching the chat (the daemon relays
it as an ``inject`` event on ``chat.watch``): from another terminal or an
editor, ``chatthy inject src/app.py`` drops the file into the prompt you are
writing, to be sent with your question. ``--send`` sends it as a message
right away (the answer streams here); ``--print`` writes the text to stdout.
"""

from __future__ import annotations

import click

from chatthy.errors import Conflict


@click.command()
@click.argument("sources", nargs=-1, required=True, metavar="PATH|URL|-...")
@click.option("-c", "--chat", metavar="NAME", help="The chat (default: the current one, `chat use`).")
@click.option("--send", is_flag=True, help="Send it as a message now; the answer streams to stdout.")
@click.option("--print", "print_", is_flag=True, help="Print the text to stdout instead.")
@click.option("-t", "--template", metavar="NAME", help="Wrap it in an instruction template.")
@click.option("-v", "--var", "variables", multiple=True, metavar="KEY=VALUE", help="A template variable.")
@click.pass_context
def inject(ctx, sources, chat, send, print_, template, variables) -> None:
    """Inject files, URLs, PDFs, YouTube videos or stdin into a chat.

    \b
    chatthy inject notes.md                 # into the input line of the REPL on the current chat
    chatthy inject -c work https://example.org/spec --send
    chatthy inject report.pdf#pages=2-4 --print | less
    """
    app = ctx.obj
    if send and print_:
        raise click.UsageError("give --send or --print, not both")
    if send:
        from chatthy.cli.ask import ask

        if not chat:
            chat = _current_chat(app)
        ctx.invoke(ask, prompt=(), chat=chat, files=tuple(sources), template=template, variables=tuple(variables))
        return
    from chatthy.cli.documents import compose_prompt
    from chatthy.cli.output import note, write_text

    if not print_ and not chat:
        chat = _current_chat(app)
    composed = compose_prompt(app, (), sources, template, variables)
    text = composed.prompt
    if print_:
        write_text(text if text.endswith("\n") else text + "\n")
        return
    first = composed.documents[0] if composed.documents else {}
    info = app.client.call("source.inject", profile=app.current_profile(), chat=chat, text=text,
                           name=first.get("name"), source=first.get("source"), title=first.get("title"))
    if not info["delivered"]:
        raise Conflict(f"no REPL is watching chat {info['chat']!r}: open one with `chatthy repl`, "
                       "or use --send to send it as a message, or --print")
    note(f"injected into {info['delivered']} REPL{'s' * (info['delivered'] != 1)} on chat {info['chat']!r}")


def _current_chat(app) -> str:
    from chatthy.cli.state import ClientState
    from chatthy.errors import BadRequest

    chat = ClientState.load(app.paths).chat
    if not chat:
        raise BadRequest("no chat: give -c NAME, or pick one with `chatthy chat use NAME`")
    return chat
