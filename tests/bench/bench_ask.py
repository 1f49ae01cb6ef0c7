"""`chatthy ask` through a warm daemon vs the floor: a minimal stdlib client.

Both ask the same fake provider (a separate process on 127.0.0.1) for the same
20-chunk streamed reply and print it; both are whole processes, interpreter
start included. Target: chatthy ≤ 1.5× the floor.

    .venv/bin/python tests/bench/bench_ask.py [--runs N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import PYTHON, FakeProvider, Instance, Row, print_table, time_command  # noqa: E402

# 18 words: the fake's default reply is "You said: " + the prompt, one chunk a word → 20 chunks.
PROMPT = " ".join(f"w{i}" for i in range(18))

# The floor: what any client must at least do — start Python, POST, read the SSE stream, print.
FLOOR = r"""
import http.client, json, sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
body = json.dumps({"model": "fake-model", "stream": True,
                   "messages": [{"role": "user", "content": sys.argv[2]}]})
c.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json", "Authorization": "Bearer x"})
r = c.getresponse()
for line in r:
    if line.startswith(b"data: ") and line.strip() != b"data: [DONE]":
        for ch in json.loads(line[6:]).get("choices", []):
            sys.stdout.write(ch.get("delta", {}).get("content") or "")
            sys.stdout.flush()
print()
"""


def measure(runs: int) -> list[Row]:
    with FakeProvider() as fake, Instance(fake.url) as inst:
        ask = inst.chatthy("ask", "-q", "-c", "bench", PROMPT)
        floor = [PYTHON, "-c", FLOOR, fake.url, PROMPT]
        # warm both paths (page cache, the daemon's first-request imports)
        time_command(ask, env=inst.env, runs=3)
        time_command(floor, env=inst.env, runs=3)
        chatthy_ms = time_command(ask, env=inst.env, runs=runs)
        floor_ms = time_command(floor, env=inst.env, runs=runs)
    return [Row("chatthy ask (warm daemon, 20 chunks)", chatthy_ms, "stdlib client", floor_ms, target=1.5)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    rows = measure(parser.parse_args().runs)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
