"""``chatthy doctor``: check the installation, and say how to fix what is wrong.

The client checks what it can see itself (config, key files and permissions,
the socket, the user service); the daemon checks the rest (``doctor`` method:
sqlite-vec, providers' keys and reachability, embedder, disk). One line per
check on stdout — ``ok``, ``warn``, ``fail`` or ``skip`` — with the fix
under it; exit status 1 if any check failed. Keys are never printed.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import click

from chatthy.cli.output import color_enabled, print_json

STATUS_COLORS = {"ok": "green", "warn": "yellow", "fail": "red", "skip": "bright_black"}
# sockaddr_un.sun_path is 108 bytes on Linux, 104 on macOS (incl. the NUL).
MAX_SOCKET_PATH = 103 if sys.platform == "darwin" else 107


def _check(name: str, status: str, message: str, fix: str = "") -> dict:
    return {"check": name, "status": status, "message": message, "fix": fix}


def check_config(paths) -> dict:
    from chatthy import config
    from chatthy.errors import ConfigError

    if not paths.config_file.exists():
        return _check("config", "ok", f"{paths.config_file} does not exist: the defaults apply "
                      "(a commented file is written when the daemon first starts)")
    try:
        cfg = config.load(paths.config_file, create=False)
    except ConfigError as exc:
        return _check("config", "fail", exc.message, "correct the setting named above (see `man chatthy`, FILES)")
    return _check("config", "ok", f"{paths.config_file} is valid ({len(cfg.providers)} providers, "
                  f"default {cfg.default_provider})")


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


def check_permissions(paths) -> list[dict]:
    """Private dirs 0700, key files 0600, authorized_keys writable by the owner only."""
    checks = []
    dirs = {"config dir": paths.config_dir, "state dir": paths.state_dir, "data dir": paths.data_dir,
            "socket dir": paths.socket.parent}
    loose = []
    for label, path in dirs.items():
        mode = _mode(path)
        if mode is not None and mode & 0o077:
            loose.append(f"{label} {path} is {mode:o}")
    fix_dirs = " && ".join(f"chmod 700 {_sh(p)}" for p in dict.fromkeys(
        p for label, p in dirs.items() if (_mode(p) or 0) & 0o077))
    checks.append(_check("directories", "warn", "; ".join(loose), fix_dirs) if loose else
                  _check("directories", "ok", "config, data, state and socket dirs are private (700)"))

    bad, notes = [], []
    for name in ("client.key", "daemon.key", "authorized_keys"):
        path = paths.config_dir / name
        mode = _mode(path)
        if mode is None:
            notes.append(f"{name} not created yet")
        elif mode & 0o077:
            bad.append(path)
    if bad:
        listing = ", ".join(f"{p} is {_mode(p):o}" for p in bad)
        checks.append(_check("key files", "fail", f"{listing}: others may read or change them (the daemon "
                             "refuses such keys)", " && ".join(f"chmod 600 {_sh(p)}" for p in bad)
                             + " (and consider `chatthy keys rotate`)"))
    else:
        checks.append(_check("key files", "ok", "client.key, daemon.key, authorized_keys are 600"
                             + (f" ({'; '.join(notes)})" if notes else "")))
    checks.append(check_pinned_key(paths))
    return checks


def check_pinned_key(paths) -> dict:
    """Does the daemon key the client pins match the local daemon's own key?"""
    pub = paths.config_dir / "daemon.pub"
    key = paths.config_dir / "daemon.key"
    if not pub.exists() or not key.exists() or (_mode(key) or 0) & 0o077:
        return _check("daemon key", "skip", "no local daemon key to compare with yet")
    try:
        from chatthy.wire import keys

        own = keys.public_hex(keys.SigningKey(bytes.fromhex(key.read_text().strip())))
        pinned = pub.read_text().strip().lower()
    except (OSError, ValueError, ImportError) as exc:
        return _check("daemon key", "fail", f"cannot read {key}: {exc}", "restore it, or delete it to make a new one")
    if own != pinned:
        return _check("daemon key", "warn", f"{pub} pins a key other than {key}'s: fine for a remote "
                      "daemon, but a local one will be refused", f"delete {_sh(pub)} to pin the local daemon")
    return _check("daemon key", "ok", "the pinned daemon key is the local daemon's")


def check_socket_path(paths) -> dict:
    size = len(os.fsencode(paths.socket))
    if size > MAX_SOCKET_PATH:
        return _check("socket", "fail", f"{paths.socket} is {size} bytes, over the {MAX_SOCKET_PATH} "
                      "a Unix socket allows", "set CHATTHY_SOCKET to a shorter path")
    return _check("socket", "ok", str(paths.socket))


