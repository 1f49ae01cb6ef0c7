"""Text from outside (model output, names) made safe to show on a terminal.

The renderer is the only thing allowed to drive the terminal: every piece of
text it is given passes through ``neutralise`` first, so an escape sequence in
a model's reply is shown as visible ``^[[2J`` instead of clearing the screen,
and bidirectional overrides (which can make text read differently from what
it is, "Trojan Source") are shown as ``<U+202E>``.

``display_width`` counts terminal cells (wide CJK and emoji take two), which
word-wrapping and redrawing need.
"""

from __future__ import annotations

import re
from functools import lru_cache

# C0 controls except \t and \n, DEL, C1 controls (8-bit CSI and friends), and
# the bidi embedding/override/isolate controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match) -> str:
    ch = ord(match.group())
    if ch == 0x1B:
        return "^["
    if ch < 0x20:
        return "^" + chr(ch + 0x40)
    if ch == 0x7F:
        return "^?"
    if ch < 0xA0:
        return f"\\x{ch:02x}"
    return f"<U+{ch:04X}>"


def neutralise(text: str) -> str:
    """Make control characters visible instead of letting them act (keeps \\t, \\n)."""
    return _CONTROL.sub(_visible, text)


def has_controls(text: str) -> bool:
    return _CONTROL.search(text) is not None


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
