"""Progress bars: drawn on a terminal (a real pty here), never into a pipe, rate and ETA right."""

from __future__ import annotations

import os
import re
import select

from hypothesis import given
from hypothesis import strategies as st

from chatthy.cli import output
from chatthy.cli.progress import Progress, follow_stream


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def read_all(fd: int) -> str:
    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def test_draws_on_a_terminal_with_rate_and_eta():
    master, slave = os.openpty()
    tty = os.fdopen(slave, "w", encoding="utf-8")
    clock = Clock()
    try:
        with Progress(total=1000, label="ingest", unit="files", stream=tty, clock=clock) as bar:
            assert bar.enabled
            clock.now += 10
            bar.update(250)
            clock.now += 10
            bar.update(500)
            clock.now += 20
            bar.update(1000)
        drawn = read_all(master)
    finally:
        tty.close()
        os.close(master)
    frames = drawn.split("\r")
    assert any("25%" in f and "250/1,000 files" in f and "25.0 files/s" in f and "ETA 0:30" in f for f in frames)
    assert any("50%" in f and "ETA 0:20" in f for f in frames)
    assert drawn.endswith("\n") and "100%" in frames[-2] and "in 0:40" in frames[-2]  # kept, with the time taken  # the finished line stays, with the time taken


def test_silent_in_a_pipe_and_with_quiet():
    read_end, write_end = os.pipe()
    pipe = os.fdopen(write_end, "w")
    try:
        with Progress(total=10, stream=pipe) as bar:
            assert not bar.enabled
            for _ in range(10):
                bar.advance()
        pipe.flush()
        os.set_blocking(read_end, False)
        assert read_all(read_end) == ""
    finally:
        pipe.close()
        os.close(read_end)

    master, slave = os.openpty()
    tty = os.fdopen(slave, "w")
    output.configure(quiet=True)
    try:
        assert not Progress(total=3, stream=tty).enabled
    finally:
        output.configure(quiet=False)
        tty.close()
        os.close(master)


def test_redraws_are_throttled():
    master, slave = os.openpty()
    tty = os.fdopen(slave, "w")
    clock = Clock()
    try:
        bar = Progress(total=100_000, stream=tty, clock=clock)
        for i in range(1, 5001):
            clock.now += 0.0001  # 5,000 updates within half a second
            bar.update(i)
        drawn = read_all(master)
    finally:
        tty.close()
        os.close(master)
    assert 1 <= drawn.count("\r") <= 7


def test_an_interrupted_bar_is_erased():
    master, slave = os.openpty()
    tty = os.fdopen(slave, "w")
    try:
        try:
            with Progress(total=10, label="x", stream=tty) as bar:
                bar.update(5)
                raise KeyboardInterrupt
        except KeyboardInterrupt:
            pass
        drawn = read_all(master)
    finally:
        tty.close()
        os.close(master)
    assert drawn.endswith("\r") and "\n" not in drawn


def test_follow_stream_draws_progress_events_and_passes_the_rest():
    items = [("event", {"kind": "start"}), ("event", {"kind": "progress", "done": 1, "total": 4, "label": "embed"}),
             ("chunk", {"text": "a"}), ("event", {"kind": "progress", "done": 4, "total": 4, "unit": "chunks"}),
             ("event", {"kind": "done"})]
    master, slave = os.openpty()
    tty = os.fdopen(slave, "w")
    try:
        passed = list(follow_stream(iter(items), bar=Progress(stream=tty)))
        drawn = read_all(master)
    finally:
        tty.close()
        os.close(master)
    assert passed == [items[0], items[2], items[4]]
    assert "embed" in drawn and "4/4 chunks" in drawn and "100%" in drawn


@given(done=st.floats(min_value=0, max_value=1e12, allow_nan=False),
       total=st.one_of(st.none(), st.floats(min_value=0, max_value=1e12, allow_nan=False)),
       elapsed=st.floats(min_value=0, max_value=1e6, allow_nan=False),
       unit=st.sampled_from(["items", "bytes", "files"]))
def test_the_line_is_always_sane(done, total, elapsed, unit):
    clock = Clock()
    bar = Progress(total=total, unit=unit, enabled=False, clock=clock)
    clock.now += elapsed
    bar.update(done)
    line = bar.line()
    assert "\n" not in line and "\r" not in line
    for pct in re.findall(r"(\d+)%", line):
        assert 0 <= int(pct) <= 100
    eta = bar.eta()
    assert eta is None or eta >= 0
