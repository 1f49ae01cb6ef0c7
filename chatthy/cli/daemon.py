"""``chatthy daemon install|uninstall|start|stop|restart|status|logs``."""

from __future__ import annotations

import os
import signal
import time

import click

from chatthy.cli.output import note, print_json
from chatthy.errors import DaemonUnavailable

START_TIMEOUT = 20.0


@click.group()
def daemon() -> None:
    """Run the daemon as a user service; start, stop and inspect it.

    Without a service the daemon starts on demand (any command starts it when
    none answers); a service starts it at login and restarts it after a crash.
    """


def _fmt_uptime(seconds: float) -> str:
    seconds = int(seconds)
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return (f"{d}d " if d else "") + (f"{h}h " if h or d else "") + f"{m}m {s}s"


def _service(app, manager: str | None = None):
    from chatthy.cli.service_control import UserService

    return UserService.here(app.paths, manager)


def _service_line(svc: dict) -> str:
    if not svc["installed"]:
        return "not installed (started on demand; `chatthy daemon install` for a service)"
    kind = "systemd user unit" if svc["manager"] == "systemd" else "LaunchAgent"
    extras = [s for s in (svc.get("enabled"), svc.get("active")) if s]
    if svc["socket_activated"]:
        extras.append("socket-activated")
    return f"{kind} {svc['file']}" + (f" ({', '.join(extras)})" if extras else "")


@daemon.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def status(app, as_json: bool) -> None:
    """Show whether the daemon runs, and what it is doing (exit 3 if not running)."""
    from chatthy import __version__
    from chatthy.client import Client

    svc = _service(app).query()
    with Client(app.paths, autostart=False) as client:
        try:
            info = client.call("daemon.status")
        except DaemonUnavailable:
            if as_json:
                print_json({"running": False, "socket": str(app.paths.socket), "service": svc})
            else:
                click.echo(f"not running (socket {app.paths.socket})")
                click.echo(f"service:  {_service_line(svc)}")
            raise SystemExit(3)
    if as_json:
        print_json({"running": True, **info, "client_version": __version__, "service": svc})
        return
    click.echo(f"running: pid {info['pid']}, chatthy {info['version']}, up {_fmt_uptime(info['uptime'])}")
    if info["version"] != __version__:
        click.echo(f"warning:  this client is chatthy {__version__}: `chatthy daemon restart` to run the same version")
    click.echo(f"socket:   {info['socket']}" + (" (from the service manager)" if info.get("socket_activated") else ""))
    click.echo(f"database: {info['database']}")
    click.echo(f"log:      {info['log']}")
    click.echo(f"service:  {_service_line(svc)}")
    click.echo(f"clients:  {info['connections']}")
    workers = [w for w in info.get("provider_workers", []) if w["alive"]]
    click.echo("providers: " + (", ".join(f"worker pid {w['pid']} ({w['requests']} in flight)" for w in workers)
                                if workers else "streamed in the daemon"))
    open_chats = info.get("open_chats", [])
    click.echo(f"open chats: {len(open_chats)}" + "".join(
        f"\n  {c['chat']} ({c['watchers']} watching{', replying' if c['replying'] else ''})" for c in open_chats))
    gens = info["generations"]
    click.echo(f"replies in flight: {len(gens)}" + "".join(
        f"\n  {g['chat']} ({g['provider']}/{g['model']}, {g['chunks']} chunks)" for g in gens))


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


def _stop(app, timeout: float) -> int | None:
    """Stop the daemon; the pid it had, or None if none ran."""
    from chatthy.client import Client

    with Client(app.paths, autostart=False) as client:
        try:
            pid = client.call("daemon.stop")["pid"]
        except DaemonUnavailable:
            pid = _pid_from_file(app)
            if pid is None or not _alive(pid) or _lock_free(app):
                return None
            os.kill(pid, signal.SIGTERM)  # it does not answer: ask the process itself
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _lock_free(app):
            return pid
        time.sleep(0.05)
    raise DaemonUnavailable(f"the daemon (pid {pid}) did not stop within {timeout:.0f} s")


def _start(app) -> tuple[int | None, str]:
    """Start the daemon through the service if one is installed, else detached; (pid, how)."""
    from chatthy.autostart import start_daemon
    from chatthy.wire.probe import socket_answers

    if socket_answers(app.paths.socket):
        # (With socket activation systemd answers; asking starts the daemon if it is not running.)
        return _wait_for_daemon(app), "running"
    svc = _service(app)
    if svc.installed() and svc.tool_path():
        for argv in svc.start_commands():
            svc.run(argv)
        return _wait_for_daemon(app), f"started by {svc.tool}"
    start_daemon(app.paths)
    # The pid file is written before the socket is bound, so it is there now.
    return _pid_from_file(app), "started"


def _wait_for_daemon(app) -> int:
    """The pid of the daemon once it answers (a socket-activated one answers only when started)."""
    from chatthy.client import Client

    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with Client(app.paths, autostart=False) as client:
                return client.call("hello")["pid"]
        except DaemonUnavailable:
            if time.monotonic() > deadline:
                raise DaemonUnavailable(f"the service did not answer on {app.paths.socket} within "
                                        f"{START_TIMEOUT:.0f} s: see `chatthy daemon logs`") from None
            time.sleep(0.1)


@daemon.command()
@click.pass_obj
def start(app) -> None:
    """Start the daemon (through the user service when one is installed)."""
    pid, how = _start(app)
    note(f"{how} (pid {pid if pid is not None else '?'})")


