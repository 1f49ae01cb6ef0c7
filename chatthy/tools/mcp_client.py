"""MCP tool servers over stdio: started once by the daemon, kept alive, offered like built-ins.

Each ``[mcp.NAME]`` server runs as one task of the daemon's task group: it
spawns the command (no shell), initialises an MCP session (the ``mcp`` SDK),
lists the server's tools, and then keeps the session open until the daemon
stops (its task group is cancelled, and the SDK stops the process). A server
starts on first need (the first request that lists or selects tools), so a
daemon whose user never uses tools spawns nothing. A server that fails to
start or dies is tried again on a later need, at most every ``RETRY_AFTER``
seconds. Its stderr goes to ``mcp-NAME.log`` in the state dir.

Its tools are named ``NAME__tool`` (both APIs allow only ``[A-Za-z0-9_-]``,
up to 64 characters), so two servers may both have a ``search``.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any

import anyio

from chatthy.tools.registry import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    from chatthy.server.daemon import Daemon
    from chatthy.tools.settings import McpServerSettings

log = logging.getLogger("chatthy.tools")

RETRY_AFTER = 30.0
MAX_TOOLS_PER_SERVER = 256
SEPARATOR = "__"


def tool_name(server: str, tool: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}{SEPARATOR}{tool}")
    return name[:64]


def _attr(obj: Any, *names: str, default: Any = None) -> Any:
    """The first attribute that exists: the SDK renamed fields (inputSchema → input_schema)."""
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def result_text(result: Any) -> ToolResult:
    """The text of a ``CallToolResult``; non-text content is named, not sent."""
    parts: list[str] = []
    for block in _attr(result, "content", default=[]) or []:
        kind = _attr(block, "type", default="")
        if kind == "text":
            parts.append(_attr(block, "text", default=""))
        elif kind == "resource":
            resource = _attr(block, "resource")
            text = _attr(resource, "text")
            parts.append(text if text is not None else f"[resource {_attr(resource, 'uri', default='')}]")
        else:
            parts.append(f"[{kind or 'non-text'} content omitted]")
    if not parts:
        structured = _attr(result, "structured_content", "structuredContent")
        if structured is not None:
            import json

            parts.append(json.dumps(structured, ensure_ascii=False))
    return ToolResult("\n".join(parts), bool(_attr(result, "is_error", "isError", default=False)))


class McpTool:
    def __init__(self, server: McpServer, remote_name: str, description: str, schema: dict) -> None:
        self.server = server
        self.remote_name = remote_name
        schema = schema if isinstance(schema, dict) else {}
        schema = {k: v for k, v in schema.items() if k not in ("title", "$schema")}
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        self.spec = ToolSpec(
            name=tool_name(server.settings.name, remote_name),
            description=(description or f"{remote_name} (MCP server {server.settings.name})").strip(),
            parameters=schema, source=f"mcp:{server.settings.name}", confirm=server.settings.confirm,
        )

    async def run(self, arguments: dict, ctx: ToolContext) -> ToolResult:
        return await self.server.call(self.remote_name, arguments)


class McpServer:
    def __init__(self, daemon: Daemon, settings: McpServerSettings) -> None:
        self.daemon = daemon
        self.settings = settings
        self.state = "stopped"  # stopped | starting | ready | failed
        self.error: str | None = None
        self.tools: list[McpTool] = []
        self.session: Any = None
        self.pid: int | None = None
        self.failed_at = 0.0
        self.ready = anyio.Event()
        self._stop = anyio.Event()

    def describe(self) -> dict:
        return {"name": self.settings.name, "state": self.state, "error": self.error,
                "tools": [t.spec.name for t in self.tools], "command": list(self.settings.command)}

    def start(self) -> None:
        self.state = "starting"
        self.error = None
        self.ready = anyio.Event()
        self._stop = anyio.Event()
        self.daemon.task_group.start_soon(self._serve)

    def stop(self) -> None:
        self._stop.set()

    async def _serve(self) -> None:
        from mcp import ClientSession, StdioServerParameters, stdio_client

        s = self.settings
        env = {**s.env}
        params = StdioServerParameters(command=s.command[0], args=list(s.command[1:]), env=env or None,
                                       cwd=s.cwd)
        log_path = self.daemon.paths.state_dir / f"mcp-{s.name}.log"
        try:
            with open(log_path, "a", encoding="utf-8") as errlog:
                async with stdio_client(params, errlog=errlog) as (read, write):
                    async with ClientSession(read, write) as session:
                        with anyio.fail_after(s.startup_timeout):
                            await session.initialize()
                            listed = await self._list_tools(session)
                        self.session = session
                        self.tools = listed
                        self.state = "ready"
                        self.ready.set()
                        log.info("MCP server %r ready with %d tools", s.name, len(listed))
                        await self._stop.wait()
        except TimeoutError:
            self._failed(f"did not start within {s.startup_timeout:g} s (see {log_path})")
        except Exception as exc:  # noqa: BLE001 - a broken server must not take the daemon down
            self._failed(f"{type(exc).__name__}: {exc} (see {log_path})")
        finally:
            self.session = None
            if self.state == "starting":
                self._failed(f"exited during start-up (see {log_path})")
            elif self.state == "ready":
                self.state = "stopped"  # stopped by us; started again on the next need
            self.ready.set()

    def _failed(self, message: str) -> None:
        log.warning("MCP server %r: %s", self.settings.name, message)
        self.state = "failed"
        self.error = message
        self.failed_at = time.monotonic()
        self.tools = []

    async def _list_tools(self, session: Any) -> list[McpTool]:
        tools: list[McpTool] = []
        cursor = None
        while len(tools) < MAX_TOOLS_PER_SERVER:
            if cursor is None:
                page = await session.list_tools()
            else:
                from mcp.types import PaginatedRequestParams

                page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
            for t in page.tools:
                tools.append(McpTool(self, t.name, _attr(t, "description", default="") or "",
                                     _attr(t, "input_schema", "inputSchema", default={})))
            cursor = _attr(page, "next_cursor", "nextCursor")
            if not cursor:
                break
        return tools[:MAX_TOOLS_PER_SERVER]

    async def call(self, remote_name: str, arguments: dict) -> ToolResult:
        session = self.session
        if session is None or self.state != "ready":
            raise ToolError(f"MCP server {self.settings.name!r} is not running ({self.error or self.state})")
        try:
            with anyio.fail_after(self.settings.timeout):
                result = await session.call_tool(remote_name, arguments)
        except TimeoutError:
            raise ToolError(f"MCP server {self.settings.name!r} did not answer within "
                            f"{self.settings.timeout:g} s") from None
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:
            self._failed(f"the server went away ({type(exc).__name__})")
            self.stop()
            raise ToolError(f"MCP server {self.settings.name!r} went away") from None
        except Exception as exc:  # noqa: BLE001 - protocol errors are the tool's failure, not ours
            message = _attr(_attr(exc, "error"), "message") or str(exc) or type(exc).__name__
            if "closed" in message.lower():
                self._failed(f"the connection closed: {message}")
                self.stop()
            raise ToolError(f"MCP server {self.settings.name!r}: {message}") from None
        return result_text(result)


class McpHub:
    """The configured MCP servers, started on first need."""

    def __init__(self, daemon: Daemon, settings: dict[str, McpServerSettings]) -> None:
        self.servers = {name: McpServer(daemon, s) for name, s in settings.items() if s.enabled}

    def start(self) -> None:
        for server in self.servers.values():
            if server.state == "stopped" or (server.state == "failed"
                                             and time.monotonic() - server.failed_at >= RETRY_AFTER):
                server.start()

    async def tools(self) -> list[McpTool]:
        """Tools of every server that is up, starting (and waiting for) those that are not."""
        if not self.servers:
            return []
        self.start()
        for server in self.servers.values():
            if server.state == "starting":
                with anyio.move_on_after(server.settings.startup_timeout + 1):
                    await server.ready.wait()
        out: list[McpTool] = []
        for server in self.servers.values():
            if server.state == "ready":
                out.extend(server.tools)
        return out

    def problems(self) -> str:
        return "; ".join(f"{name}: {s.error or s.state}" for name, s in self.servers.items()
                         if s.state != "ready")

    def describe(self) -> list[dict]:
        return [s.describe() for s in self.servers.values()]

    async def aclose(self) -> None:
        for server in self.servers.values():
            server.stop()
