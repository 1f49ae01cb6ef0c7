"""A tiny terminal emulator for the sequences StreamRenderer writes.

Enough to check that what a streamed, redrawn reply leaves on the screen is
exactly what rendering the whole reply at once would show: printable text
with autowrap (and xterm's pending-wrap at the right margin), CR, LF, cursor
up (CSI n A), erase below (CSI J) and SGR (ignored: colours are checked
elsewhere). Anything else fails the test.
"""

from __future__ import annotations

import re

from chatthy.render.sanitise import char_width

_CSI = re.compile(r"\x1b\[([0-9;]*)([A-Za-z])")


class Screen:
    def __init__(self, width: int) -> None:
        self.width = width
        self.rows: list[list[str]] = [[]]
        self.y = 0
        self.x = 0
        self.pending_wrap = False

    def _row(self) -> list[str]:
        while len(self.rows) <= self.y:
            self.rows.append([])
        return self.rows[self.y]

    def feed(self, data: str) -> None:
        i = 0
        while i < len(data):
            ch = data[i]
            if ch == "\x1b":
                m = _CSI.match(data, i)
                if not m:
                    raise AssertionError(f"unexpected escape at {data[i:i + 12]!r}")
                params, final = m.group(1), m.group(2)
                if final == "m":
                    pass
                elif final == "A":
                    self.y = max(0, self.y - int(params or 1))
                    self.pending_wrap = False
                elif final == "J":
                    row = self._row()
                    del row[self.x:]
                    del self.rows[self.y + 1:]
                else:
                    raise AssertionError(f"unexpected CSI {m.group(0)!r}")
                i = m.end()
                continue
            i += 1
            if ch == "\r":
                self.x = 0
                self.pending_wrap = False
            elif ch == "\n":
                self.y += 1
                self.x = 0
                self.pending_wrap = False
                self._row()
            else:
                w = char_width(ch)
                if self.pending_wrap or self.x + w > self.width:
                    self.y += 1
                    self.x = 0
                    self.pending_wrap = False
                row = self._row()
                while len(row) < self.x:
                    row.append(" ")
                row[self.x:self.x + 1] = [ch] + [""] * (w - 1)
                self.x += w
                if self.x >= self.width:
                    self.x = self.width - 1
                    self.pending_wrap = True

    def lines(self) -> list[str]:
        out = ["".join(row).rstrip() for row in self.rows]
        while out and not out[-1]:
            out.pop()
        return out
