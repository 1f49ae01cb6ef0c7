"""StreamRenderer: streaming Markdown straight onto a terminal (or a file).

    r = StreamRenderer(sys.stdout, style="monokai", color=None, latex=True)
    for piece in reply:
        r.feed(piece)
    r.finish()

Final rows are written once and never touched again (the scrollback stays
clean); the provisional tail (the line still arriving, usually one row) is
redrawn in place: carriage return, cursor up over its rows, erase, rewrite.
When the new tail merely extends the old one (the common case: more words),
only the new characters are written. Not on a terminal, nothing is ever
redrawn: rows are written as they become final.

``color=None`` decides from the stream (a TTY, no NO_COLOR, TERM not dumb);
``raw=True`` writes the text as it comes (control characters still
neutralised on a terminal), for ``--raw``.
"""

from __future__ import annotations

import os
from typing import TextIO

from chatthy.render.markdown import MarkdownStream, Row
from chatthy.render.sanitise import display_width, neutralise
from chatthy.render.theme import Theme

RESET = "\x1b[0m"


def sgr(code: str) -> str:
    return f"\x1b[{code}m" if code else ""


def to_ansi(row: Row) -> str:
    """One row as text with SGR sequences (none at all for a plain row)."""
    out: list[str] = []
    current = ""
    for code, text in row:
        if code != current:
            if current:
                out.append(RESET)
            out.append(sgr(code))
            current = code
        out.append(text)
    if current:
        out.append(RESET)
    return "".join(out)


def rows_to_ansi(rows: list[Row]) -> str:
    """Rows joined with newlines (no trailing newline)."""
    return "\n".join(to_ansi(row) for row in rows)


def plain_text(rows: list[Row]) -> str:
    return "\n".join("".join(text for _, text in row) for row in rows)


def is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def color_wanted(stream, env: dict | None = None) -> bool:
    env = os.environ if env is None else env
    return is_tty(stream) and "NO_COLOR" not in env and env.get("TERM") != "dumb"


def terminal_size(stream) -> tuple[int, int] | None:
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return size.columns, size.lines


def make_theme(style: str | None, color: bool) -> Theme:
    return Theme.from_style(style) if color else Theme.plain()


def _rows_tall(rows: list[Row], width: int) -> int:
    total = 0
    for row in rows:
        w = sum(display_width(t) for _, t in row)
        total += max(1, -(-w // width))
    return total


class StreamRenderer:
    def __init__(self, out: TextIO, *, style: str | None = None, color: bool | None = None,
                 latex: bool = True, width: int | None = None, raw: bool = False,
                 theme: Theme | None = None) -> None:
        self.out = out
        self.tty = is_tty(out)
        self.raw = raw
        color = color_wanted(out) if color is None else color
        self.theme = theme or make_theme(style, color)
        size = terminal_size(out) if self.tty else None
        if size and size[0] <= 0:
            size = None  # a terminal that does not know its size (a fresh pty says 0×0): no wrapping
        self.width = width or (size[0] if size else None)
        self.height = size[1] if size else 24
        self.md = MarkdownStream(self.theme, latex=latex, width=self.width)
        self._drawn: list[Row] = []
        self._last_char = "\n"

    # -- public ------------------------------------------------------------------
    def feed(self, text: str) -> None:
        if not text:
            return
        if self.raw:
            self._write(neutralise(text) if self.tty else text)
            self._last_char = text[-1]
            self.out.flush()
            return
        committed = self.md.feed(text)
        self._show(committed, self.md.tail() if self.tty else [])

    def finish(self) -> None:
        """Write what is left, end on a fresh line, leave the terminal's style reset."""
        if self.raw:
            if self._last_char != "\n":
                self._write("\n")
            self.out.flush()
            return
        self._show(self.md.finish(), [])
        self.out.flush()

    def clear_tail(self) -> None:
        """Take the provisional tail off the screen; the cursor is left at the start of a line.

        Something else may be printed there (a line on stderr, on the same
        terminal); ``redraw_tail`` then draws the tail again, below it.
        """
        self._erase_tail()
        self.out.flush()

    def redraw_tail(self) -> None:
        if self.tty and not self.raw:
            self._show([], self.md.tail())

    # -- drawing -------------------------------------------------------------------
    def _write(self, text: str) -> None:
        self.out.write(text)

    def _erase_tail(self) -> None:
        if not self._drawn:
            return
        up = _rows_tall(self._drawn, self.width or 10**9) - 1
        self._write("\r" + (f"\x1b[{up}A" if up > 0 else "") + "\x1b[J")
        self._drawn = []

    def _show(self, committed: list[Row], tail: list[Row]) -> None:
        if not committed and self._extends(tail):
            self._draw_extension(tail)
        else:
            self._erase_tail()
            for row in committed:
                self._write(to_ansi(row) + "\n")
            self._draw_tail(tail)
        self.out.flush()

    def _tail_fits(self, tail: list[Row]) -> bool:
        # A tail taller than the screen could not be erased (the cursor cannot go
        # above the screen's top): then it is not drawn until it becomes final.
        return not tail or _rows_tall(tail, self.width or 10**9) < max(2, self.height - 1)

    def _draw_tail(self, tail: list[Row]) -> None:
        if not tail or not self._tail_fits(tail):
            self._drawn = []
            return
        self._write("\n".join(to_ansi(row) for row in tail))
        self._drawn = [list(row) for row in tail]

    def _extends(self, tail: list[Row]) -> bool:
        old = self._drawn
        if not old:
            return True
        if len(tail) < len(old) or tail[: len(old) - 1] != old[:-1]:
            return False
        last_old, last_new = old[-1], tail[len(old) - 1]
        if len(last_new) < len(last_old) or last_new[: len(last_old) - 1] != last_old[:-1]:
            return False
        if not last_old:
            return True
        code, text = last_old[-1]
        new_code, new_text = last_new[len(last_old) - 1]
        return code == new_code and new_text.startswith(text)

    def _draw_extension(self, tail: list[Row]) -> None:
        if not tail:
            return
        if not self._drawn:
            self._draw_tail(tail)
            return
        if not self._tail_fits(tail):
            return
        n = len(self._drawn)
        last_old, last_new = self._drawn[-1], tail[n - 1]
        pieces: list[tuple[str, str]] = []
        if last_old:
            code, text = last_old[-1]
            rest = last_new[len(last_old) - 1][1][len(text):]
            if rest:
                pieces.append((code, rest))
            pieces.extend(last_new[len(last_old):])
        else:
            pieces.extend(last_new)
        out = to_ansi(pieces)
        for row in tail[n:]:
            out += "\n" + to_ansi(row)
        if out:
            self._write(out)
        self._drawn = [list(row) for row in tail]
