"""What every command gets: the chosen profile and a lazily connected client."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatthy.client import Client
from chatthy.paths import Paths, resolve


@dataclass
class AppContext:
    profile: str | None = None
    autostart: bool = True
    paths: Paths = field(default_factory=resolve)
    _client: Client | None = None

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
