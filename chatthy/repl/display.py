"""Showing messages in the REPL: stored ones, other clients' questions, tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatthy.render.markdown import render_markdown
from chatthy.render.sanitise import neutralise
from chatthy.render.stream import sgr

if TYPE_CHECKING:
    from chatthy.repl.app import Repl


def print_markdown(repl: Repl, text: str) -> None:
    """A whole Markdown text, rendered as replies are."""
    if repl.modes.raw:
        repl.screen.print(neutralise(text).rstrip("\n") + "\n")
        return
    repl.screen.rows(render_markdown(text, repl.theme, latex=repl.modes.latex, width=repl.width() - 1))


def print_table(repl: Repl, headers: list[str], rows: list[list[str]], mark: int | None = None) -> None:
    """Aligned columns under a bold header; row ``mark`` in bold."""
    rows = [[neutralise(str(c)) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = [sgr("1") + "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip() + "\x1b[0m"
             if repl.modes.color else "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    for n, row in enumerate(rows):
        line = "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
        if n == mark and repl.modes.color:
            line = sgr("1") + line + "\x1b[0m"
        lines.append(line)
    repl.screen.print("\n".join(lines) + "\n")


def show_foreign_message(repl: Repl, message: dict) -> None:
    """A question another client asked in this chat."""
    repl.screen.note("─ asked in another client:")
    text = neutralise(str(message.get("content", ""))).rstrip("\n")
    repl.screen.print("\n".join("› " + line for line in text.split("\n")) + "\n")


def show_message(repl: Repl, message: dict) -> None:
    """A stored message (history shown on entering a chat)."""
    if message.get("role") == "user":
        text = neutralise(str(message.get("content", ""))).rstrip("\n")
        repl.screen.print("\n".join(sgr("1") + "› " + "\x1b[0m" + line if repl.modes.color else "› " + line
                                    for line in text.split("\n")) + "\n")
        return
    if message.get("role") != "assistant":
        return
    print_markdown(repl, str(message.get("content", "")))
    footer = "─ " + (message.get("model") or "reply")
    if message.get("status") not in (None, "complete"):
        footer += f" · {message['status']}"
    repl.screen.note(footer)


def show_history(repl: Repl, event: dict) -> None:
    """The snapshot ``repl.watch`` starts with: the chat's last messages."""
    messages = event.get("messages") or []
    earlier = int(event.get("total") or 0) - len(messages)
    if messages and earlier > 0:
        repl.screen.note(f"─ {earlier} earlier messages (/show N to see more)")
    for message in messages:
        show_message(repl, message)
