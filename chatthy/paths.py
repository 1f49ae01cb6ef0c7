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

APP = "chatthy"

# Files under the four roots: attribute name -> (root, file name).
_FILES = {
    "config_file": ("config_dir", "config.toml"),
    "database": ("data_dir", "chatthy.db"),
    "log_file": ("state_dir", "daemon.log"),
    "pid_file": ("state_dir", "daemon.pid"),
    "autostart_lock": ("state_dir", "autostart.lock"),
    "client_state": ("state_dir", "client.json"),  # small client-side state: current profile and chat
    "repl_history": ("state_dir", "repl_history"),
    "keys_dir": ("config_dir", ""),
}
_ROOTS = ("config_dir", "data_dir", "state_dir", "socket")


def _home() -> str:
    return os.path.expanduser("~")


def _xdg(var: str, fallback: str) -> str:
    value = os.environ.get(var, "")
    # XDG says relative paths are invalid and must be ignored.
    if value and os.path.isabs(value):
        return value
    return os.path.join(_home(), fallback)


class Paths:
    """Where one chatthy instance keeps its files.

    ``paths.config_dir``, ``paths.config_file``, ``paths.socket``… are pathlib
    Paths, made on first use. The client's hot path (``chatthy ask``, ``chat
    list``) asks for strings instead, ``paths.fs("socket")``, and so never
    imports pathlib: that import costs every start ~4 ms.
    """

    __slots__ = ("_roots",)

    def __init__(self, config_dir, data_dir, state_dir, socket) -> None:
        self._roots = dict(zip(_ROOTS, map(os.fspath, (config_dir, data_dir, state_dir, socket))))

    def fs(self, name: str) -> str:
        """The path called ``name`` (a root or a file: see _FILES) as a string."""
        if name in self._roots:
            return self._roots[name]
        root, leaf = _FILES[name]
        return os.path.join(self._roots[root], leaf) if leaf else self._roots[root]

    def __getattr__(self, name: str):
        if name in _ROOTS or name in _FILES:
            from pathlib import Path

            return Path(self.fs(name))
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Paths) and self._roots == other._roots

    def __hash__(self) -> int:
        return hash(tuple(self._roots.values()))

    def __repr__(self) -> str:
        return "Paths(" + ", ".join(f"{k}={v!r}" for k, v in self._roots.items()) + ")"


def resolve() -> Paths:
    env = os.environ
    if sys.platform == "darwin":
        support = os.path.join(_home(), "Library", "Application Support", APP)
        default_config, default_data = support, support
        default_state = os.path.join(_home(), "Library", "Logs", APP)
    else:
        default_config = os.path.join(_xdg("XDG_CONFIG_HOME", ".config"), APP)
        default_data = os.path.join(_xdg("XDG_DATA_HOME", ".local/share"), APP)
        default_state = os.path.join(_xdg("XDG_STATE_HOME", ".local/state"), APP)

    config_dir = env.get("CHATTHY_CONFIG_DIR") or default_config
    data_dir = env.get("CHATTHY_DATA_DIR") or default_data
    state_dir = env.get("CHATTHY_STATE_DIR") or default_state

    if env.get("CHATTHY_SOCKET"):
        socket = env["CHATTHY_SOCKET"]
    elif env.get("CHATTHY_STATE_DIR"):
        # An instance with its own state dir gets its own socket too.
        socket = os.path.join(state_dir, "chatthy.sock")
    elif env.get("XDG_RUNTIME_DIR") and os.path.isabs(env["XDG_RUNTIME_DIR"]):
        socket = os.path.join(env["XDG_RUNTIME_DIR"], APP, "chatthy.sock")
    else:
        socket = os.path.join(state_dir, "chatthy.sock")
    return Paths(config_dir, data_dir, state_dir, socket)


def ensure_private_dir(path):
    """Create ``path`` (and parents) and make it 0700: it holds keys or the socket."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path
