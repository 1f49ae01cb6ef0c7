"""config.toml: loading, defaults and validation.

The schema is public (scripts rely on it)::

    default_provider = "openai"

    [providers.openai]
    kind = "openai"                 # "openai" (any OpenAI-compatible server) or "anthropic"
    base_url = "https://…/v1"       # optional
    api_key_env = "OPENAI_API_KEY"  # or api_key_cmd = "pass show openai"
    model = "gpt-4o-mini"
    context_length = 128000
    max_tokens = 4096
    [providers.openai.params]       # passed to the API (temperature, …)

    [daemon]
    tcp = ""                        # "HOST:PORT" to listen on TCP as well
    [client]
    autostart = true                # start the daemon when none answers
    [chat]
    truncation = "drop"             # or "summarise"

Shipped defaults (openai, anthropic, tabby, ollama) are merged under the user's
file field by field, so ``[providers.openai] model = "gpt-4.1"`` changes just
the model. An invalid file is refused with its path, the line and the reason.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatthy.errors import ConfigError

KINDS = ("openai", "anthropic")
TRUNCATION = ("drop", "summarise")

DEFAULT_PROVIDERS: dict[str, dict[str, Any]] = {
    "openai": {
        "kind": "openai",
        "api_key_env": "OPENAI_API_KEY",
        "model": "gpt-4o-mini",
        "context_length": 128000,
        "max_tokens": 4096,
    },
    "anthropic": {
        "kind": "anthropic",
        "api_key_env": "ANTHROPIC_API_KEY",
        "model": "claude-sonnet-4-5",
        "context_length": 200000,
        "max_tokens": 8192,
    },
    "tabby": {
        "kind": "openai",
        "base_url": "http://127.0.0.1:5000/v1",
        "api_key_env": "TABBY_API_KEY",
        "model": "default",
        "context_length": 32768,
        "max_tokens": 2048,
        "key_required": False,
    },
    "ollama": {
        "kind": "openai",
        "base_url": "http://127.0.0.1:11434/v1",
        "model": "llama3.2",
        "context_length": 8192,
        "max_tokens": 2048,
        "key_required": False,
    },
}

DEFAULT_CONFIG_TEXT = """\
# chatthy configuration. Every setting below is a default: uncomment to change.
# Reference: `man chatthy` (FILES) or README.md.

# default_provider = "openai"

# [providers.openai]
# kind = "openai"                 # "openai" (also any OpenAI-compatible server) or "anthropic"
# base_url = "https://api.openai.com/v1"
# api_key_env = "OPENAI_API_KEY"  # or: api_key_cmd = "pass show openai"
# model = "gpt-4o-mini"
# context_length = 128000
# max_tokens = 4096
# [providers.openai.params]       # passed to the API as is
# temperature = 0.7

# [providers.anthropic]
# kind = "anthropic"
# api_key_env = "ANTHROPIC_API_KEY"
# model = "claude-sonnet-4-5"
# context_length = 200000
# max_tokens = 8192

# A local tabbyAPI / Ollama / llama.cpp / vLLM server speaks the OpenAI API:
# [providers.tabby]
# kind = "openai"
# base_url = "http://127.0.0.1:5000/v1"
# api_key_env = "TABBY_API_KEY"
# model = "default"
# context_length = 32768
# max_tokens = 2048

# [providers.ollama]
# kind = "openai"
# base_url = "http://127.0.0.1:11434/v1"
# model = "llama3.2"
# context_length = 8192
# max_tokens = 2048

# [daemon]
# tcp = ""                        # "HOST:PORT" to also listen on TCP (encrypted)

# [client]
# autostart = true                # start the daemon when none answers

