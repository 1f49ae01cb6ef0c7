"""Printing above the prompt while the user keeps typing.

Final rows go into the terminal's scrollback: while the prompt is shown they
are written through prompt-toolkit's ``run_in_terminal`` (the prompt is
erased, the rows written, the prompt redrawn), batched so a fast stream does
not redraw the prompt for every row. The provisional tail of a streaming
reply (usually one row) is shown *in* the prompt area, above the input line,
so it can be redrawn freely without touching the scrollback.

Everything here runs on the event loop thread.
"""

from __future__ import annotations

import asyncio

from prompt_toolkit.application import get_app_or_none, run_in_terminal
from prompt_toolkit.formatted_text import ANSI
from prompt_toolkit.output import Output

from chatthy.render.markdown import Row
from chatthy.render.stream import rows_to_ansi, sgr

FLUSH_DELAY = 0.03  # seconds: rows arriving within this are written together


class Screen:
    def __init__(self, output: Output) -> None:
        self.output = output
        self._pending: list[str] = []
        self._scheduled = False
        self._tail = ""
        self._tasks: set[asyncio.Future] = set()

    # -- scrollback -------------------------------------------------------------
    def print(self, text: str) -> None:
        """Queue complete lines (``text`` ends with a newline) for the scrollback."""
        if not text:
            return
        if not text.endswith("\n"):
            text += "\n"
        self._pending.append(text)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_DELAY, self._flush)

    def rows(self, rows: list[Row]) -> None:
        if rows:
            self.print(rows_to_ansi(rows) + "\n")

    def note(self, message: str, code: str = "2") -> None:
        """A one-line message of the REPL's own (dim by default)."""
        self.print(f"{sgr(code)}{message}\x1b[0m\n" if code else message + "\n")

    def _write(self, text: str) -> None:
        self.output.write_raw(text)
        self.output.flush()

    def _flush(self) -> None:
        self._scheduled = False
        text = "".join(self._pending)
        self._pending.clear()
        if not text:
            return
        app = get_app_or_none()
        if app is not None and app.is_running:
            future = run_in_terminal(lambda: self._write(text), in_executor=False)
            self._tasks.add(future)
            future.add_done_callback(self._tasks.discard)
        else:
            self._write(text)

    def flush_now(self) -> None:
        """Write what is queued (before the REPL exits, or a command prints directly)."""
        if self._pending:
            self._flush()

    async def drained(self) -> None:
        """Wait until everything queued is on the terminal."""
        self.flush_now()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- the tail (shown inside the prompt area) ------------------------------------
    def set_tail(self, rows: list[Row]) -> None:
        tail = rows_to_ansi(rows) if rows else ""
        if tail != self._tail:
            self._tail = tail
            app = get_app_or_none()
            if app is not None and app.is_running:
                app.invalidate()

    @property
    def tail(self) -> str:
        return self._tail

    def tail_formatted(self):
        return ANSI(self._tail + "\n") if self._tail else None

    def clear(self) -> None:
        self.output.erase_screen()
        self.output.cursor_goto(0, 0)
        self.output.flush()
