"""``chatthy daemon status|stop``."""

from __future__ import annotations

import os
import signal
import time

import click

from chatthy.cli.output import note, print_json
from chatthy.errors import DaemonUnavailable


@click.group()
def daemon() -> None:
    """Inspect and control the daemon."""


def _fmt_uptime(seconds: float) -> str:
    seconds = int(seconds)
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return (f"{d}d " if d else "") + (f"{h}h " if h or d else "") + f"{m}m {s}s"


@daemon.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def status(app, as_json: bool) -> None:
    """Show whether the daemon runs, and what it is doing (exit 3 if not running)."""
    from chatthy.client import Client

    with Client(app.paths, autostart=False) as client:
        try:
            info = client.call("daemon.status")
        except DaemonUnavailable:
            if as_json:
                print_json({"running": False, "socket": str(app.paths.socket)})
            else:
                click.echo(f"not running (socket {app.paths.socket})")
            raise SystemExit(3)
    if as_json:
        print_json({"running": True, **info})
        return
    click.echo(f"running: pid {info['pid']}, chatthy {info['version']}, up {_fmt_uptime(info['uptime'])}")
    click.echo(f"socket:   {info['socket']}")
    click.echo(f"database: {info['database']}")
    click.echo(f"log:      {info['log']}")
    click.echo(f"clients:  {info['connections']}")
    gens = info["generations"]
    click.echo(f"replies in flight: {len(gens)}" + "".join(f"\n  {g['chat']} ({g['model']}, {g['chunks']} chunks)" for g in gens))


def _pid_from_file(app) -> int | None:
    try:
        return int(app.paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _lock_free(app) -> bool:
    """True once no daemon holds the pid-file lock (it exited, or never ran)."""
    import fcntl

    try:
        fd = os.open(app.paths.pid_file, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


@daemon.command()
@click.option("--timeout", default=15.0, show_default=True, help="Seconds to wait for it to exit.")
@click.pass_obj
def stop(app, timeout: float) -> None:
    """Stop the daemon (replies in flight get a few seconds to finish)."""
    from chatthy.client import Client

    pid = None
    with Client(app.paths, autostart=False) as client:
        try:
            pid = client.call("daemon.stop")["pid"]
        except DaemonUnavailable:
            pid = _pid_from_file(app)
            if pid is None or not _alive(pid):
                note("the daemon is not running")
                return
            os.kill(pid, signal.SIGTERM)  # it does not answer: ask the process itself
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _lock_free(app):
            note(f"stopped (pid {pid})")
            return
        time.sleep(0.05)
    raise DaemonUnavailable(f"the daemon (pid {pid}) did not stop within {timeout:.0f} s")
