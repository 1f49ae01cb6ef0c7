"""A long ingest: other clients keep being served, Ctrl-C keeps whole documents, the bar shows."""

from __future__ import annotations

import json
import os
import pty
import random
import select
import signal
import subprocess
import time

from chatthy.client import Client
from chatthy.paths import resolve

VOCABULARY = ("river mountain engine protocol garden library signal harvest lantern orbit "
              "ceramic voltage meadow archive compass thunder velvet quartz harbor canyon").split()


def write_corpus(root, files: int, words: int) -> None:
    rng = random.Random(7)
    for i in range(files):
        sentences = []
        for _ in range(words // 10):
            sentences.append(" ".join(rng.choice(VOCABULARY) for _ in range(10)).capitalize() + ".")
        (root / f"doc{i:03d}.md").write_text(f"# Document {i}\n\n" + " ".join(sentences) + "\n")


def client_for(home) -> Client:
    old = dict(os.environ)
    os.environ.update({k: v for k, v in home.env.items() if k.startswith("CHATTHY_")})
    try:
        return Client(resolve(), autostart=False)
    finally:
        os.environ.clear()
        os.environ.update(old)


def stored(home) -> dict[str, dict]:
    out = home.run("vdb", "sources", "--json", check=True).stdout
    return {d["source"]: d for d in json.loads(out)}


def test_ctrl_c_keeps_whole_documents_while_others_are_served(vhome, docs):
    write_corpus(docs, files=24, words=250)  # ~2 chunks each: two batches of 32
    client = client_for(vhome)
    client.call("chat.list", profile="default")  # connected and warm
    proc = vhome.popen("vdb", "ingest", str(docs), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        latencies = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            started = time.monotonic()
            client.call("chat.list", profile="default")
            latencies.append(time.monotonic() - started)
            if any(s.startswith(str(docs)) for s in stored(vhome)):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("no document was stored within 90 s")
        assert proc.poll() is None, "the ingest finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        client.close()
    assert proc.returncode == 130, err
    assert b"ingest cancelled" in err
    # Served promptly while the embedder was busy (a call is ~1 ms when idle).
    assert max(latencies) < 1.0, latencies

    kept = {s: d for s, d in stored(vhome).items() if s.startswith(str(docs))}
    assert 1 <= len(kept) < 24
    assert all(d["chunks"] >= 2 and d["embedded"] == d["chunks"] for d in kept.values())

    # Run again under a terminal: the stored ones are skipped, the bar shows counts, rate and ETA.
    master, slave = pty.openpty()
    proc = vhome.popen("vdb", "ingest", "--json", str(docs), stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    screen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        screen += data
    out, _ = proc.communicate(timeout=60)
    os.close(master)
    assert proc.returncode == 0
    result = json.loads(out)
    assert result["unchanged"] == len(kept) and result["added"] == 24 - len(kept)
    text = screen.decode("utf-8", "replace")
    assert "chunks/s" in text and "ETA" in text and "/24 sources" in text, text[-500:]
    assert all(d["embedded"] == d["chunks"] for s, d in stored(vhome).items() if s.startswith(str(docs)))
