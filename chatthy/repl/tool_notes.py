"""A reply's tool activity in the REPL, shown the way ``chatthy ask`` shows it.

One dim line per tool call once it has its result
(``⚙ calculator(expression="6*7") → 42 · 2 ms``), printed between the
reply's text where the call happened: the Markdown block in progress is
ended first, so the line never lands inside it, and the text after the call
starts a new block. ``tools_missing`` and ``tool_limit`` notices are one line
each.

Approvals (a tool with ``confirm = true``), for a reply of ours: one line
says what the model wants to run, and the prompt asks
``run stamp? [y]es / [n]o / [a]lways in this chat``, answered as ``chatthy
ask`` is (y, n or a and Enter; Enter alone is no). The reply waits; with no
answer within ``[tools] approval_timeout`` the daemon says no. The result
line that follows says what happened. For another client's reply we only
follow: that client asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatthy.cli.tool_activity import call_text, result_line
from chatthy.render.sanitise import neutralise

if TYPE_CHECKING:
    from chatthy.repl.live import ReplyView

SHOWN = ("tool_call", "tool_result", "approval", "approval_result", "tools_missing", "tool_limit")


class ToolNotes:
    """The tool events of one reply view."""

    def __init__(self, view: ReplyView) -> None:
        self.view = view
        self.calls: dict[str, dict] = {}
        self.seen: set[tuple[str, str]] = set()  # a replayed stream may send an event again

    def handle(self, data: dict) -> None:
        kind = data.get("kind")
        if kind not in SHOWN:
            return
        key = (str(kind), str(data.get("call_id", data.get("message", ""))))
        if key in self.seen:
            return
        self.seen.add(key)
        if kind == "tool_call":
            self.calls[str(data.get("call_id"))] = data
        elif kind == "tool_result":
            # neutralised: the model chose the arguments, the tool wrote the result
            self.view.note_between(neutralise(result_line(self.calls.get(str(data.get("call_id")), {}), data)))
        elif kind == "approval":
            if self.view.own:
                self._ask(data)
        elif kind == "approval_result":
            self.view.repl.approval_settled(str(data.get("call_id")))
        else:  # tools_missing, tool_limit
            self.view.note_between(neutralise(f"chatthy: {data.get('message', kind)}"))

    def _ask(self, data: dict) -> None:
        call = call_text(str(data.get("tool", "?")), data.get("arguments") or {}, 200)
        timeout = data.get("timeout")
        wait = f" (no answer in {timeout:g} s = no)" if isinstance(timeout, (int, float)) else ""
        # neutralised: the model chose the arguments
        self.view.note_between(neutralise(f"⚙ the model wants to run {call}{wait}"))
        self.view.repl.ask_approval(str(data.get("call_id")), str(data.get("tool", "?")))
