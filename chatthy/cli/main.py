"""The top-level ``chatthy`` group.

Subcommands are imported only when invoked: ``chatthy --help`` and
``chatthy chat list`` must not pay for modules they do not use.
"""

from __future__ import annotations

import os
import sys

import click

from chatthy import __version__

# name -> (module, attribute, one-line help shown by --help without importing it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ask": ("chatthy.cli.ask", "ask", "Ask a question; the answer streams to stdout."),
    "chat": ("chatthy.cli.chat", "chat", "List, show, edit, fork, export and select chats."),
    "persona": ("chatthy.cli.persona", "persona", "Personalities: saved system prompts to list, set, edit and delete."),
    "profile": ("chatthy.cli.profile", "profile", "Profiles: separate sets of chats and personalities."),
    "usage": ("chatthy.cli.usage", "usage", "Tokens used (and cost, where prices are configured) per model."),
    "models": ("chatthy.cli.models", "models", "List the models each provider offers."),
    "config": ("chatthy.cli.config_cmd", "config", "The configuration file: path, show, init, edit."),
    "daemon": ("chatthy.cli.daemon", "daemon", "The daemon: install as a user service, start, stop, status, logs."),
    "serve": ("chatthy.cli.serve", "serve", "Run the daemon in the foreground."),
    "repl": ("chatthy.cli.repl", "repl", "Chat interactively: streaming Markdown, /commands, live chats."),
    "keys": ("chatthy.cli.keys", "keys", "Show, authorise, revoke and rotate the keys that may talk to the daemon."),
    "ws": ("chatthy.cli.workspace", "ws", "The context workspace: load, drop, bench and list files sent with a chat."),
    "template": ("chatthy.cli.template", "template", "List, show, edit and create instruction templates."),
    "summarize": ("chatthy.cli.summarize", "summarize", "Summarise a file, URL, PDF, YouTube video or stdin."),
    "inject": ("chatthy.cli.inject", "inject", "Put a file, URL, PDF or video into a REPL's input, or send it."),
    "completion": ("chatthy.cli.completion", "completion", "Print the shell completion script (bash, zsh, fish)."),
    "doctor": ("chatthy.cli.doctor", "doctor", "Check the installation and explain how to fix what is wrong."),
    "vdb": ("chatthy.cli.vdb", "vdb", "The vector store: ingest documents, search them, use them with ask --rag."),
    "tools": ("chatthy.cli.tools", "tools", "Tools the model may call: list them, choose a chat's, see the calls."),
    "run": ("chatthy.cli.run", "run", "Run a workflow (steps of templates and tools, loops) in the daemon."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = COMMANDS.get(name)
        if entry is None:
            return None
        import importlib

        module = importlib.import_module(entry[0])
        command = getattr(module, entry[1])
        if "_CHATTHY_COMPLETE" in os.environ:  # only while a shell asks for completions
            from chatthy.cli.completion import attach_completers

            attach_completers(command, name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text from the table above: listing commands imports none of them.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _configure_output(ctx: click.Context, **choice) -> None:
    from chatthy.cli.output import configure

    configure(**choice)
    if "color" in choice:  # click.echo strips styles off a pipe unless the context says otherwise
        ctx.color = {"always": True, "never": False}.get(choice["color"])


def _complete_profiles(ctx, param, incomplete):
    from chatthy.cli.completion import complete_profiles

    return complete_profiles(ctx, param, incomplete)


EXIT_CODES_HELP = """\b
Exit codes: 0 ok, 1 internal error, 2 bad input, 3 daemon unavailable,
4 not found, 5 provider error, 6 unauthorised, 7 too large, 8 busy/conflict,
9 context overflow, 10 config error, 130 interrupted."""


@click.group(cls=LazyGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="chatthy")
@click.option("--profile", metavar="NAME", envvar="CHATTHY_PROFILE", help="Profile to use (default: the current one).",
              shell_complete=_complete_profiles)
@click.option("--no-autostart", is_flag=True, envvar="CHATTHY_NO_AUTOSTART", help="Fail instead of starting the daemon.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", envvar="CHATTHY_COLOR",
              expose_value=False, is_eager=True, callback=lambda ctx, p, v: _configure_output(ctx, color=v),
              help="Colour: auto (a terminal, unless NO_COLOR is set), always, never.")
@click.option("-q", "--quiet", is_flag=True, envvar="CHATTHY_QUIET", expose_value=False, is_eager=True,
              callback=lambda ctx, p, v: _configure_output(ctx, quiet=v), help="No messages on stderr; errors still show.")
@click.pass_context
def cli(ctx: click.Context, profile: str | None, no_autostart: bool) -> None:
    """chatthy: conduct and manage chats with LLMs from the terminal."""
    from chatthy.cli.context import AppContext

    ctx.obj = AppContext(profile=profile, autostart=not no_autostart)


def main() -> None:
    from chatthy.cli.output import run_cli

    sys.exit(run_cli(cli))


TOP_HELP = os.path.join(os.path.dirname(__file__), "top_help.txt")


def render_top_help() -> str:
    """``chatthy --help`` as Click prints it at 80 columns or more (and off a terminal).

    The fast path prints this text from top_help.txt instead of importing
    Click; tests/cli/test_fastpath.py keeps the file equal to this rendering.
    Regenerate with ``python -m chatthy.cli.main --write-help``.
    """
    ctx = click.Context(cli, info_name="chatthy", terminal_width=78, **cli.context_settings)
    return cli.get_help(ctx) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-help"]:
        with open(TOP_HELP, "w", encoding="utf-8") as fh:
            fh.write(render_top_help())
    else:
        main()
