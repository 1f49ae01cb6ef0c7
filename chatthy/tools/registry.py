"""What a tool is, and the daemon's table of them: built-ins, user tools, MCP tools.

A tool has a ``ToolSpec`` (name, description, JSON-schema parameters: what
the model sees) and an async ``run(arguments, ctx) -> ToolResult``. A tool
that fails raises ``ToolError``: its message goes back to the model as an
error result (the model can retry or explain), never up to the user as a
crash. Tool names follow both APIs' rule (``^[A-Za-z0-9_-]{1,64}$``); MCP
tools are named ``server__tool``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from chatthy.errors import BadRequest

if TYPE_CHECKING:
    from chatthy.server.daemon import Daemon

ALL, NONE = "all", "none"


class ToolError(Exception):
    """A tool could not do what was asked; the message is for the model."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict
    source: str = "builtin"  # "builtin" | "user" | "mcp:SERVER"
    confirm: bool = False  # ask the attached client before each run

    def for_request(self) -> dict:
        """The neutral tool definition a ChatRequest carries."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters,
                "source": self.source, "confirm": self.confirm}


@dataclass
class ToolResult:
    text: str
    is_error: bool = False


@dataclass
class ToolContext:
    """What a running tool may look at: the daemon, and the profile and chat it works for."""

    daemon: Daemon
    profile: Any  # chatthy.store.models.Profile
    chat: Any  # chatthy.store.models.Chat
    extra: dict = field(default_factory=dict)


class Tool(Protocol):
    spec: ToolSpec

    async def run(self, arguments: dict, ctx: ToolContext) -> ToolResult: ...


_JSON_TYPES = {
    "string": str, "integer": int, "number": (int, float), "boolean": bool,
    "object": dict, "array": list, "null": type(None),
}


def check_arguments(spec: ToolSpec, arguments: dict) -> None:
    """A light check against the schema's top level: required names present, simple types right.

    Enough to give the model a precise error to correct; the tool itself
    still treats its input as untrusted.
    """
    schema = spec.parameters or {}
    props = schema.get("properties") or {}
    missing = [name for name in schema.get("required") or () if name not in arguments]
    if missing:
        raise ToolError(f"missing required argument(s): {', '.join(missing)}")
    if schema.get("additionalProperties") is False:
        extra = sorted(set(arguments) - set(props))
        if extra:
            raise ToolError(f"unknown argument(s): {', '.join(extra)} (known: {', '.join(props) or 'none'})")
    for name, value in arguments.items():
        want = (props.get(name) or {}).get("type")
        types = want if isinstance(want, list) else [want] if want else []
        pythons = [_JSON_TYPES[t] for t in types if t in _JSON_TYPES]
        if not pythons:
            continue
        ok = any(isinstance(value, p) for p in pythons)
        if isinstance(value, bool) and "boolean" not in types:
            ok = False
        if not ok:
            raise ToolError(f"argument {name!r} must be {' or '.join(types)}, not {type(value).__name__}")


class ToolRegistry:
    """Every tool the daemon offers, by name. MCP tools appear once their servers are up."""

    def __init__(self, daemon: Daemon) -> None:
        from chatthy.tools.builtins import builtin_tools
        from chatthy.tools.mcp_client import McpHub
        from chatthy.tools.user_tools import UserTool

        self.daemon = daemon
        self.config = daemon.config.tools
        self._local: dict[str, Tool] = {t.spec.name: t for t in builtin_tools()}
        for settings in self.config.user.values():
            self._local[settings.name] = UserTool(settings)
        self.mcp = McpHub(daemon, daemon.config.mcp)

    def start(self) -> None:
        """Start the MCP servers in the background (the daemon's task group)."""
        self.mcp.start()

    async def aclose(self) -> None:
        await self.mcp.aclose()

    async def tools(self) -> dict[str, Tool]:
        """Every tool available now (waits for MCP servers still starting, within their timeout)."""
        tools = dict(self._local)
        for tool in await self.mcp.tools():
            tools.setdefault(tool.spec.name, tool)
        return tools

    async def select(self, requested: list[str] | None, chat_choice: list[str] | None) -> list[Tool]:
        """The tools a request uses: the ask's own choice, else the chat's, else ``[tools] default``.

        A choice is a list of names, or ``["all"]`` / ``["none"]``. Unknown
        names are a BadRequest that lists what exists.
        """
        choice = requested if requested else chat_choice if chat_choice is not None else list(self.config.default)
        if not choice or choice == [NONE]:
            return []
        # Only wait for MCP servers when the choice may need them.
        local_only = ALL not in choice and all(name in self._local for name in choice)
        available = dict(self._local) if local_only else await self.tools()
        if ALL in choice:
            if len(choice) > 1:
                raise BadRequest("tools: give 'all', 'none', or tool names, not a mix")
            return list(available.values())
        if NONE in choice:
            raise BadRequest("tools: give 'all', 'none', or tool names, not a mix")
        unknown = [name for name in choice if name not in available]
        if unknown:
            problems = self.mcp.problems()
            hint = f"; MCP servers not running: {problems}" if problems else ""
            raise BadRequest(f"unknown tool {unknown[0]!r} (known: {', '.join(sorted(available))}){hint}"
                             " — see `chatthy tools list`")
        seen: dict[str, Tool] = {}
        for name in choice:
            seen.setdefault(name, available[name])
        return list(seen.values())

    async def validate_names(self, names: list[str]) -> list[str]:
        """``names`` if they form a valid choice (for storing a chat's choice)."""
        await self.select(names, None)
        return names
