"""Installing the daemon as a user service and asking the service manager about it.

systemd (``systemctl --user``) on Linux, launchd (``launchctl``) on macOS. When
the manager's command is missing (a container, a minimal system), nothing is
run: the files are still written and the user is told what to run. The daemon
never depends on any of this: without a service the clients start it
themselves (autostart).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from chatthy.cli import service_files as sf
from chatthy.errors import DaemonUnavailable
from chatthy.paths import Paths

MANAGER_TIMEOUT = 30.0


@dataclass
class UserService:
    paths: Paths
    manager: str  # "systemd" | "launchd"

    @classmethod
    def here(cls, paths: Paths, manager: str | None = None) -> UserService:
        return cls(paths, manager or sf.default_manager())

    # -- files ------------------------------------------------------------------------
    @property
    def service_file(self) -> Path:
        if self.manager == "launchd":
            return sf.launchd_agent_path()
        return sf.systemd_user_dir() / sf.SERVICE_UNIT

    @property
    def socket_file(self) -> Path | None:
        return None if self.manager == "launchd" else sf.systemd_user_dir() / sf.SOCKET_UNIT

    def render(self, *, socket_activated: bool) -> dict[Path, str]:
        """The files to write, path → text."""
        spec = sf.spec_for(self.paths)
        if self.manager == "launchd":
            return {self.service_file: sf.launchd_plist(spec)}
        files = {self.service_file: sf.systemd_service(spec, socket_activated=socket_activated)}
        if socket_activated:
            files[self.socket_file] = sf.systemd_socket(spec)
        return files

    def installed(self) -> bool:
        return self.service_file.exists()

    def socket_activated(self) -> bool:
        return self.socket_file is not None and self.socket_file.exists()

    def installed_files(self) -> list[Path]:
        return [p for p in (self.service_file, self.socket_file) if p is not None and p.exists()]

    # -- the manager's commands ---------------------------------------------------------
    @property
    def tool(self) -> str:
        return "launchctl" if self.manager == "launchd" else "systemctl"

    def tool_path(self) -> str | None:
        return shutil.which(self.tool)

    def _domain(self) -> str:
        return f"gui/{os.getuid()}"

    def enable_commands(self, *, socket_activated: bool) -> list[list[str]]:
        if self.manager == "launchd":
            return [["launchctl", "bootstrap", self._domain(), str(self.service_file)]]
        unit = sf.SOCKET_UNIT if socket_activated else sf.SERVICE_UNIT
        return [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", unit]]

    def disable_commands(self) -> list[list[str]]:
        if self.manager == "launchd":
            return [["launchctl", "bootout", f"{self._domain()}/{sf.LAUNCHD_LABEL}"]]
        units = [p.name for p in self.installed_files()]
        return [["systemctl", "--user", "disable", "--now", *units]] if units else []

    def reload_commands(self) -> list[list[str]]:
        return [] if self.manager == "launchd" else [["systemctl", "--user", "daemon-reload"]]

    def start_commands(self) -> list[list[str]]:
        if self.manager == "launchd":
            return [["launchctl", "kickstart", f"{self._domain()}/{sf.LAUNCHD_LABEL}"]]
        return [["systemctl", "--user", "start", sf.SERVICE_UNIT]]

    def run(self, argv: list[str]) -> None:
        """Run one manager command; its own message becomes ours when it fails."""
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=MANAGER_TIMEOUT,
                                  stdin=subprocess.DEVNULL, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DaemonUnavailable(f"`{shlex.join(argv)}` failed: {exc}") from exc
        if proc.returncode != 0:
            reason = (proc.stderr or proc.stdout).strip().splitlines()
            raise DaemonUnavailable(f"`{shlex.join(argv)}` failed (exit {proc.returncode})"
                                    + (f": {reason[-1]}" if reason else ""))

    def query(self) -> dict:
        """What the manager says about the service (cheap; never raises)."""
        info = {"manager": self.manager, "installed": self.installed(),
                "socket_activated": self.socket_activated(), "file": str(self.service_file),
                "enabled": None, "active": None}
        if not info["installed"] or self.tool_path() is None:
            return info
        if self.manager == "launchd":
            code, out = _quietly(["launchctl", "print", f"{self._domain()}/{sf.LAUNCHD_LABEL}"])
            info["enabled"] = "loaded" if code == 0 else "not loaded"
            state = [l.split("=", 1)[1].strip() for l in out.splitlines() if l.strip().startswith("state =")]
            info["active"] = state[0] if code == 0 and state else None
            return info
        unit = sf.SOCKET_UNIT if info["socket_activated"] else sf.SERVICE_UNIT
        info["enabled"] = _quietly(["systemctl", "--user", "is-enabled", unit])[1].strip() or None
        info["active"] = _quietly(["systemctl", "--user", "is-active", sf.SERVICE_UNIT])[1].strip() or None
        return info


def _quietly(argv: list[str]) -> tuple[int | None, str]:
    """(exit status, stdout) of a short query; (None, "") if it cannot run or hangs."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=5, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None, ""
    return proc.returncode, proc.stdout


def write_service_file(path: Path, text: str) -> None:
    """Write a unit or plist atomically (0644, as the managers expect); creates its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
