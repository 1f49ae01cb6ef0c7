"""Time planning a request from a 10,000-message chat, database included (not a pytest test).

Run: .venv/bin/python tests/bench/bench_request.py

What `ask` does before it calls the provider, minus the contributors: read the
chat's outline (role, status, tokens of every message, from a covering index),
fit it to the window, read the text of the messages kept, build the provider
messages. Target ≤ 20 ms for a 128k window. The baseline is the naive way:
load every message with its text (``Store.messages``), then assemble.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from chatthy.context import FixedPart, assemble  # noqa: E402
from chatthy.server.history_fit import chat_history, with_texts  # noqa: E402
from chatthy.server.reply import history_for_request, request_messages  # noqa: E402
from chatthy.store import Store  # noqa: E402

MESSAGES = 10_000
RUNS = 30
TARGET_MS = 20.0


def fill(store: Store) -> object:
    """A chat of 10,000 messages: questions of 5-100 words, answers of 20-400."""
    rng = random.Random(1)
    chat = store.create_chat(store.profile("default").id, "big")
    with store.transaction():
        for _ in range(MESSAGES // 2):
            words = rng.randint(5, 100)
            store.add_message(chat.id, "user", "question " * words, tokens=words + 4)
            words = rng.randint(20, 400)
            store.add_message(chat.id, "assistant", "answer " * words, tokens=words + 4,
                              provider="p", model="m")
    return chat


def plan(daemon, chat, context_length: int) -> int:
    history = chat_history(daemon, chat)
    assembled = assemble(fixed=[FixedPart("system prompt", "…", 1_200)], history=history,
                         new_input=FixedPart("input", "q", 300), context_length=context_length, max_tokens=4_096)
    kept = with_texts(daemon, chat, assembled.history)
    return len(request_messages(kept, "q"))


def naive(daemon, chat, context_length: int) -> int:
    history = history_for_request(daemon.store.messages(chat.id))
    assembled = assemble(fixed=[FixedPart("system prompt", "…", 1_200)], history=history,
                         new_input=FixedPart("input", "q", 300), context_length=context_length, max_tokens=4_096)
    return len(request_messages(assembled.history, "q"))


def median_ms(fn, *args) -> tuple[float, int]:
    times, result = [], 0
    for _ in range(RUNS):
        start = time.perf_counter()
        result = fn(*args)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        with Store.open(Path(tmp) / "chatthy.db") as store:
            chat = fill(store)
            daemon = SimpleNamespace(store=store)
            typical, kept = median_ms(plan, daemon, chat, 128_000)
            baseline, _ = median_ms(naive, daemon, chat, 128_000)
            worst, kept_all = median_ms(plan, daemon, chat, 10_000_000)
    print(f"plan a request from a 10k-message chat: {typical:.2f} ms (target ≤ {TARGET_MS:.0f} ms)"
          f"  [128k window, {kept - 1:,} messages kept]")
    print(f"  naive (load every message's text): {baseline:.2f} ms  ({baseline / typical:.0f}× slower)")
    print(f"  everything kept (1M+ window, all text read): {worst:.2f} ms  [{kept_all - 1:,} messages]")
    return 0 if typical <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
