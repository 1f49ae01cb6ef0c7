"""Client-side memory: the current profile and chat (``chat use``).

Kept per machine in the state dir, not in the daemon: two machines talking to
one daemon over TCP each have their own "current".
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from chatthy.paths import Paths, ensure_private_dir


@dataclass
class ClientState:
    profile: str = "default"
    chat: str | None = None

    @classmethod
    def load(cls, paths: Paths) -> ClientState:
        try:
            raw = json.loads(paths.client_state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        profile = raw.get("profile") if isinstance(raw.get("profile"), str) else "default"
        chat = raw.get("chat") if isinstance(raw.get("chat"), str) else None
        return cls(profile or "default", chat)

    def save(self, paths: Paths) -> None:
        ensure_private_dir(paths.state_dir)
        tmp = paths.client_state.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self)), encoding="utf-8")
        os.replace(tmp, paths.client_state)
