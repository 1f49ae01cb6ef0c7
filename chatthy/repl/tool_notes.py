"""A reply's tool activity in the REPL, shown the way ``chatthy ask`` shows it.

One dim line per tool call once it has its result
(``⚙ calculator(expression="6*7") → 42 · 2 ms``), printed between the
reply's text where the call happened: the Markdown block in progress is
ended first, so the line never lands inside it, and the text after the call
starts a new block. ``tools_missing`` and ``tool_limit`` notices are one line
each.

Approvals (a tool with ``confirm = true``): the REPL does not ask; for a
reply of ours it says so in one line and answers "no" at once, rather than
letting the daemon wait out ``[tools] approval_timeout``. For another
client's reply we only follow: that client asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatthy.cli.tool_activity import result_line
from chatthy.errors import ChatthyError
from chatthy.render.sanitise import neutralise

if TYPE_CHECKING:
    from chatthy.repl.live import ReplyView

SHOWN = ("tool_call", "tool_result", "approval", "tools_missing", "tool_limit")


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
                self._refuse(data)
        else:  # tools_missing, tool_limit
            self.view.note_between(neutralise(f"chatthy: {data.get('message', kind)}"))

    def _refuse(self, data: dict) -> None:
        repl = self.view.repl
        self.view.note_between(neutralise(f"tool {data.get('tool', '?')} needs approval: refused ")
                               + "(use `chatthy ask -y` or set confirm = false)")
        call_id = data.get("call_id")

        async def answer() -> None:
            try:
                await repl.link.call("tools.approve", call_id=call_id, answer="no")
            except ChatthyError:
                pass  # timed out or went away meanwhile: the daemon said no already

        repl.spawn(answer())
