"""The text of the user-service files: a systemd user unit (and socket), a LaunchAgent plist.

Pure text generation, no side effects: ``chatthy daemon install`` writes what
these functions return, and the tests read it. The files point at the Python
that runs this code (``sys.executable -m chatthy.server``), so the service runs
the same installed chatthy as the command that installed it, venv or not.

What goes into the files: the daemon's command line and the CHATTHY_*/XDG_*
directory overrides of the installing shell (so the service and the clients
agree on the socket and the database). API keys never do: the systemd unit
reads an optional ``service.env`` (0600) in the config dir instead, and
``api_key_cmd`` works everywhere.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from chatthy.paths import Paths

SERVICE_UNIT = "chatthy.service"
SOCKET_UNIT = "chatthy.socket"
LAUNCHD_LABEL = "io.github.chatthy"
ENV_FILE = "service.env"

# Carried into the service so that it uses the directories the clients use.
CARRIED_ENV = ("CHATTHY_CONFIG_DIR", "CHATTHY_DATA_DIR", "CHATTHY_STATE_DIR", "CHATTHY_SOCKET",
               "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")

# Exit codes after which restarting cannot help (chatthy.errors): 8 another
# daemon already owns the socket or pid file, 10 config.toml is invalid.
NO_RESTART_EXIT = (8, 10)


@dataclass(frozen=True)
class ServiceSpec:
    """Everything a service file says about the daemon."""

    argv: tuple[str, ...]
    socket: Path
    config_dir: Path
    state_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def env_file(self) -> Path:
        return self.config_dir / ENV_FILE

    @property
    def stderr_file(self) -> Path:
        return self.state_dir / "daemon.stderr"


def daemon_argv() -> tuple[str, ...]:
    """The command that runs the daemon in the foreground, with this very Python."""
    return (os.path.abspath(sys.executable), "-m", "chatthy.server")


def spec_for(paths: Paths, environ: dict[str, str] | None = None) -> ServiceSpec:
    environ = dict(os.environ if environ is None else environ)
    env = {k: environ[k] for k in CARRIED_ENV if environ.get(k)}
    return ServiceSpec(daemon_argv(), paths.socket, paths.config_dir, paths.state_dir, env)


# -- systemd ----------------------------------------------------------------------

_SAFE = re.compile(r"[A-Za-z0-9_@+=:,./-]+")


def _specifiers(text: str) -> str:
    """Escape systemd's %-specifiers (expanded in every setting used here)."""
    return text.replace("%", "%%")


def systemd_quote(word: str, *, argument: bool = False) -> str:
    """One word of an ExecStart=/Environment= line, quoted the way systemd parses it.

    ``argument``: an ExecStart argument after the program, where systemd also
    expands $VARIABLES (so a literal $ is written $$); it does not in the
    program path nor in Environment=.
    """
    text = _specifiers(word)
    if argument:
        text = text.replace("$", "$$")
    if _SAFE.fullmatch(word):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def systemd_service(spec: ServiceSpec, *, socket_activated: bool = False) -> str:
    lines = [
        "# chatthy daemon as a systemd user service, written by `chatthy daemon install`",
        "# (`chatthy daemon uninstall` removes it). Local changes: `systemctl --user edit chatthy`.",
        "# API keys: put KEY=value lines in the EnvironmentFile below (chmod 600), or use api_key_cmd.",
        "[Unit]",
        "Description=chatthy daemon: LLM chats for the terminal",
        "Documentation=man:chatthy(1)",
    ]
    if socket_activated:
        # Starting the service by hand must go through the socket too, or the
        # daemon would bind the path itself and the socket unit could not.
        lines += [f"Requires={SOCKET_UNIT}", f"After={SOCKET_UNIT}"]
    lines += [
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + " ".join(systemd_quote(w, argument=i > 0) for i, w in enumerate(spec.argv)),
    ]
    lines += [f"Environment={systemd_quote(f'{k}={v}')}" for k, v in sorted(spec.env.items())]
    lines += [
        f"EnvironmentFile=-{_specifiers(str(spec.env_file))}",
        "UMask=0077",
        "Restart=on-failure",
        "RestartSec=2",
        "# 8: another daemon already runs; 10: config.toml is invalid. Restarting cannot help.",
        "RestartPreventExitStatus=" + " ".join(str(c) for c in NO_RESTART_EXIT),
        "# The daemon gives replies in flight 5 s to finish on SIGTERM.",
        "TimeoutStopSec=20",
        "NoNewPrivileges=yes",
        "",
        "[Install]",
    ]
    lines += [f"Also={SOCKET_UNIT}"] if socket_activated else ["WantedBy=default.target"]
    return "\n".join(lines) + "\n"


def systemd_socket(spec: ServiceSpec) -> str:
    return "\n".join([
        "# The chatthy daemon's socket: systemd listens, and starts chatthy.service on the",
        "# first connection, handing it the socket. Written by `chatthy daemon install --socket`.",
        "[Unit]",
        "Description=chatthy daemon socket",
        "Documentation=man:chatthy(1)",
        "",
        "[Socket]",
        f"ListenStream={_specifiers(str(spec.socket))}",
        "SocketMode=0600",
        "DirectoryMode=0700",
        "RemoveOnStop=yes",
        "",
        "[Install]",
        "WantedBy=sockets.target",
    ]) + "\n"


# -- launchd ----------------------------------------------------------------------------


def launchd_plist(spec: ServiceSpec) -> str:
    import plistlib

    agent: dict = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": list(spec.argv),
        "RunAtLoad": True,
        # Restart after a crash, not after `chatthy daemon stop` (a clean exit).
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 5,
        "Umask": 0o077,
        "WorkingDirectory": "/",
        "StandardOutPath": str(spec.stderr_file),
        "StandardErrorPath": str(spec.stderr_file),
    }
    if spec.env:
        agent["EnvironmentVariables"] = dict(sorted(spec.env.items()))
    return plistlib.dumps(agent, sort_keys=False).decode("utf-8")


# -- where the files go ---------------------------------------------------------------------


def systemd_user_dir(environ: dict[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path(os.path.expanduser("~")) / ".config"
    return root / "systemd" / "user"


def launchd_agent_path() -> Path:
    return Path(os.path.expanduser("~")) / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"


def default_manager() -> str:
    return "launchd" if sys.platform == "darwin" else "systemd"
