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
    max_connections = 512           # open connections, all clients together
    max_streams_per_client = 128    # streaming requests in flight per client key
    send_timeout = 60               # s a client may leave a frame unread before it is cut off
    provider_workers = 1            # processes provider streams run in (0: in the daemon)
    [client]
    autostart = true                # start the daemon when none answers
    connect = ""                    # "tcp://HOST:PORT": a daemon on another machine
    daemon_key = ""                 # that daemon's public key (`chatthy keys show` there)
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
from chatthy.tools.settings import (
    ImageSettings, McpServerSettings, ToolsSettings, parse_images, parse_mcp, parse_tools,
)
from chatthy.vdb.settings import VdbSettings, parse_vdb

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
# vision = true                   # false for a text-only model: attached images are refused
# [providers.openai.params]       # passed to the API as is
# temperature = 0.7
# [providers.openai.prices]       # USD per million [input, output] tokens, for `chatthy usage`
# "gpt-4o-mini" = [0.15, 0.60]

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
# max_connections = 512           # open connections, all clients together
# max_streams_per_client = 128    # streaming requests in flight per client key
# send_timeout = 60               # seconds a client may leave a frame unread
# provider_workers = 1            # processes that stream from providers, beside the
#                                 # daemon's own (0: stream inside the daemon, one process)

# [client]
# autostart = true                # start the daemon when none answers
# connect = "tcp://host:8765"     # use a daemon on another machine (or env CHATTHY_CONNECT)
# daemon_key = ""                 # its public key: `chatthy keys show` on that machine

# [chat]
# truncation = "drop"             # "drop" oldest turns, or "summarise" them

# [sources]                       # files, URLs, PDFs, YouTube (ws load, ask --file, summarize)
# timeout = 30                    # seconds for a whole URL fetch
# connect_timeout = 10
# max_size_mb = 10                # larger files and pages are refused
# max_redirects = 5
# user_agent = "chatthy/…"
# youtube_languages = ["en"]      # transcript languages, in order of preference
# allow_private_urls = false      # true: TCP clients and the model's fetch_url may fetch loopback,
#                                 # private and link-local addresses (169.254.169.254…) too

# [tools]                         # tools the model may call (`chatthy tools list`)
# max_rounds = 8                  # tool rounds per reply; then the reply stops, with a message
# default = []                    # tools on in chats that set none, e.g. ["calculator", "current_time"]
# approval_timeout = 120          # seconds to wait for your yes/no before a confirm tool counts as refused
# max_result_tokens = 4000        # longer tool results are cut

# [tools.user.grep_notes]         # your own tool: a command run WITHOUT a shell
# description = "Search my notes for a regular expression"
# command = ["grep", "-rn", "--", "{pattern}", "/home/me/notes"]
# input = "argv"                  # "{name}" in command elements ← arguments; "stdin": arguments as JSON on stdin
# parameters = { type = "object", properties = { pattern = { type = "string" } }, required = ["pattern"] }
# timeout = 30                    # seconds, then it is killed
# max_output_kb = 64
# confirm = true                  # ask before every run (y/n/always)

# [mcp.files]                     # an MCP tool server over stdio, started once by the daemon
# command = ["npx", "-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]
# timeout = 60                    # seconds per call
# confirm = false                 # ask before every call of its tools

# [images]                        # ask -a photo.png
# max_mb = 5                      # per image
# max_per_message = 8

# [vdb]                           # the vector store (`chatthy vdb …`) and `ask --rag`
# embedder = "local"              # bundled all-MiniLM-L6-v2, offline; or a provider NAME whose
#                                 # OpenAI-compatible /v1/embeddings is used (then set model)
# model = ""                      # e.g. "text-embedding-3-small" (with a provider embedder)
# chunk_size = 200                # tokens per chunk (at most 240 with the local embedder)
# chunk_overlap = 30              # tokens shared by consecutive chunks of a section
# rag_share = 0.25                # share of the prompt budget `ask --rag` may fill
# rag_max_chunks = 8              # and at most this many chunks
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
    "vision": bool,
    "prices": dict,
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
    vision: bool = True  # false: a text-only model; attached images are refused
    # model (or "*") -> [USD per million input tokens, per million output tokens]
    prices: dict = field(default_factory=dict)


MAX_PROVIDER_WORKERS = 16


