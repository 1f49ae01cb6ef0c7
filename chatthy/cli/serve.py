"""``chatthy serve``: the daemon in the foreground (what systemd/launchd run)."""

from __future__ import annotations

import click


@click.command()
@click.option("--log-stderr/--no-log-stderr", default=True, help="Log to stderr as well as to the log file.")
def serve(log_stderr: bool) -> None:
    """Run the daemon in the foreground until SIGTERM or Ctrl-C."""
    # The one place the command line starts server code, and only when asked to.
    from chatthy.server.daemon import main

    main(["--log-stderr"] if log_stderr else [])
