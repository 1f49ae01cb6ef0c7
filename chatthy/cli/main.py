"""The top-level ``chatthy`` group.

Subcommands are imported only when invoked: ``chatthy --help`` and
``chatthy chat list`` must not pay for modules they do not use.
"""

from __future__ import annotations

import sys

import click

from chatthy import __version__

# name -> (module, attribute, one-line help shown by --help without importing it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ask": ("chatthy.cli.ask", "ask", "Ask a question; the answer streams to stdout."),
    "chat": ("chatthy.cli.chat", "chat", "List, show, rename, delete and select chats."),
    "daemon": ("chatthy.cli.daemon", "daemon", "Status of the daemon; stop it."),
    "serve": ("chatthy.cli.serve", "serve", "Run the daemon in the foreground."),
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
        return getattr(module, entry[1])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text from the table above: listing commands imports none of them.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


EXIT_CODES_HELP = """\b
Exit codes: 0 ok, 1 internal error, 2 bad input, 3 daemon unavailable,
4 not found, 5 provider error, 6 unauthorised, 7 too large, 8 busy/conflict,
9 context overflow, 10 config error, 130 interrupted."""


@click.group(cls=LazyGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="chatthy")
@click.option("--profile", metavar="NAME", envvar="CHATTHY_PROFILE", help="Profile to use (default: the current one).")
@click.option("--no-autostart", is_flag=True, envvar="CHATTHY_NO_AUTOSTART", help="Fail instead of starting the daemon.")
@click.pass_context
def cli(ctx: click.Context, profile: str | None, no_autostart: bool) -> None:
    """chatthy: conduct and manage chats with LLMs from the terminal."""
    from chatthy.cli.context import AppContext

    ctx.obj = AppContext(profile=profile, autostart=not no_autostart)


def main() -> None:
    from chatthy.cli.output import run_cli

    sys.exit(run_cli(cli))
