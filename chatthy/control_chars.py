"""Text from outside (model output, names, file names) made safe to print.

An escape sequence in a model's reply or a chat's name must be shown, never
obeyed: it is printed as visible ``^[[2J`` instead of clearing the screen.
Bidirectional embedding/override/isolate controls, which can make text read
differently from what it is ("Trojan Source"), are shown as ``<U+202E>``.
Tab and newline are kept.

One translate table, not a regex: the CLI prints through this on every start
and importing ``re`` costs ~5 ms. The renderer and the CLI share it, so a
name looks the same in ``chat list`` and in the REPL.
"""

from __future__ import annotations


def _visible(ch: int) -> str:
    if ch == 0x1B:
        return "^["
    if ch < 0x20:
        return "^" + chr(ch + 0x40)
    if ch == 0x7F:
        return "^?"
    if ch < 0xA0:
        return f"\\x{ch:02x}"
    return f"<U+{ch:04X}>"


# C0 controls except \t and \n, DEL, C1 controls (8-bit CSI and friends), and
# the bidi controls U+202A-U+202E and U+2066-U+2069.
_CONTROLS = (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0),
             *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_VISIBLE = {ch: _visible(ch) for ch in _CONTROLS}


def neutralise(text: str) -> str:
    """Make control characters visible instead of letting them act (keeps \\t, \\n)."""
    return text.translate(_VISIBLE)


def has_controls(text: str) -> bool:
    return text.translate(_VISIBLE) != text
