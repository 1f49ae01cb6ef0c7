"""The ``[tools]``, ``[tools.user.NAME]``, ``[mcp.NAME]`` and ``[images]`` tables of config.toml.

    [tools]
    max_rounds = 8                # tool rounds per reply before the daemon stops asking
    default = []                  # tools on in every chat that sets none ("all" for every tool)
    approval_timeout = 120        # seconds to wait for a client's yes/no
    max_result_tokens = 4000      # a longer tool result is cut (the model is told)

    [tools.user.grep_notes]       # a command the model may run
    description = "Search my notes for a regular expression"
    command = ["grep", "-rn", "--", "{pattern}", "/home/me/notes"]
    input = "argv"                # "{name}" in command elements ← arguments; or "stdin": JSON on stdin
    parameters = { type = "object", properties = { pattern = { type = "string" } }, required = ["pattern"] }
    timeout = 30                  # seconds, then the process group is killed
    max_output_kb = 64            # more output is cut
    confirm = true                # ask the attached client before every run
    env = { LC_ALL = "C" }        # added to a minimal environment (PATH, HOME, LANG, …)
    cwd = "/home/me/notes"

    [mcp.files]                   # an MCP tool server over stdio, started once by the daemon
    command = ["npx", "-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]
    env = {}
    timeout = 60                  # seconds per call
    confirm = false               # ask before every call of its tools
    enabled = true

    [images]
    max_mb = 5                    # per image
    max_per_message = 8

Standard library only: config.py (imported by clients) calls ``parse_*`` here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
INPUT_MODES = ("stdin", "argv")
# The built-in tools' names (chatthy.tools.builtins defines them); user tools may not take them.
BUILTIN_NAMES = ("search_knowledge", "read_workspace_file", "fetch_url", "calculator", "current_time")

# fail(table, key, reason) -> an exception naming file, line and setting.
Fail = Callable[[str | None, str, str], Exception]


@dataclass(frozen=True)
class UserToolSettings:
    name: str
    description: str
    command: tuple[str, ...]
    parameters: dict = field(default_factory=lambda: {"type": "object", "properties": {}})
    input: str = "stdin"
    timeout: float = 30.0
    max_output: int = 64 * 1024
    confirm: bool = False
    env: dict = field(default_factory=dict)
    cwd: str | None = None


@dataclass(frozen=True)
class McpServerSettings:
    name: str
    command: tuple[str, ...]
    env: dict = field(default_factory=dict)
    cwd: str | None = None
    timeout: float = 60.0
    startup_timeout: float = 30.0
    confirm: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class ToolsSettings:
    max_rounds: int = 8
    default: tuple[str, ...] = ()
    approval_timeout: float = 120.0
    max_result_tokens: int = 4000
    user: dict[str, UserToolSettings] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageSettings:
    max_bytes: int = 5 * 1024 * 1024
    max_per_message: int = 8


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_types(table: str, raw: dict, fields: dict[str, Any], fail: Fail) -> None:
    for key, value in raw.items():
        if key not in fields:
            raise fail(table, key, f"unknown setting (known: {', '.join(fields)})")
        want = fields[key]
        if want == "number":
            if not _number(value):
                raise fail(table, key, "must be a number")
        elif want == "strlist":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise fail(table, key, "must be a list of strings")
        elif isinstance(value, bool) and want is not bool:
            raise fail(table, key, f"must be {want.__name__}, not a boolean")
        elif not isinstance(value, want):
            raise fail(table, key, f"must be {want.__name__}, not {type(value).__name__}")


def _positive(table: str, raw: dict, keys: tuple[str, ...], fail: Fail) -> None:
    for key in keys:
        if key in raw and raw[key] <= 0:
            raise fail(table, key, "must be positive")


def _env(table: str, value: dict, fail: Fail) -> dict:
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise fail(table, "env", "must map names to strings")
    return dict(value)


def _command(table: str, raw: dict, fail: Fail) -> tuple[str, ...]:
    command = raw.get("command")
    if command is None:
        raise fail(table, "", "missing required setting 'command' (a list: program, then arguments)")
    if not command or not command[0].strip():
        raise fail(table, "command", "must name a program: command = [\"program\", \"arg\", …]")
    return tuple(command)


_USER_FIELDS = {
    "description": str, "command": "strlist", "parameters": dict, "input": str, "timeout": "number",
    "max_output_kb": "number", "confirm": bool, "env": dict, "cwd": str,
}


def _user_tool(name: str, raw: Any, fail: Fail) -> UserToolSettings:
    table = f"tools.user.{name}"
    if not isinstance(raw, dict):
        raise fail("tools.user", name, "must be a table")
    if not TOOL_NAME.match(name):
        raise fail(table, "", "tool names are 1-64 letters, digits, '_' or '-'")
    _check_types(table, raw, _USER_FIELDS, fail)
    _positive(table, raw, ("timeout", "max_output_kb"), fail)
    if not str(raw.get("description", "")).strip():
        raise fail(table, "", "missing required setting 'description' (the model reads it to decide when to call)")
    mode = raw.get("input", "stdin")
    if mode not in INPUT_MODES:
        raise fail(table, "input", f"must be one of {', '.join(INPUT_MODES)}")
    parameters = raw.get("parameters", {"type": "object", "properties": {}})
    if parameters.get("type", "object") != "object":
        raise fail(table, "parameters", 'must be a JSON schema of type "object"')
    parameters = {"type": "object", "properties": {}, **parameters}
    return UserToolSettings(
        name=name, description=raw["description"].strip(), command=_command(table, raw, fail),
        parameters=parameters, input=mode, timeout=float(raw.get("timeout", 30)),
        max_output=int(float(raw.get("max_output_kb", 64)) * 1024), confirm=raw.get("confirm", False),
        env=_env(table, raw.get("env", {}), fail), cwd=raw.get("cwd") or None,
    )


_TOOLS_FIELDS = {
    "max_rounds": int, "default": "strlist", "approval_timeout": "number", "max_result_tokens": int,
    "user": dict,
}


def parse_tools(raw: Any, fail: Fail) -> ToolsSettings:
    """The ``[tools]`` table; raises ``fail(...)`` for the first problem."""
    if raw is None:
        return ToolsSettings()
    if not isinstance(raw, dict):
        raise fail(None, "tools", "must be a table")
    _check_types("tools", raw, _TOOLS_FIELDS, fail)
    _positive("tools", raw, ("max_rounds", "approval_timeout", "max_result_tokens"), fail)
    users = {}
    for name, table in raw.get("user", {}).items():
        if name in BUILTIN_NAMES:
            raise fail(f"tools.user.{name}", "", "is the name of a built-in tool; choose another")
        users[name] = _user_tool(name, table, fail)
    return ToolsSettings(
        max_rounds=raw.get("max_rounds", 8),
        default=tuple(raw.get("default", ())),
        approval_timeout=float(raw.get("approval_timeout", 120)),
        max_result_tokens=raw.get("max_result_tokens", 4000),
        user=users,
    )


_MCP_FIELDS = {
    "command": "strlist", "env": dict, "cwd": str, "timeout": "number", "startup_timeout": "number",
    "confirm": bool, "enabled": bool,
}


def parse_mcp(raw: Any, fail: Fail) -> dict[str, McpServerSettings]:
    """The ``[mcp.NAME]`` tables."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail(None, "mcp", "must be a table of servers: [mcp.NAME] command = [...]")
    servers = {}
    for name, table_raw in raw.items():
        table = f"mcp.{name}"
        if not isinstance(table_raw, dict):
            raise fail("mcp", name, "must be a table: [mcp.NAME] command = [...]")
        if not SERVER_NAME.match(name):
            raise fail(table, "", "server names are 1-32 letters, digits, '_' or '-'")
        _check_types(table, table_raw, _MCP_FIELDS, fail)
        _positive(table, table_raw, ("timeout", "startup_timeout"), fail)
        servers[name] = McpServerSettings(
            name=name, command=_command(table, table_raw, fail), env=_env(table, table_raw.get("env", {}), fail),
            cwd=table_raw.get("cwd") or None, timeout=float(table_raw.get("timeout", 60)),
            startup_timeout=float(table_raw.get("startup_timeout", 30)),
            confirm=table_raw.get("confirm", False), enabled=table_raw.get("enabled", True),
        )
    return servers


def parse_images(raw: Any, fail: Fail) -> ImageSettings:
    if raw is None:
        return ImageSettings()
    if not isinstance(raw, dict):
        raise fail(None, "images", "must be a table")
    _check_types("images", raw, {"max_mb": "number", "max_per_message": int}, fail)
    _positive("images", raw, ("max_mb", "max_per_message"), fail)
    return ImageSettings(
        max_bytes=int(float(raw.get("max_mb", 5)) * 1024 * 1024),
        max_per_message=raw.get("max_per_message", 8),
    )