@daemon.command()
@click.option("--timeout", default=15.0, show_default=True, help="Seconds to wait for it to exit.")
@click.pass_obj
def stop(app, timeout: float) -> None:
    """Stop the daemon (replies in flight get a few seconds to finish).

    A service does not restart a daemon stopped this way; with socket
    activation the next client starts it again.
    """
    pid = _stop(app, timeout)
    note(f"stopped (pid {pid})" if pid is not None else "the daemon is not running")


@daemon.command()
@click.option("--timeout", default=15.0, show_default=True, help="Seconds to wait for it to exit.")
@click.pass_obj
def restart(app, timeout: float) -> None:
    """Stop the daemon and start it again (e.g. after an upgrade or a config change)."""
    old = _stop(app, timeout)
    pid, how = _start(app)
    note(f"{how} (pid {pid if pid is not None else '?'})" + (f", was {old}" if old else ""))


_MANAGER = click.Choice(["systemd", "launchd"])


@daemon.command()
@click.option("--socket/--no-socket", "socket_activated", default=False,
              help="systemd: let systemd own the socket and start the daemon on the first connection.")
@click.option("--no-enable", is_flag=True, help="Only write the files; do not enable or start the service.")
@click.option("--print", "print_only", is_flag=True, help="Print the files to stdout instead of writing them.")
@click.option("--manager", type=_MANAGER, help="Service manager (default: this system's).")
@click.pass_obj
def install(app, socket_activated: bool, no_enable: bool, print_only: bool, manager: str | None) -> None:
    """Install the daemon as a user service that starts at login.

    Writes ~/.config/systemd/user/chatthy.service (and chatthy.socket with
    --socket) on Linux, ~/Library/LaunchAgents/io.github.chatthy.plist on
    macOS, pointing at this installation of chatthy; then enables and starts
    it. API keys are not written into the files: for systemd put KEY=value
    lines into service.env in the config dir (chmod 600), or use api_key_cmd.
    """
    import shlex

    from chatthy.cli.service_control import write_service_file
    from chatthy.wire.probe import socket_answers

    svc = _service(app, manager)
    if socket_activated and svc.manager == "launchd":
        raise click.UsageError("--socket is for systemd; a LaunchAgent starts the daemon at login")
    files = svc.render(socket_activated=socket_activated)
    if print_only:
        for path, text in files.items():
            click.echo(f"# {path}\n{text}")
        return
    if svc.installed() and svc.tool_path() and not no_enable:
        # Re-installing (perhaps switching to or from --socket): the old units' links must go first.
        for argv in svc.disable_commands():
            try:
                svc.run(argv)
            except DaemonUnavailable:
                pass
    for path, text in files.items():
        write_service_file(path, text)
        note(f"wrote {path}")
    if not socket_activated and svc.socket_file is not None and svc.socket_file.exists():
        svc.socket_file.unlink()  # an earlier --socket install: the service binds the socket now
        note(f"removed {svc.socket_file}")
    commands = svc.enable_commands(socket_activated=socket_activated)
    if no_enable or svc.tool_path() is None:
        why = "" if no_enable else f" ({svc.tool} not found)"
        note(f"not enabled{why}; to enable and start it, run:")
        for argv in commands:
            click.echo(shlex.join(argv))
        return
    if socket_answers(app.paths.socket):
        pid = _stop(app, 15.0)  # the service must own the socket: hand over from the autostarted daemon
        note(f"stopped the running daemon (pid {pid}) so that the service takes over")
    for argv in commands:
        svc.run(argv)
    note("enabled: " + ("systemd starts the daemon on the first connection" if socket_activated
                        else f"{svc.tool} starts it now and at every login"))


@daemon.command()
@click.option("--manager", type=_MANAGER, help="Service manager (default: this system's).")
@click.pass_obj
def uninstall(app, manager: str | None) -> None:
    """Disable the user service and remove its files (the daemon then starts on demand again)."""
    import shlex

    svc = _service(app, manager)
    installed = svc.installed_files()
    if not installed:
        note("no service is installed")
        return
    if svc.tool_path() is None:
        note(f"{svc.tool} not found: if the service is loaded, also run:")
        for argv in svc.disable_commands():
            click.echo(shlex.join(argv))
    else:
        for argv in svc.disable_commands():
            try:
                svc.run(argv)
            except DaemonUnavailable as exc:  # not loaded, or no user manager: still remove the files
                note(f"warning: {exc.message}")
    for path in installed:
        path.unlink(missing_ok=True)
        note(f"removed {path}")
    if svc.tool_path() is not None:
        for argv in svc.reload_commands():
            try:
                svc.run(argv)
            except DaemonUnavailable as exc:
                note(f"warning: {exc.message}")


@daemon.command()
@click.option("-n", "--lines", default=40, show_default=True, metavar="N", help="Lines of history to show first.")
@click.option("-f/-F", "--follow/--no-follow", default=None,
              help="Keep printing new lines (default: when stdout is a terminal).")
@click.pass_obj
def logs(app, lines: int, follow: bool | None) -> None:
    """Show the daemon's log, and follow it (Ctrl-C stops)."""
    from chatthy.cli.log_follow import follow_log, tail_lines
    from chatthy.cli.output import is_tty, write_text

    path = app.paths.log_file
    if not path.exists() and not follow:
        note(f"no log yet ({path}): the daemon has not run with this state dir")
        return
    text, offset = tail_lines(path, lines)
    write_text(text)  # on a terminal, escapes in logged text are shown, not obeyed
    if is_tty() if follow is None else follow:
        try:
            follow_log(path, offset, write=write_text)
        except KeyboardInterrupt:
            pass
