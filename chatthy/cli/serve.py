"""``chatthy serve``: the daemon in the foreground (what systemd/launchd run)."""

from __future__ import annotations

import click


@click.command()
@click.option("--log-stderr/--no-log-stderr", default=True, help="Log to stderr as well as to the log file.")
@click.option("--tcp", metavar="HOST:PORT", default=None,
              help="Also listen on TCP, encrypted (overrides [daemon] tcp; '' turns it off).")
def serve(log_stderr: bool, tcp: str | None) -> None:
    """Run the daemon in the foreground until SIGTERM or Ctrl-C."""
    # The one place the command line starts server code, and only when asked to.
    from chatthy.server.daemon import main

    main((["--log-stderr"] if log_stderr else []) + ([f"--tcp={tcp}"] if tcp is not None else []))
