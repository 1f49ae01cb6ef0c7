"""On the Unix socket: every kind of bad frame is refused, the connection closed,
and the refusal logged; a peer with another uid is refused; the limits hold.

(tests/e2e/test_e2e_frames.py checks the error frames; here the point is the
log line, the other uid, and the limits.)
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import time

import nacl.signing
import pytest

from chatthy.wire.keys import load_client_keys
from chatthy.wire.signing import Signer
from tests.fakes.replies import Text
from tests.reliability.reliability_support import (
    closed_by_peer, db_query, log_text, read_frame, send_frame, wait_for,
)

EXTRA_CONFIG = """
[daemon]
max_connections = 24
max_streams_per_client = 3
send_timeout = 2
"""


def connect(home) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(os.fspath(home.socket))
    return s


def reply(s: socket.socket) -> dict | None:
    body = read_frame(s)
    return None if body is None else json.loads(body[64:])


@pytest.fixture(scope="module")
def signer(mhome, mdaemon) -> Signer:
    key, _ = load_client_keys(mhome.config_dir)
    return Signer(key)


def unsigned(signer):
    payload = json.dumps({"v": 1, "type": "request", "id": "x", "method": "daemon.status", "params": {},
                          "ts": int(time.time() * 1000), "nonce": "ab" * 16, "key": signer.public_key}).encode()
    return b"\0" * 64 + payload


def tampered(signer):
    body = bytearray(signer.seal("request", "t", method="daemon.status", params={}))
    body[body.index(b"daemon.status")] ^= 0x01
    return bytes(body)


def wrong_key(signer):
    return Signer(nacl.signing.SigningKey.generate()).seal("request", "w", method="daemon.status", params={})


def stale(signer):
    return signer.seal("request", "s", method="daemon.status", params={}, now_ms=int(time.time() * 1000) - 600_000)


def future(signer):
    return signer.seal("request", "f", method="daemon.status", params={}, now_ms=int(time.time() * 1000) + 600_000)


BAD_FRAMES = {
    # name: (make the body, what the log says)
    "unsigned": (unsigned, "not signed by an authorised key"),
    "tampered": (tampered, "not signed by an authorised key"),
    "wrong key": (wrong_key, "not signed by an authorised key"),
    "stale": (stale, "s old"),
    "future": (future, "in the future"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FRAMES))
def test_bad_frames_are_refused_closed_and_logged(mhome, signer, kind):
    make, logged = BAD_FRAMES[kind]
    before = log_text(mhome).count("refused frame")
    s = connect(mhome)
    send_frame(s, make(signer))
    out = reply(s)
    assert out["type"] == "error" and out["data"]["code"] == "unauthorised"
    assert closed_by_peer(s)
    s.close()
    wait_for(lambda: log_text(mhome).count("refused frame") > before, 5, what="the log line")
    last = [line for line in log_text(mhome).splitlines() if "refused frame" in line][-1]
    assert logged in last and "unix(uid" in last


def test_a_replayed_frame_is_refused_and_logged(mhome, signer):
    body = signer.seal("request", "r", method="daemon.status", params={})
    s = connect(mhome)
    send_frame(s, body)
    assert reply(s)["type"] == "end"
    send_frame(s, body)
    out = reply(s)
    assert out["data"]["code"] == "unauthorised" and "replayed" in out["data"]["message"]
    assert closed_by_peer(s)
    s.close()
    wait_for(lambda: "already used: a replayed frame" in log_text(mhome), 5, what="the log line")


def test_an_oversized_frame_is_refused_before_its_body_even_after_authentication(mhome, signer):
    s = connect(mhome)
    send_frame(s, signer.seal("request", "a", method="daemon.status", params={}))
    assert reply(s)["type"] == "end"
    s.sendall(struct.pack(">I", 40 * 1024 * 1024))  # 40 MiB announced, none sent
    out = reply(s)
    assert out["data"]["code"] == "too_large" and "limit is 33554432" in out["data"]["message"]
    assert closed_by_peer(s)
    s.close()
    wait_for(lambda: "refused frame (too_large)" in log_text(mhome), 5, what="the log line")


def test_a_prompt_over_the_request_limit_is_refused(mhome, signer):
    s = connect(mhome)
    s.settimeout(30)
    send_frame(s, signer.seal("request", "a", method="daemon.status", params={}))  # authenticate first:
    assert reply(s)["type"] == "end"  # before that, 64 KiB is the most a frame may hold
    send_frame(s, signer.seal("request", "big", method="ask", params={"prompt": "x" * (8 * 1024 * 1024 + 1)}))
    out = reply(s)
    assert out["type"] == "error" and out["data"]["code"] == "bad_request"
    assert "'prompt' is longer than" in out["data"]["message"]
    s.close()


# -- the peer's uid ---------------------------------------------------------------

NOBODY = 65534
PEER_SCRIPT = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
body = sys.stdin.buffer.read()
try:
    s.sendall(len(body).to_bytes(4, "big") + body)
except OSError:
    pass  # the daemon may have closed the connection before we wrote a byte: refused
got = b""
while True:
    try:
        data = s.recv(65536)
    except OSError:
        break
    if not data:
        break
    got += data
sys.stdout.write(str(len(got)))
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to be another uid")
def test_a_peer_with_another_uid_is_refused_even_with_a_valid_frame(mhome, signer):
    # Open the way (0711 directory, 0666 socket) as a careless admin might:
    # what is left between the stranger and the daemon is the uid check.
    sock_dir = mhome.socket.parent
    old_dir, old_sock = sock_dir.stat().st_mode & 0o777, mhome.socket.stat().st_mode & 0o777
    os.chmod(sock_dir, 0o711)
    os.chmod(mhome.socket, 0o666)
    try:
        body = signer.seal("request", "uid", method="daemon.status", params={})  # validly signed
        out = subprocess.run(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
             "/usr/bin/python3", "-c", PEER_SCRIPT, os.fspath(mhome.socket)],
            input=body, capture_output=True, timeout=30)
    finally:
        os.chmod(sock_dir, old_dir)
        os.chmod(mhome.socket, old_sock)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode() == "0"  # not one byte back: closed at accept
    wait_for(lambda: f"refused a connection from uid {NOBODY}" in log_text(mhome), 5, what="the log line")


def test_peer_uid_reads_the_kernel_credentials():
    """Where setpriv is unavailable this is what remains: the check reads SO_PEERCRED."""
    from chatthy.server.listener import peer_uid

    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        assert peer_uid(a) == os.getuid() == peer_uid(b)
    finally:
        a.close()
        b.close()
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        assert peer_uid(tcp) is None
    finally:
        tcp.close()


# -- limits ------------------------------------------------------------------------

def test_connections_over_the_limit_are_refused_and_logged(mhome, signer):
    held = []
    try:
        for _ in range(24):
            held.append(connect(mhome))
        # The daemon has accepted them (and counts them) once each answers a request.
        for i, s in enumerate(held):
            send_frame(s, signer.seal("request", f"h{i}", method="daemon.status", params={}))
            assert reply(s)["type"] == "end"
        extra = connect(mhome)
        assert closed_by_peer(extra, timeout=5)
        extra.close()
        wait_for(lambda: "connections open (max_connections)" in log_text(mhome), 5, what="the log line")
    finally:
        for s in held:
            s.close()
    wait_for(lambda: mhome.run("daemon", "status", "--json").returncode == 0, 10, what="the daemon to serve again")


def test_streams_per_client_key_are_limited(mhome, mfake):
    mfake.script(*[Text(["slow "] * 40, delay=0.05) for _ in range(3)])
    procs = [mhome.popen("ask", "-c", f"limit-{i}", "go", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(3)]
    try:
        for p in procs:
            assert p.stdout.read(4) == b"slow"  # all three are streaming
        out = mhome.run("ask", "-c", "limit-4", "one too many")
        assert out.returncode == 8
        assert "streaming requests in flight for this client key" in out.stderr
        assert "max_streams_per_client" in log_text(mhome)
    finally:
        for p in procs:
            p.communicate(timeout=30)
    assert mhome.run("ask", "-c", "limit-4", "now there is room").returncode == 0


def test_watches_count_against_the_stream_limit_and_are_released(mhome, signer):
    mhome.run("ask", "-c", "watched", "hi", check=True)
    s = connect(mhome)
    try:
        for i in range(3):
            send_frame(s, signer.seal("request", f"w{i}", method="chat.watch", params={"name": "watched"}))
        send_frame(s, signer.seal("request", "w3", method="chat.watch", params={"name": "watched"}))
        out = reply(s)
        assert out["id"] == "w3" and out["data"]["code"] == "busy"
        for i in range(3):
            send_frame(s, signer.seal("cancel", f"w{i}"))
        ended = {reply(s)["id"] for _ in range(3)}
        assert ended == {"w0", "w1", "w2"}
    finally:
        s.close()
    assert mhome.run("ask", "-c", "watched", "the slots are free again").returncode == 0


def test_a_reader_that_never_reads_cannot_make_the_daemon_buffer(mhome, mfake, mdaemon, signer):
    """A 10,000-chunk reply streams to a client that reads nothing.

    The daemon sends until the socket is full, then waits (it queues nothing
    for the reader: the follower reads the generation's text at its own pace);
    after send_timeout (2 s here) the reader is cut off and that is logged.
    The reply itself is written in full, and the daemon's memory grows no more
    than when a client reads the same reply.
    """
    chunk = "lorem ipsum dolor sit amet, " * 4  # 112 characters, words like a model's
    full_length = 10_000 * len(chunk)

    def reply_row(chat):
        rows = db_query(mhome, "SELECT m.status, length(m.content) FROM messages m JOIN chats c"
                               " ON c.id = m.chat_id WHERE c.name = ? AND m.role = 'assistant'", (chat,))
        return rows and rows[0][0] == "complete" and rows[0]

    # The same reply to a client that reads it: the baseline.
    mdaemon.wait_warm()
    mfake.script(Text([chunk] * 10_000))
    assert mhome.run("ask", "-c", "reads", "flood").returncode == 0
    baseline = mdaemon.rss_kb()

    mfake.script(Text([chunk] * 10_000))
    s = connect(mhome)
    send_frame(s, signer.seal("request", "slow", method="ask", params={"chat": "never-reads", "prompt": "flood"}))
    _, length = wait_for(lambda: reply_row("never-reads"), 60, 0.1, what="the reply to be written")
    assert length == full_length
    wait_for(lambda: "read nothing for 2 s; connection closed" in log_text(mhome), 15, 0.1,
             what="the slow reader to be cut off")
    assert closed_by_peer(s, timeout=5)
    s.close()
    growth_mib = (mdaemon.rss_kb() - baseline) / 1024
    print(f"slow reader: 10,000 chunks ({full_length / 2**20:.1f} MiB) unread; "
          f"daemon RSS {baseline / 1024:.0f} MiB -> +{growth_mib:.1f} MiB")
    assert growth_mib < 16, f"daemon RSS grew by {growth_mib:.1f} MiB for a reply nobody read"
    assert mhome.run("ask", "-c", "after-flood", "ok?").returncode == 0
