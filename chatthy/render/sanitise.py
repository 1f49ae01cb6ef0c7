"""Text from outside (model output, names) made safe to show on a terminal.

The renderer is the only thing allowed to drive the terminal: every piece of
text it is given passes through ``neutralise`` first (``chatthy.control_chars``,
shared with the CLI), so an escape sequence in a model's reply is shown as
visible ``^[[2J`` instead of clearing the screen, and bidirectional overrides
are shown as ``<U+202E>``.

``display_width`` counts terminal cells (wide CJK and emoji take two), which
word-wrapping and redrawing need.
"""

from __future__ import annotations

from functools import lru_cache

from chatthy.control_chars import has_controls, neutralise

__all__ = ["char_width", "display_width", "has_controls", "neutralise"]


@lru_cache(maxsize=4096)
def _char_width(ch: str) -> int:
    from wcwidth import wcwidth

    width = wcwidth(ch)
    return 0 if width < 0 else width


def display_width(text: str) -> int:
    """Terminal cells ``text`` takes (ASCII fast path; wcwidth for the rest)."""
    if text.isascii():
        return len(text)
    return sum(_char_width(ch) for ch in text)


def char_width(ch: str) -> int:
    if ch.isascii():
        return 1
    return _char_width(ch)
