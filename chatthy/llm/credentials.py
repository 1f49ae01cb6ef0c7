"""Find a provider's API key: an environment variable or a command's output.

``api_key_env`` wins when that variable is set, so a user can override a
key manager for one shell; otherwise ``api_key_cmd`` runs (without a shell,
10 s limit) and the first line of its output is the key. Key values never
appear in messages or logs; a failing command is reported by its own stderr.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from typing import TYPE_CHECKING

from chatthy.errors import ConfigError

if TYPE_CHECKING:
    from .base import ProviderSettings

KEY_CMD_TIMEOUT = 10.0
# Sent to servers that need no key (tabbyAPI, Ollama, llama.cpp): the SDKs
# refuse to build a client without one.
NO_KEY = "none"


def resolve_api_key(settings: ProviderSettings) -> str:
    """The API key for ``settings``, or ``NO_KEY`` when none is needed."""
    env_name = getattr(settings, "api_key_env", None)
    if env_name:
        value = os.environ.get(env_name, "").strip()
        if value:
            return value
    cmd = getattr(settings, "api_key_cmd", None)
    if cmd:
        return _run_key_cmd(settings.name, cmd)
    if not getattr(settings, "key_required", True):
        return NO_KEY
    section = f"[providers.{settings.name}]"
    if env_name:
        raise ConfigError(
            f"{env_name} is not set: export {env_name}=…, "
            f"or set api_key_cmd under {section} in config.toml"
        )
    raise ConfigError(
        f"provider '{settings.name}' has no API key: set api_key_env or api_key_cmd "
        f"under {section} in config.toml (or key_required = false for a local server)"
    )


def _run_key_cmd(provider: str, cmd: str) -> str:
    where = f"api_key_cmd of provider '{provider}'"
    try:
        argv = shlex.split(cmd)
    except ValueError as exc:
        raise ConfigError(f"{where} cannot be parsed ({exc}): {cmd}") from exc
    if not argv:
        raise ConfigError(f"{where} is empty")
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=KEY_CMD_TIMEOUT,
                              stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError as exc:
        raise ConfigError(f"{where} failed: `{cmd}`: command not found: {argv[0]}") from exc
    except PermissionError as exc:
        raise ConfigError(f"{where} failed: `{cmd}`: permission denied: {argv[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"{where} failed: `{cmd}` did not finish within {KEY_CMD_TIMEOUT:g} s") from exc
    except OSError as exc:
        raise ConfigError(f"{where} failed: `{cmd}`: {exc.strerror or exc}") from exc
    if proc.returncode != 0:
        raise ConfigError(f"{where} failed: `{cmd}` exited with status {proc.returncode}"
                          + _stderr_tail(proc.stderr))
    lines = proc.stdout.splitlines()
    key = lines[0].strip() if lines else ""
    if not key:
        raise ConfigError(f"{where} failed: `{cmd}` printed no key" + _stderr_tail(proc.stderr))
    return key


def _stderr_tail(stderr: str | None) -> str:
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    return f": {lines[-1]}" if lines else ""