@dataclass(frozen=True)
class Config:
    path: Path
    default_provider: str
    providers: dict[str, ProviderConfig]
    tcp: str = ""
    autostart: bool = True
    connect: str = ""  # "" (the local Unix socket) or "tcp://HOST:PORT"
    daemon_key: str = ""  # the remote daemon's public key, hex
    max_connections: int = 512
    max_streams_per_client: int = 128
    send_timeout: float = 60.0
    provider_workers: int = 1  # chatthy/llm/worker_link.py says why
    truncation: str = "drop"
    sources: dict = field(default_factory=dict)  # [sources], read by chatthy.sources.SourceSettings
    tools: ToolsSettings = field(default_factory=ToolsSettings)  # [tools], [tools.user.NAME]
    mcp: dict[str, McpServerSettings] = field(default_factory=dict)  # [mcp.NAME]
    images: ImageSettings = field(default_factory=ImageSettings)  # [images]
    vdb: VdbSettings = field(default_factory=VdbSettings)  # [vdb]: the vector store and ask --rag

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
    for model, price in raw.get("prices", {}).items():
        if not (isinstance(price, list) and len(price) == 2
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in price)):
            raise check.fail(f"{table}.prices", model, "must be [input, output] USD per million tokens")
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
    known_top = {"default_provider", "providers", "daemon", "client", "chat", "sources"}
    known_top |= {"tools", "mcp", "images"}
    known_top |= {"vdb"}
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
            want = allowed[key]
            if not isinstance(value, want) or (isinstance(value, bool) and want is not bool):
                names = want.__name__ if isinstance(want, type) else " or ".join(t.__name__ for t in want)
                raise check.fail(name, key, f"must be {names}")
        return raw

    daemon = section("daemon", {"tcp": str, "max_connections": int, "max_streams_per_client": int,
                                "send_timeout": (int, float), "provider_workers": int})
    client = section("client", {"autostart": bool, "connect": str, "daemon_key": str})
    _check_connection_settings(daemon, client, check)
    chat = section("chat", {"truncation": str})
    sources = _sources_section(data, check)
    truncation = chat.get("truncation", "drop")
    if truncation not in TRUNCATION:
        raise check.fail("chat", "truncation", f"must be one of {', '.join(TRUNCATION)}")
    return Config(
        path=path,
        default_provider=default_provider,
        providers=providers,
        tcp=daemon.get("tcp", ""),
        autostart=client.get("autostart", True),
        connect=client.get("connect", "").strip(),
        daemon_key=client.get("daemon_key", "").strip().lower(),
        max_connections=daemon.get("max_connections", 512),
        max_streams_per_client=daemon.get("max_streams_per_client", 128),
        send_timeout=float(daemon.get("send_timeout", 60.0)),
        provider_workers=daemon.get("provider_workers", 1),
        truncation=truncation,
        sources=sources,
        tools=parse_tools(data.get("tools"), check.fail),
        mcp=parse_mcp(data.get("mcp"), check.fail),
        images=parse_images(data.get("images"), check.fail),
        vdb=parse_vdb(data.get("vdb"), check.fail, providers),
    )


def _check_connection_settings(daemon: dict, client: dict, check: _Checker) -> None:
    for key in ("max_connections", "max_streams_per_client", "send_timeout"):
        if key in daemon and daemon[key] <= 0:
            raise check.fail("daemon", key, "must be positive")
    if not 0 <= daemon.get("provider_workers", 1) <= MAX_PROVIDER_WORKERS:
        raise check.fail("daemon", "provider_workers", f"must be 0 to {MAX_PROVIDER_WORKERS}")
    connect = client.get("connect", "").strip()
    if connect and not re.fullmatch(r"tcp://(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):\d{1,5}", connect):
        raise check.fail("client", "connect", "must be \"tcp://HOST:PORT\" (or empty for the local daemon)")
    key = client.get("daemon_key", "").strip()
    if key and not re.fullmatch(r"[0-9a-fA-F]{64}", key):
        raise check.fail("client", "daemon_key", "must be the daemon's public key: 64 hex characters")


def _sources_section(data: dict, check: _Checker) -> dict:
    from chatthy.sources.settings import check_config

    raw = data.get("sources", {})
    if not isinstance(raw, dict):
        raise check.fail(None, "sources", "must be a table")
    problem = check_config(raw)
    if problem is not None:
        key, _, reason = problem.partition(": ")
        raise check.fail("sources", key, reason)
    return dict(raw)


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
