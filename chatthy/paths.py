"""Where chatthy keeps its files.

The layout follows platformdirs' conventions (XDG on Linux, ~/Library on macOS)
but is computed here directly: importing platformdirs costs ~25 ms, and every
client start pays for what it imports.

Every path can be overridden by the environment, so tests and several
independent instances never collide:

    CHATTHY_CONFIG_DIR   config.toml, keys, authorized_keys, templates
    CHATTHY_DATA_DIR     chatthy.db
    CHATTHY_STATE_DIR    daemon.log, daemon.pid, autostart lock, REPL history
    CHATTHY_SOCKET       the daemon's Unix socket
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

APP = "chatthy"


def _home() -> Path:
    return Path(os.path.expanduser("~"))


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "")
    # XDG says relative paths are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return _home() / fallback


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    state_dir: Path
    socket: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def database(self) -> Path:
        return self.data_dir / "chatthy.db"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "daemon.log"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "daemon.pid"

    @property
    def autostart_lock(self) -> Path:
        return self.state_dir / "autostart.lock"

    @property
    def client_state(self) -> Path:
        """Small client-side state (current profile, current chat)."""
        return self.state_dir / "client.json"

    @property
    def repl_history(self) -> Path:
        return self.state_dir / "repl_history"

    @property
    def keys_dir(self) -> Path:
        return self.config_dir


def resolve() -> Paths:
    env = os.environ
    if sys.platform == "darwin":
        support = _home() / "Library" / "Application Support" / APP
        default_config, default_data = support, support
        default_state = _home() / "Library" / "Logs" / APP
    else:
        default_config = _xdg("XDG_CONFIG_HOME", ".config") / APP
        default_data = _xdg("XDG_DATA_HOME", ".local/share") / APP
        default_state = _xdg("XDG_STATE_HOME", ".local/state") / APP

    config_dir = Path(env["CHATTHY_CONFIG_DIR"]) if env.get("CHATTHY_CONFIG_DIR") else default_config
    data_dir = Path(env["CHATTHY_DATA_DIR"]) if env.get("CHATTHY_DATA_DIR") else default_data
    state_dir = Path(env["CHATTHY_STATE_DIR"]) if env.get("CHATTHY_STATE_DIR") else default_state

    if env.get("CHATTHY_SOCKET"):
        socket = Path(env["CHATTHY_SOCKET"])
    elif env.get("CHATTHY_STATE_DIR"):
        # An instance with its own state dir gets its own socket too.
        socket = state_dir / "chatthy.sock"
    elif env.get("XDG_RUNTIME_DIR") and os.path.isabs(env["XDG_RUNTIME_DIR"]):
        socket = Path(env["XDG_RUNTIME_DIR"]) / APP / "chatthy.sock"
    else:
        socket = state_dir / "chatthy.sock"
    return Paths(config_dir, data_dir, state_dir, socket)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700: it holds keys or the socket."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path