# [chat]
# truncation = "drop"             # "drop" oldest turns, or "summarise" them
"""

_PROVIDER_FIELDS: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "base_url": str,
    "api_key_env": str,
    "api_key_cmd": str,
    "model": str,
    "context_length": int,
    "max_tokens": int,
    "params": dict,
    "timeout": (int, float),
    "connect_timeout": (int, float),
    "max_retries": int,
    "key_required": bool,
}


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    kind: str
    model: str
    context_length: int
    max_tokens: int
    base_url: str | None = None
    api_key_env: str | None = None
    api_key_cmd: str | None = None
    params: dict = field(default_factory=dict)
    timeout: float = 120.0
    connect_timeout: float = 10.0
    max_retries: int = 2
    key_required: bool = True


@dataclass(frozen=True)
class Config:
    path: Path
    default_provider: str
    providers: dict[str, ProviderConfig]
    tcp: str = ""
    autostart: bool = True
    truncation: str = "drop"

    def provider(self, name: str | None) -> ProviderConfig:
        from chatthy.errors import NotFound

        key = name or self.default_provider
        try:
            return self.providers[key]
        except KeyError:
            known = ", ".join(sorted(self.providers))
            raise NotFound(f"unknown provider {key!r} (configured: {known})") from None


def _line_of(text: str, table: str | None, key: str) -> int | None:
    """Best-effort line number of ``key`` inside ``[table]`` (for error messages)."""
    lines = text.splitlines()
    in_table = table is None
    header = re.compile(r"^\s*\[\s*(?P<name>[^\]]+?)\s*\]\s*(#.*)?$")
    for number, line in enumerate(lines, 1):
        m = header.match(line)
        if m:
            name = m.group("name").replace('"', "").replace("'", "")
            in_table = table is not None and name == table
            if table is not None and in_table and key == "":
                return number
            continue
        if in_table and re.match(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
    return None


class _Checker:
    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text

    def fail(self, table: str | None, key: str, reason: str) -> ConfigError:
        line = _line_of(self.text, table, key) or _line_of(self.text, table, "")
        where = f"{self.path}" + (f":{line}" if line else "")
        dotted = ".".join(p for p in (table, key) if p)
        return ConfigError(f"{where}: {dotted}: {reason}")


def _provider(name: str, raw: dict, check: _Checker) -> ProviderConfig:
    table = f"providers.{name}"
    for key, value in raw.items():
        if key not in _PROVIDER_FIELDS:
            raise check.fail(table, key, f"unknown setting (known: {', '.join(_PROVIDER_FIELDS)})")
        want = _PROVIDER_FIELDS[key]
        if isinstance(value, bool) and want is not bool:
            raise check.fail(table, key, "must not be a boolean")
        if not isinstance(value, want):
            names = want.__name__ if isinstance(want, type) else " or ".join(t.__name__ for t in want)
            raise check.fail(table, key, f"must be {names}, not {type(value).__name__}")
    for key in ("kind", "model", "context_length", "max_tokens"):
        if key not in raw:
            raise check.fail(table, "", f"missing required setting {key!r}")
    if raw["kind"] not in KINDS:
        raise check.fail(table, "kind", f"must be one of {', '.join(KINDS)}, not {raw['kind']!r}")
    for key in ("context_length", "max_tokens", "timeout", "connect_timeout"):
        if key in raw and raw[key] <= 0:
            raise check.fail(table, key, "must be positive")
    if raw["max_tokens"] >= raw["context_length"]:
        raise check.fail(table, "max_tokens", "must be smaller than context_length")
    if raw.get("max_retries", 0) < 0:
        raise check.fail(table, "max_retries", "must be 0 or more")
    if "api_key_env" in raw and "api_key_cmd" in raw:
        raise check.fail(table, "api_key_cmd", "set api_key_env or api_key_cmd, not both")
    if not raw["model"].strip():
        raise check.fail(table, "model", "must not be empty")
    return ProviderConfig(name=name, **{k: v for k, v in raw.items()})


def parse(text: str, path: Path) -> Config:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already carries "(at line N, column M)".
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    check = _Checker(path, text)
    known_top = {"default_provider", "providers", "daemon", "client", "chat"}
    for key in data:
        if key not in known_top:
            raise check.fail(None, key, f"unknown setting (known: {', '.join(sorted(known_top))})")

    user_providers = data.get("providers", {})
    if not isinstance(user_providers, dict):
        raise check.fail(None, "providers", "must be a table")
    providers: dict[str, ProviderConfig] = {}
    for name in {**DEFAULT_PROVIDERS, **user_providers}:
        user = user_providers.get(name, {})
        if not isinstance(user, dict):
            raise check.fail("providers", name, "must be a table")
        if name in DEFAULT_PROVIDERS and "kind" in user and user["kind"] != DEFAULT_PROVIDERS[name]["kind"]:
            merged = dict(user)  # a different kind replaces the shipped entry whole
        else:
            merged = {**DEFAULT_PROVIDERS.get(name, {}), **user}
        providers[name] = _provider(name, merged, check)

    default_provider = data.get("default_provider", "openai")
    if not isinstance(default_provider, str) or default_provider not in providers:
        raise check.fail(None, "default_provider", f"no provider named {default_provider!r} is configured")

    def section(name: str, allowed: dict[str, type]) -> dict:
        raw = data.get(name, {})
        if not isinstance(raw, dict):
            raise check.fail(None, name, "must be a table")
        for key, value in raw.items():
            if key not in allowed:
                raise check.fail(name, key, f"unknown setting (known: {', '.join(allowed)})")
            if not isinstance(value, allowed[key]):
                raise check.fail(name, key, f"must be {allowed[key].__name__}")
        return raw

    daemon = section("daemon", {"tcp": str})
    client = section("client", {"autostart": bool})
    chat = section("chat", {"truncation": str})
    truncation = chat.get("truncation", "drop")
    if truncation not in TRUNCATION:
        raise check.fail("chat", "truncation", f"must be one of {', '.join(TRUNCATION)}")
    return Config(
        path=path,
        default_provider=default_provider,
        providers=providers,
        tcp=daemon.get("tcp", ""),
        autostart=client.get("autostart", True),
        truncation=truncation,
    )


def load(path: Path, *, create: bool = True) -> Config:
    """Read config.toml, creating a commented default file when it is missing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if create:
            write_default(path)
        text = ""
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse(text, path)


def write_default(path: Path, *, force: bool = False) -> bool:
    """Write the commented default config; never overwrites unless ``force``."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(DEFAULT_CONFIG_TEXT)
    return True
