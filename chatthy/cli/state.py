"""Client-side memory: the current profile and chat (``chat use``).

Kept per machine in the state dir, not in the daemon: two machines talking to
one daemon over TCP each have their own "current".
"""

from __future__ import annotations

import os

from chatthy.paths import Paths, ensure_private_dir
from chatthy.wire.json_codec import dumps, loads


class ClientState:
    # A plain class: every client start loads it, and dataclasses costs milliseconds to import.
    def __init__(self, profile: str = "default", chat: str | None = None) -> None:
        self.profile = profile
        self.chat = chat

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientState) and (self.profile, self.chat) == (other.profile, other.chat)

    def __repr__(self) -> str:
        return f"ClientState(profile={self.profile!r}, chat={self.chat!r})"

    @classmethod
    def load(cls, paths: Paths) -> ClientState:
        try:
            with open(paths.fs("client_state"), encoding="utf-8") as fh:
                raw = loads(fh.read())
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        profile = raw.get("profile") if isinstance(raw.get("profile"), str) else "default"
        chat = raw.get("chat") if isinstance(raw.get("chat"), str) else None
        return cls(profile or "default", chat)

    def save(self, paths: Paths) -> None:
        # Strings, not pathlib: every `ask` that starts a chat saves it, on the fast path.
        ensure_private_dir(paths.fs("state_dir"))
        target = paths.fs("client_state")
        tmp = target + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(dumps({"profile": self.profile, "chat": self.chat}))
        os.replace(tmp, target)

    @classmethod
    def remember(cls, paths: Paths, profile: str | None, chat: str) -> None:
        """``chat`` (in ``profile``; None: the current one) is where the user last
        was: ``ask -C`` continues it.

        Only within the current profile: an ask with another ``--profile`` does
        not switch the current one behind the user's back.
        """
        state = cls.load(paths)
        if (profile is None or state.profile == profile) and state.chat != chat:
            state.chat = chat
            state.save(paths)
