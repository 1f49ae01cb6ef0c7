"""A search hit's snippet made safe for the terminal, its matches marked (CLI and REPL)."""

from __future__ import annotations

from chatthy.control_chars import neutralise


def marked(snippet: str, spans: list, on: str, off: str) -> str:
    """``snippet`` with each ``[start, end)`` of ``spans`` between ``on`` and ``off``;
    every piece neutralised (the text is a message's: it must not drive the terminal)."""
    out, at = [], 0
    for start, end in spans:
        if not (isinstance(start, int) and isinstance(end, int) and at <= start < end <= len(snippet)):
            continue  # out of order or out of range: shown unmarked
        out += [neutralise(snippet[at:start]), on, neutralise(snippet[start:end]), off]
        at = end
    out.append(neutralise(snippet[at:]))
    return "".join(out)
