"""Reading the daemon's log: the last lines, then new ones as they come (``tail -F``).

The daemon rotates its log (daemon.log → daemon.log.1); following notices the
new file by its inode, or a truncation by its size, and reads it from the start.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from pathlib import Path

POLL = 0.2


def tail_lines(path: Path, count: int) -> tuple[str, int]:
    """The last ``count`` lines of ``path`` and the offset they end at (("", 0) if missing)."""
    try:
        with open(path, "rb") as fh:
            end = size = fh.seek(0, os.SEEK_END)
            block, data = 8192, b""
            # Read backwards only as far as needed: logs grow to megabytes.
            while size > 0 and data.count(b"\n") <= count:
                step = min(block, size)
                size -= step
                fh.seek(size)
                data = fh.read(step) + data
                block *= 2
    except FileNotFoundError:
        return "", 0
    if count <= 0:
        return "", end
    kept = deque(data.decode("utf-8", "replace").splitlines(keepends=True), maxlen=count)
    text = "".join(kept)
    return (text if not text or text.endswith("\n") else text + "\n"), end


def _replaced(path: Path, fh) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return True
    return st.st_ino != os.fstat(fh.fileno()).st_ino or st.st_size < fh.tell()


def follow_log(path: Path, offset: int = 0, *, out=None, write=None, stop_after: float | None = None) -> None:
    """Print what is written to ``path`` from ``offset`` on, until interrupted or ``stop_after`` s.

    ``write(text)`` is called with each new piece (default: write to ``out``, or stdout).
    """
    import codecs

    if write is None:
        stream = out or sys.stdout

        def write(text: str) -> None:
            stream.write(text)
            stream.flush()

    decoder = codecs.getincrementaldecoder("utf-8")("replace")  # a read may end mid-character
    deadline = None if stop_after is None else time.monotonic() + stop_after
    fh = None
    try:
        while deadline is None or time.monotonic() < deadline:
            if fh is None:
                try:
                    fh = open(path, "rb")
                except FileNotFoundError:
                    time.sleep(POLL)
                    continue
                fh.seek(offset)
                offset = 0  # a file that replaces this one is new from its first byte
            chunk = fh.read()
            if chunk:
                write(decoder.decode(chunk))
            elif _replaced(path, fh):
                fh.close()
                fh = None
            else:
                time.sleep(POLL)
    finally:
        if fh is not None:
            fh.close()
