"""Time `assemble` over a 10,000-message history (not a pytest test).

Run: .venv/bin/python tests/bench/bench_assemble.py

Two budgets are timed: a 128k window, which keeps a few thousand messages
and drops the rest, and a window large enough to keep all 10,000 (the walk
covers the whole history: the worst case). The first is the figure reported.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

# Run as a script, the repository root is not on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from chatthy.context import FixedPart, HistoryMessage, assemble  # noqa: E402

MESSAGES = 10_000
RUNS = 50
TARGET_MS = 20.0


def build_history(n: int, seed: int = 1) -> list[HistoryMessage]:
    rng = random.Random(seed)
    history: list[HistoryMessage] = []
    while len(history) < n:
        history.append(HistoryMessage(len(history), "user", "question", rng.randint(5, 200)))
        if rng.random() < 0.3:  # a tool round trip
            history.append(HistoryMessage(len(history), "assistant", "", rng.randint(10, 60),
                                          {"tool_calls": [{"id": "c", "name": "search"}]}))
            history.append(HistoryMessage(len(history), "tool", "result", rng.randint(20, 800)))
        history.append(HistoryMessage(len(history), "assistant", "answer", rng.randint(20, 900)))
    return history[:n]


def median_ms(history, context_length: int) -> tuple[float, int]:
    fixed = [FixedPart("system prompt", "…", 1_200), FixedPart("workspace: notes.md", "…", 8_000)]
    new_input = FixedPart("input", "…", 300)
    times, kept = [], 0
    for _ in range(RUNS):
        start = time.perf_counter()
        result = assemble(fixed=fixed, history=history, new_input=new_input,
                          context_length=context_length, max_tokens=4_096)
        times.append((time.perf_counter() - start) * 1000)
        kept = len(result.history)
    return statistics.median(times), kept


def main() -> int:
    history = build_history(MESSAGES)
    total = sum(m.tokens for m in history)
    typical, kept = median_ms(history, 128_000)
    worst, kept_all = median_ms(history, total + 20_000)
    print(f"assemble 10k messages: {typical:.3f} ms (target ≤ {TARGET_MS:.0f} ms)"
          f"  [128k window, kept {kept:,}]")
    print(f"assemble 10k messages, all kept: {worst:.3f} ms  [kept {kept_all:,}]")
    return 0 if max(typical, worst) <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
