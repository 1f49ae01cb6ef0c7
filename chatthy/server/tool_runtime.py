"""The daemon's tool state: the registry of tools, and the approvals waiting for a client.

Made on first use (``runtime(daemon)``), so a daemon whose user never uses
tools builds nothing and starts no MCP server.

Approval: a ``confirm = true`` tool is run only after a client that follows
the reply (or the workflow run) says so. The daemon puts an ``approval``
event on the stream (``{"kind": "approval", "call_id", "tool", "arguments",
"timeout"}``) and waits; any authorised client answers with ``tools.approve
{call_id, answer: yes|no|always}``. No follower, every follower gone, or no
answer within ``[tools] approval_timeout``: the answer is "no". "always" is
remembered for that tool in that chat.
"""

from __future__ import annotations

import logging
import secrets
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from chatthy.errors import NotFound

if TYPE_CHECKING:
    from chatthy.server.daemon import Daemon

log = logging.getLogger("chatthy.tools")

ANSWERS = ("yes", "no", "always")
_POLL = 0.1  # seconds between looks at whether a follower is still there


class Audience(Protocol):
    """Who sees a tool's activity: a generation's followers, or a workflow run's."""

    followers: int

    def add_event(self, data: dict) -> None: ...


@dataclass
class PendingApproval:
    call_id: str
    tool: str
    chat_id: int | None
    done: anyio.Event = field(default_factory=anyio.Event)
    answer: str | None = None


class ApprovalBroker:
    def __init__(self) -> None:
        self.pending: dict[str, PendingApproval] = {}

    async def ask(self, audience: Audience, *, tool: str, arguments: dict, chat_id: int | None,
                  timeout: float, tool_call_id: str) -> tuple[str, str]:
        """``(answer, why)``: "yes", "always" or "no", and a reason for a "no"."""
        if audience.followers <= 0:
            return "no", "no client is attached to approve it"
        pending = PendingApproval(secrets.token_hex(8), tool, chat_id)
        self.pending[pending.call_id] = pending
        audience.add_event({"kind": "approval", "call_id": pending.call_id, "tool_call_id": tool_call_id,
                            "tool": tool, "arguments": arguments, "timeout": timeout})
        why = f"no answer within {timeout:g} s"
        try:
            with anyio.move_on_after(timeout):
                while not pending.done.is_set():
                    if audience.followers <= 0:
                        why = "the client went away before answering"
                        break
                    with anyio.move_on_after(_POLL):
                        await pending.done.wait()
        finally:
            self.pending.pop(pending.call_id, None)
        answer = pending.answer or "no"
        if pending.answer == "no":
            why = "the user said no"
        audience.add_event({"kind": "approval_result", "call_id": pending.call_id, "tool": tool,
                            "answer": answer, **({"reason": why} if answer == "no" else {})})
        return answer, why

    def answer(self, call_id: str, answer: str) -> PendingApproval:
        pending = self.pending.get(call_id)
        if pending is None or pending.done.is_set():
            raise NotFound(f"no tool call {call_id!r} is waiting for approval (answered, timed out, or unknown)")
        pending.answer = answer
        pending.done.set()
        return pending


class ToolRuntime:
    def __init__(self, daemon: Daemon) -> None:
        from chatthy.tools.registry import ToolRegistry
        from chatthy.tools.storage import cancel_running_calls

        self.daemon = daemon
        self.registry = ToolRegistry(daemon)
        self.approvals = ApprovalBroker()
        stale = cancel_running_calls(daemon.store.conn)
        if stale:
            log.info("marked %d tool call(s) left running by a previous daemon as cancelled", stale)


_runtimes: weakref.WeakKeyDictionary[Any, ToolRuntime] = weakref.WeakKeyDictionary()


def runtime(daemon: Daemon) -> ToolRuntime:
    found = _runtimes.get(daemon)
    if found is None:
        found = _runtimes[daemon] = ToolRuntime(daemon)
    return found
