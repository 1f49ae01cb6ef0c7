"""How the daemon fetches sources: the ``[sources]`` section of config.toml.

    [sources]
    timeout = 30                  # seconds for a whole fetch (redirects and body included)
    connect_timeout = 10          # seconds to open a connection
    max_size_mb = 10              # larger files, pages and PDFs are refused
    max_redirects = 5
    user_agent = "chatthy/0.1 (+https://github.com/chatthy)"
    youtube_languages = ["en"]    # transcript languages, in order of preference
    allow_private_urls = false    # true: anyone (TCP clients, the model's fetch_url) may fetch
                                  # loopback, private and link-local addresses

By default a URL whose host resolves to a non-public address is fetched only
for an explicit request (ws load, ask --file, summarize, vdb ingest) from a
client on the daemon's own Unix socket; see chatthy.sources.address_policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatthy import __version__

DEFAULT_MAX = 10 * 1024 * 1024
DEFAULT_USER_AGENT = f"chatthy/{__version__} (terminal LLM chat; +https://pypi.org/project/chatthy/)"

# What config.toml may hold under [sources], and the type of each.
CONFIG_FIELDS: dict[str, type | tuple[type, ...]] = {
    "timeout": (int, float),
    "connect_timeout": (int, float),
    "max_size_mb": (int, float),
    "max_redirects": int,
    "user_agent": str,
    "youtube_languages": list,
    "allow_private_urls": bool,
}


@dataclass(frozen=True)
class SourceSettings:
    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_bytes: int = DEFAULT_MAX
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    youtube_languages: tuple[str, ...] = ("en",)
    allow_private_urls: bool = False

    @classmethod
    def from_mapping(cls, raw: dict[str, Any] | None) -> SourceSettings:
        raw = raw or {}
        kw: dict[str, Any] = {}
        for key in ("timeout", "connect_timeout"):
            if key in raw:
                kw[key] = float(raw[key])
        if "max_size_mb" in raw:
            kw["max_bytes"] = int(float(raw["max_size_mb"]) * 1024 * 1024)
        if "max_redirects" in raw:
            kw["max_redirects"] = int(raw["max_redirects"])
        if raw.get("user_agent"):
            kw["user_agent"] = str(raw["user_agent"])
        if raw.get("youtube_languages"):
            kw["youtube_languages"] = tuple(str(x) for x in raw["youtube_languages"])
        if "allow_private_urls" in raw:
            kw["allow_private_urls"] = raw["allow_private_urls"] is True
        return cls(**kw)

    @classmethod
    def of(cls, settings: Any) -> SourceSettings:
        """Accept a SourceSettings, a Config (its ``sources`` table), a dict, or None."""
        if isinstance(settings, SourceSettings):
            return settings
        if settings is None:
            return cls()
        if isinstance(settings, dict):
            return cls.from_mapping(settings)
        return cls.from_mapping(getattr(settings, "sources", None))


def check_config(raw: dict[str, Any]) -> str | None:
    """Why a ``[sources]`` table is invalid (key: reason), or None. For config.py."""
    for key, value in raw.items():
        if key not in CONFIG_FIELDS:
            return f"{key}: unknown setting (known: {', '.join(CONFIG_FIELDS)})"
        want = CONFIG_FIELDS[key]
        if (isinstance(value, bool) and want is not bool) or not isinstance(value, want):
            names = want.__name__ if isinstance(want, type) else " or ".join(t.__name__ for t in want)
            return f"{key}: must be {names}"
        if key in ("timeout", "connect_timeout", "max_size_mb") and value <= 0:
            return f"{key}: must be positive"
        if key == "max_redirects" and value < 0:
            return f"{key}: must be 0 or more"
        if key == "youtube_languages" and not all(isinstance(x, str) and x for x in value):
            return f"{key}: must be a list of language codes such as [\"en\", \"de\"]"
    return None
