"""A tiny MCP tool server over stdio, for the tests: `python mcp_server.py`.

Tools: ``shout(text)`` → the text in capitals; ``add(a, b)`` → the sum;
``fail()`` → an error result; ``pid()`` → the server's process id (to show
that the daemon keeps one server alive across asks).
"""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("chatthy-test-tools")


@server.tool()
def shout(text: str) -> str:
    """Return the text in capital letters."""
    return text.upper()


@server.tool()
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@server.tool()
def fail() -> str:
    """Always fails."""
    raise ValueError("this tool always fails")


@server.tool()
def pid() -> str:
    """The process id of this server."""
    return str(os.getpid())


if __name__ == "__main__":
    server.run()
