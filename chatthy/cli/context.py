"""What every command gets: the chosen profile and a lazily connected client."""

from __future__ import annotations

from chatthy.client import Client
from chatthy.paths import Paths, resolve


class AppContext:
    # A plain class, not a dataclass: importing dataclasses (and inspect with
    # it) costs the fast path several milliseconds of every start.
    def __init__(self, profile: str | None = None, autostart: bool = True, paths: Paths | None = None) -> None:
        self.profile = profile
        self.autostart = autostart
        self.paths = paths if paths is not None else resolve()
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.paths, autostart=self.autostart)
        return self._client

    def current_profile(self) -> str:
        from chatthy.cli.state import ClientState

        return self.profile or ClientState.load(self.paths).profile

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
