"""The benchmark suite must keep running (its figures are not judged here).

Timing targets live in tests/bench/, never in unit tests; this only runs the
quick form of the one documented command and checks every figure came out as
a number next to its baseline, so the benchmarks cannot rot unnoticed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURES = [
    "ask, warm daemon, 20 chunks", "chatthy --help, cold process", "chatthy chat list, cold process",
    "relay overhead per chunk", "relay throughput", "chunk answers: p50 added per chunk",
    "chunk answers: p99 added per chunk", "chunk answers: p99 added to the first chunk", "chunk answers: errors",
    "chunk answers: daemon CPU per ask", "chunk answers: provider workers' CPU per ask",
    "short answers back to back: p99 added latency", "short answers back to back: asks/s",
    "instant replies: throughput", "instant replies: p99 latency", "instant replies: errors",
    "at saturation: daemon CPU per ask", "daemon idle RSS", "provider workers' idle RSS",
    "daemon + workers idle, PSS", "client peak RSS",
]


def test_the_quick_benchmark_run_prints_every_figure():
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / "run_all.py"), "--quick"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    for figure in FIGURES:
        row = next((line for line in lines if figure in line), None)
        assert row is not None, f"no row for {figure!r}:\n{out.stdout}"
        numbers = re.findall(r"-?\d+(?:\.\d+)?", row.split(figure, 1)[1])
        assert len(numbers) >= 3, row  # value, baseline, ratio
    for errors in re.findall(r"errors \(of \d+\)\s+\S+", out.stdout):
        assert errors.endswith(" 0.0"), out.stdout
    assert "errors (of 16)" in out.stdout and "errors (of 32)" in out.stdout
    assert "plan a request from a 10k-message chat" in out.stdout
