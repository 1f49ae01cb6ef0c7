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
    "relay overhead per chunk", "relay throughput", "streams at model pace: p50 added latency",
    "streams at model pace: p99 added latency", "streams at model pace: errors", "streams at model pace: daemon CPU",
    "instant replies: throughput", "instant replies: p99 latency", "instant replies: errors",
    "daemon CPU per ask (at saturation)", "daemon idle RSS", "client peak RSS",
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
    assert "errors (of 32)" in out.stdout and re.search(r"errors \(of 32\)\s+0\.0", out.stdout), out.stdout
    assert "plan a request from a 10k-message chat" in out.stdout