def check_service(paths) -> dict:
    from chatthy.cli import service_files
    from chatthy.cli.service_control import UserService

    svc = UserService.here(paths)
    if not svc.installed():
        return _check("service", "skip", "no user service installed: the daemon starts on demand")
    program = _service_program(svc.service_file)
    if program is None:
        return _check("service", "warn", f"cannot read the program {svc.service_file} runs",
                      "`chatthy daemon install` to rewrite it")
    if not Path(program).exists():
        return _check("service", "fail", f"{svc.service_file} runs {program}, which no longer exists",
                      "`chatthy daemon install` to point it at this installation")
    ours = service_files.daemon_argv()[0]
    if os.path.realpath(program) != os.path.realpath(ours):
        return _check("service", "warn", f"{svc.service_file} runs {program}, not this chatthy ({ours})",
                      "`chatthy daemon install` if this is the chatthy you use")
    return _check("service", "ok", f"{svc.service_file} runs this installation")


def _service_program(path: Path) -> str | None:
    try:
        if path.suffix == ".plist":
            import plistlib

            return plistlib.loads(path.read_bytes())["ProgramArguments"][0]
        import shlex

        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("ExecStart="):
                return shlex.split(line[len("ExecStart="):])[0].replace("%%", "%")
    except (OSError, ValueError, KeyError, IndexError):
        return None
    return None


def _sh(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))


def check_daemon(app, network: bool, timeout: int) -> list[dict]:
    """Reach the daemon (starting it unless --no-autostart) and run its checks."""
    from chatthy import __version__
    from chatthy.errors import ChatthyError
    from chatthy.wire.probe import socket_answers

    was_running = socket_answers(app.paths.socket)
    try:
        result = app.client.call("doctor", network=network, timeout=timeout)
    except ChatthyError as exc:
        fix = ("`chatthy daemon start`, or drop --no-autostart" if not app.autostart
               else "see `chatthy daemon logs`, or run `chatthy serve` to see it start")
        return [_check("daemon", "fail", exc.message, fix), check_disk(app.paths.data_dir)]
    how = "running" if was_running else "started by doctor"
    checks = [_check("daemon", "ok", f"{how}, pid {result['pid']}, on {app.paths.socket}")]
    if result["version"] != __version__:
        checks.append(_check("version", "warn", f"the daemon is chatthy {result['version']}, this client "
                             f"{__version__}", "`chatthy daemon restart` to run the installed version"))
    else:
        checks.append(_check("version", "ok", f"daemon and client are both chatthy {__version__}"))
    return checks + result["checks"]


def check_disk(path: Path) -> dict:
    """Free space where the database lives (the daemon checks this itself when it answers)."""
    import shutil

    while not path.exists() and path != path.parent:
        path = path.parent
    free = shutil.disk_usage(path).free
    text = f"{free / 1024**3:.1f} GiB free on {path}"
    if free < 100 * 1024**2:
        return _check("disk", "fail", text, "free some space: SQLite needs room to write")
    return _check("disk", "warn" if free < 1024**3 else "ok", text, "free some space soon")


def _line(check: dict, color: bool) -> str:
    status = f"{check['status']:<5}"
    if color:
        status = click.style(status, fg=STATUS_COLORS.get(check["status"]), bold=check["status"] == "fail")
    text = f"{status} {check['check']:<20} {check['message']}"
    if check.get("fix") and check["status"] in ("warn", "fail"):
        text += f"\n{'':<6}{'':<20} fix: {check['fix']}"
    return text


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--offline", is_flag=True, help="Do not contact the providers.")
@click.option("--timeout", default=5, show_default=True, type=click.IntRange(1, 60), help="Seconds per provider.")
@click.pass_obj
def doctor(app, as_json: bool, offline: bool, timeout: int) -> None:
    """Check config, keys, permissions, the daemon, providers, sqlite-vec and disk space.

    One line per check (ok, warn, fail, skip) with how to fix it; exits 1 if
    any check failed. API keys are never printed.
    """
    from chatthy.cli.output import neutralise

    # The daemon first: starting it creates the keys the file checks look at.
    daemon_checks = check_daemon(app, not offline, timeout)
    checks = [check_config(app.paths), *check_permissions(app.paths), check_socket_path(app.paths),
              check_service(app.paths), *daemon_checks]
    failed = any(c["status"] == "fail" for c in checks)
    if as_json:
        print_json({"ok": not failed, "checks": checks})
    else:
        color = color_enabled()
        for check in checks:
            click.echo(_line({k: neutralise(str(v)) for k, v in check.items()}, color))
        counts = {s: sum(c["status"] == s for c in checks) for s in ("fail", "warn")}
        click.echo(f"\n{counts['fail']} failed, {counts['warn']} warnings" if failed or counts["warn"]
                   else "\neverything looks fine")
    if failed:
        raise SystemExit(1)
