"""``chatthy repl``: the interactive client (see chatthy/repl/)."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("-c", "--chat", metavar="NAME", help="Open chat NAME (created with its first message).")
@click.option("-n", "--new", is_flag=True, help="Start a new chat instead of the current one.")
@click.option("--style", metavar="NAME", envvar="CHATTHY_STYLE",
              help="Pygments style for code and Markdown (e.g. monokai, friendly; /style lists them).")
@click.option("--raw", is_flag=True, help="Show replies exactly as the model writes them.")
@click.option("--no-latex", is_flag=True, help="Show LaTeX math as written, not as Unicode.")
@click.option("--vi", is_flag=True, envvar="CHATTHY_VI", help="vi editing keys (default: emacs).")
@click.option("--multiline", is_flag=True, help="Start in multiline mode (Alt-Enter sends).")
@click.pass_obj
def repl(app, chat, new, style, raw, no_latex, vi, multiline) -> None:
    """Chat interactively: streaming Markdown, commands (/help), live chats.

    Lines starting with / are commands (F2: command mode without the /).
    Replies from other clients in the same chat appear as they stream.
    """
    from chatthy.errors import BadRequest

    if chat and new:
        raise click.UsageError("give -c NAME or --new, not both")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BadRequest("chatthy repl needs a terminal; in scripts use `chatthy ask`")
    if style:
        from chatthy.render.theme import Theme

        try:
            Theme.from_style(style)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    from chatthy.repl.app import run_repl
    from chatthy.repl.state import ReplOptions

    options = ReplOptions(profile=app.current_profile(), chat=chat, new=new, style=style,
                          latex=not no_latex, raw=raw, vi=vi, multiline=multiline)
    run_repl(options, app.paths, autostart=app.autostart)
