"""The fake provider server itself: standalone mode and the cheap 10,000-chunk path."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fakes import Chunks, FakeProviderServer, Text

ROOT = Path(__file__).resolve().parents[2]


def _post(url: str, body: dict) -> bytes:
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read()


def test_standalone_prints_ready_and_serves_until_terminated():
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.provider_server", "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line[0] == "READY" and line[1].startswith("http://127.0.0.1:")
        reply = json.loads(_post(line[1] + "/v1/chat/completions", {
            "model": "m", "messages": [{"role": "user", "content": "ping"}]}))
        assert reply["choices"][0]["message"]["content"] == "You said: ping"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_ten_thousand_chunks_stream_quickly(path):
    with FakeProviderServer() as fake:
        fake.script(Chunks(10_000))
        start = time.perf_counter()
        raw = _post(fake.url + path, {"model": "m", "max_tokens": 5, "messages": [], "stream": True})
        elapsed = time.perf_counter() - start
    assert raw.count(b'"tok "') == 10_000
    assert elapsed < 2.0


def test_replies_are_consumed_in_order_then_the_default_echo():
    with FakeProviderServer() as fake:
        fake.script(Text(["first"]), Text(["second"]))
        texts = [json.loads(_post(fake.url + "/v1/chat/completions", {
            "model": "m", "messages": [{"role": "user", "content": "third"}]}))
            ["choices"][0]["message"]["content"] for _ in range(3)]
        assert texts == ["first", "second", "You said: third"]
        assert fake.pending_replies == 0 and len(fake.requests) == 3


def test_script_rejects_what_is_not_a_reply():
    with FakeProviderServer() as fake, pytest.raises(TypeError):
        fake.script("hello")
