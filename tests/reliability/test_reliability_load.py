"""64 clients at once against one daemon: every request answered, nothing lost.

Each client is a thread with its own connection (the real ``Client``, real
Unix socket) asking in its own chat, then reading the chat back. The fake
provider runs as its own process so it does not share the test's GIL. Two
rounds of the same shape (fresh chats each): memory after the second must be
about memory after the first (a leak per request would show), and the whole
must stay under a bound.

Bigger runs: ``CHATTHY_LOAD_CLIENTS=64 CHATTHY_LOAD_REQUESTS=50 pytest
tests/reliability/test_reliability_load.py -s`` (the figures are printed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from chatthy.client import Client
from tests.conftest import FAKE_CONFIG, make_home
from tests.reliability.reliability_support import DaemonProcess, db_query, log_text, remove_home

CLIENTS = int(os.environ.get("CHATTHY_LOAD_CLIENTS", "64"))
REQUESTS = int(os.environ.get("CHATTHY_LOAD_REQUESTS", "3"))
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fake_process():
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.provider_server", "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line.startswith("READY "), line
    url = line.split(" ", 1)[1]
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


def run_round(paths, round_no: int) -> tuple[list[str], float]:
    errors: list[str] = []
    start = threading.Barrier(CLIENTS)

    def one_client(n: int) -> None:
        try:
            with Client(paths, autostart=False) as client:
                start.wait(30)
                for r in range(REQUESTS):
                    prompt = f"client {n} round {round_no} request {r}"
                    stream = client.stream("ask", chat=f"load-{round_no}-{n}", prompt=prompt)
                    text = "".join(data["text"] for kind, data in stream if kind == "chunk")
                    if text != f"You said: {prompt}" or stream.result.get("status") != "complete":
                        errors.append(f"{prompt}: got {text!r} / {stream.result}")
                shown = client.call("chat.show", name=f"load-{round_no}-{n}")
                if len(shown["messages"]) != 2 * REQUESTS:
                    errors.append(f"load-{round_no}-{n}: {len(shown['messages'])} messages")
        except Exception as exc:  # noqa: BLE001 - reported below, with the client number
            errors.append(f"client {n}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=one_client, args=(n,)) for n in range(CLIENTS)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return errors, time.monotonic() - began


def test_many_concurrent_clients_are_all_answered_and_nothing_is_lost(fake_process):
    home = make_home(None)
    home.config_dir.mkdir(mode=0o700, parents=True)
    (home.config_dir / "config.toml").write_text(
        FAKE_CONFIG.format(openai=fake_process + "/v1", anthropic=fake_process)
        + f"\n[daemon]\nmax_streams_per_client = {CLIENTS * 2}\n")
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in home.env.items() if k.startswith("CHATTHY_")})
    try:
        from chatthy.paths import resolve

        paths = resolve()
        with DaemonProcess(home) as daemon:
            assert home.run("ask", "warm up", "--quiet").returncode == 0
            daemon.wait_warm()
            rss_start, workers_start = daemon.rss_kb(), daemon.workers_rss_kb()
            errors, first = run_round(paths, 1)
            assert errors == [], errors[:5]
            rss_first, workers_first = daemon.rss_kb(), daemon.workers_rss_kb()
            errors, second = run_round(paths, 2)
            assert errors == [], errors[:5]
            rss_second, workers_second = daemon.rss_kb(), daemon.workers_rss_kb()
            log = log_text(home)
            assert "database is locked" not in log
            assert "Traceback" not in log, log[-3000:]
            counts = db_query(home, "SELECT m.role, m.status, count(*) FROM messages m JOIN chats c"
                                    " ON c.id = m.chat_id WHERE c.name LIKE 'load-%' GROUP BY 1, 2")
            total = CLIENTS * REQUESTS * 2  # a question and a reply per ask, in two rounds
            assert sorted(counts) == [("assistant", "complete", total), ("user", "complete", total)]
            assert db_query(home, "PRAGMA integrity_check") == [("ok",)]
    finally:
        os.environ.clear()
        os.environ.update(saved)
        remove_home(home)
    requests = CLIENTS * REQUESTS
    print(f"load: {CLIENTS} clients x {REQUESTS} asks, twice: {2 * requests} asks + {2 * CLIENTS} chat.show, "
          f"all answered; round 1 {first:.1f} s ({requests / first:.0f} asks/s), round 2 {second:.1f} s; "
          f"daemon RSS {rss_start // 1024} -> {rss_first // 1024} -> {rss_second // 1024} MiB, "
          f"provider worker {workers_start // 1024} -> {workers_first // 1024} -> {workers_second // 1024} MiB")
    assert (rss_second - rss_first) / 1024 < 24, "daemon memory kept growing in the second round"
    assert (workers_second - workers_first) / 1024 < 24, "the worker's memory kept growing in the second round"
    assert rss_second / 1024 < 400 and workers_first > 0
