"""Progress bars for long work (ingest, import, export, workflow runs).

On stderr, and only when stderr is a terminal and -q was not given: a pipe
or a log file never receives bar redraws. One line, redrawn at most ten
times a second, with the rate and, once the total is known, the ETA::

    ingest  █████████░░░░░░░░░░░  45%  450/1,000 files  12.3 files/s  ETA 0:44

Daemon-side work reports progress as stream events; the convention is
``{"kind": "progress", "done": n, "total": m | None, "label": str, "unit": str}``
and ``follow_stream`` draws them while passing every other item through::

    stream = app.client.stream("vdb.ingest", ...)
    for kind, data in follow_stream(stream, label="ingest", unit="files"):
        ...                                   # everything except progress events

Direct use::

    with Progress(total=len(files), label="import", unit="chats") as bar:
        for f in files:
            ...
            bar.advance()
"""

from __future__ import annotations

import sys
import time
from typing import Any, Iterable, Iterator

REDRAW_INTERVAL = 0.1
BAR_WIDTH = 20
_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def _fmt_duration(seconds: float) -> str:
    if not seconds < 100 * 3600:  # also inf and nan: a rate near zero promises nothing
        return "--:--"
    seconds = int(max(0, seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _fmt_amount(value: float, unit: str) -> str:
    if unit != "bytes":
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    for name in _BYTE_UNITS:
        if value < 1024 or name == _BYTE_UNITS[-1]:
            return f"{value:.0f} {name}" if name == "B" else f"{value:.1f} {name}"
        value /= 1024
    raise AssertionError("unreachable")


def _columns(stream) -> int:
    import os

    try:
        return os.get_terminal_size(stream.fileno()).columns or 80  # 0: a pty nobody sized
    except (OSError, ValueError, AttributeError):
        return 80


class Progress:
    """A single-line progress display; a no-op where it must not draw."""

    def __init__(self, total: float | None = None, *, label: str = "", unit: str = "items",
                 stream=None, enabled: bool | None = None, clock=time.monotonic) -> None:
        from chatthy.cli.output import is_quiet, is_tty

        self.total = total
        self.done = 0.0
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.enabled = (is_tty(self.stream) and not is_quiet()) if enabled is None else enabled
        self._clock = clock
        self._started = clock()
        self._drawn_at = float("-inf")
        self._width = 0
        self._closed = False

    # -- updates ---------------------------------------------------------------------
    def advance(self, amount: float = 1) -> None:
        self.update(self.done + amount)

    def update(self, done: float, total: float | None = None, label: str | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if label is not None:
            self.label = label
        now = self._clock()
        if now - self._drawn_at >= REDRAW_INTERVAL or (self.total is not None and done >= self.total):
            self._draw(now)

    # -- figures ---------------------------------------------------------------------------
    def rate(self, now: float | None = None) -> float | None:
        elapsed = (self._clock() if now is None else now) - self._started
        return self.done / elapsed if elapsed > 0 and self.done > 0 else None

    def eta(self, now: float | None = None) -> float | None:
        rate = self.rate(now)
        if not rate or self.total is None:  # (a tiny done/elapsed can underflow to 0.0)
            return None
        return max(0.0, (self.total - self.done) / rate)

    def line(self, now: float | None = None) -> str:
        """The text of the bar as it would be drawn now."""
        now = self._clock() if now is None else now
        parts = [self.label] if self.label else []
        if self.total:
            frac = min(1.0, max(0.0, self.done / self.total))
            filled = int(frac * BAR_WIDTH)
            parts.append("█" * filled + "░" * (BAR_WIDTH - filled))
            parts.append(f"{frac * 100:.0f}%")
            parts.append(f"{_fmt_amount(self.done, self.unit)}/{_fmt_amount(self.total, self.unit)}"
                         + ("" if self.unit == "bytes" else f" {self.unit}"))
        else:
            parts.append(_fmt_amount(self.done, self.unit) + ("" if self.unit == "bytes" else f" {self.unit}"))
        rate = self.rate(now)
        if rate is not None:
            parts.append(f"{_fmt_amount(rate, 'bytes')}/s" if self.unit == "bytes" else f"{rate:,.1f} {self.unit}/s")
        eta = self.eta(now)
        if eta is not None and self.done < (self.total or 0):
            parts.append(f"ETA {_fmt_duration(eta)}")
        elif self.total is not None and self.done >= self.total:
            parts.append(f"in {_fmt_duration(now - self._started)}")
        return "  ".join(parts)

    # -- drawing -----------------------------------------------------------------------------
    def _draw(self, now: float) -> None:
        self._drawn_at = now
        if not self.enabled or self._closed:
            return
        # A line wider than the terminal would wrap, and "\r" would then redraw only its tail.
        text = self.line(now)[: max(10, _columns(self.stream) - 1)]
        pad = " " * max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + pad)
        self.stream.flush()

    def close(self, *, keep: bool = False) -> None:
        """Finish: leave the last state on its own line (``keep``) or erase the bar."""
        if self._closed:
            return
        if self.enabled:
            if keep:
                self._draw(self._clock())
                self.stream.write("\n")
            else:
                self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
        self._closed = True

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type, *rest) -> None:
        # A finished job keeps its summary line; an interrupted one is erased
        # so the error message that follows starts on a clean line.
        self.close(keep=exc_type is None)


def follow_stream(stream: Iterable[tuple[str, Any]], *, label: str = "", unit: str = "items",
                  bar: Progress | None = None) -> Iterator[tuple[str, Any]]:
    """Draw the progress events of a daemon stream; pass every other item on."""
    bar = bar or Progress(label=label, unit=unit)
    with bar:
        for kind, data in stream:
            if kind == "event" and isinstance(data, dict) and data.get("kind") == "progress":
                if data.get("unit"):
                    bar.unit = str(data["unit"])
                bar.update(float(data.get("done") or 0), data.get("total"), data.get("label"))
                continue
            yield kind, data
