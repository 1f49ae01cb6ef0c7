"""The daemon refuses frames it must not trust, and keeps serving afterwards."""

from __future__ import annotations

import json
import os
import socket
import struct

import nacl.signing
import pytest

from chatthy.wire.envelope import parse_envelope
from chatthy.wire.keys import load_client_keys
from chatthy.wire.signing import Signer


def connect(home) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(os.fspath(home.socket))
    return s


def send_body(s: socket.socket, body: bytes) -> None:
    s.sendall(struct.pack(">I", len(body)) + body)


def read_frame(s: socket.socket) -> bytes | None:
    header = b""
    while len(header) < 4:
        got = s.recv(4 - len(header))
        if not got:
            return None
        header += got
    (n,) = struct.unpack(">I", header)
    body = b""
    while len(body) < n:
        got = s.recv(n - len(body))
        if not got:
            return None
        body += got
    return body


def reply(s: socket.socket) -> dict | None:
    body = read_frame(s)
    if body is None:
        return None
    return json.loads(body[64:])


def closed(s: socket.socket) -> bool:
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, TimeoutError):
        return True


@pytest.fixture
def signer(home, daemon):
    key, _ = load_client_keys(home.config_dir)
    return Signer(key)


def request(signer: Signer, method="daemon.status", rid="r1") -> bytes:
    return signer.seal("request", rid, method=method, params={})


def test_signed_request_is_answered(home, signer):
    s = connect(home)
    send_body(s, request(signer))
    out = reply(s)
    assert out["type"] == "end" and out["data"]["pid"] > 0
    s.close()


def test_unsigned_frame_is_refused(home, signer):
    s = connect(home)
    payload = json.dumps({"v": 1, "type": "request", "id": "x", "method": "daemon.status", "params": {},
                          "ts": 0, "nonce": "0" * 32, "key": "0" * 64}).encode()
    send_body(s, b"\0" * 64 + payload)
    out = reply(s)
    assert out["type"] == "error" and out["data"]["code"] == "unauthorised"
    assert closed(s)
    s.close()


def test_tampered_frame_is_refused(home, signer):
    body = bytearray(request(signer, method="daemon.status"))
    body[body.index(b"daemon.status")] ^= 0x01  # "eaemon.status": one bit flipped after signing
    s = connect(home)
    send_body(s, bytes(body))
    out = reply(s)
    assert out["type"] == "error" and out["data"]["code"] == "unauthorised"
    assert closed(s)
    s.close()


def test_unknown_key_is_refused(home, signer):
    stranger = Signer(nacl.signing.SigningKey.generate())
    s = connect(home)
    send_body(s, request(stranger))
    out = reply(s)
    assert out["data"]["code"] == "unauthorised" and "authorised key" in out["data"]["message"]
    s.close()


def test_replayed_frame_is_refused_even_on_a_new_connection(home, signer):
    body = request(signer)
    s = connect(home)
    send_body(s, body)
    assert reply(s)["type"] == "end"
    s.close()
    s = connect(home)
    send_body(s, body)
    out = reply(s)
    assert out["type"] == "error" and out["data"]["code"] == "unauthorised"
    s.close()


def test_stale_frame_is_refused(home, signer):
    s = connect(home)
    send_body(s, signer.seal("request", "old", method="daemon.status", params={}, now_ms=1_000_000))
    out = reply(s)
    assert out["type"] == "error" and out["data"]["code"] == "unauthorised"
    s.close()


def test_oversized_frame_is_refused_before_its_body(home, signer):
    s = connect(home)
    s.sendall(struct.pack(">I", 2**32 - 1))  # no body follows: must not wait for it
    out = reply(s)
    assert out["type"] == "error" and out["data"]["code"] == "too_large"
    assert closed(s)
    s.close()


def test_unknown_method_gets_an_error_not_silence(home, signer):
    s = connect(home)
    send_body(s, request(signer, method="no.such.thing"))
    out = reply(s)
    assert out["type"] == "error" and out["data"]["code"] == "bad_request"
    assert "unknown method" in out["data"]["message"]
    s.close()


def test_bad_params_get_a_clear_error(home, signer):
    s = connect(home)
    send_body(s, signer.seal("request", "p", method="chat.show", params={"name": 42}))
    out = reply(s)
    assert out["data"]["code"] == "bad_request" and "'name'" in out["data"]["message"]
    s.close()


def test_daemon_replies_are_signed_by_the_pinned_key(home, signer):
    from chatthy.wire.signing import Verifier

    _, daemon_public = load_client_keys(home.config_dir)
    s = connect(home)
    send_body(s, request(signer))
    env = Verifier(lambda: [daemon_public]).open(read_frame(s))
    assert env.type == "end" and env.key == daemon_public
    s.close()


def test_daemon_survives_all_of_that(home, fake, signer):
    for body in (b"", b"\0" * 10, b"\xff" * 200):
        s = connect(home)
        send_body(s, body)
        reply(s)
        s.close()
    assert home.run("ask", "still there?").stdout == "You said: still there?\n"
