"""The TCP frame cipher on its own: nonces never repeat, frames open only once, in order."""

from __future__ import annotations

import pytest

from chatthy.wire.box import NONCE_SIZE, OVERHEAD, TO_CLIENT, TO_DAEMON, BoxCache, FrameCipher
from chatthy.wire.ed25519 import SigningKey
from chatthy.wire.errors import BadSignature, ReplayedFrame, UnknownKey
from chatthy.wire.signing import Signer

CLIENT = SigningKey(b"\x01" * 32)
DAEMON = SigningKey(b"\x02" * 32)
STRANGER = SigningKey(b"\x03" * 32)
CLIENT_PUB = Signer(CLIENT).public_key
DAEMON_PUB = Signer(DAEMON).public_key


def pair(candidates=(CLIENT_PUB,)):
    return (FrameCipher.client(CLIENT, DAEMON_PUB),
            FrameCipher.daemon(BoxCache(DAEMON), lambda: list(candidates)))


def test_round_trip_both_ways_and_the_daemon_learns_who_is_speaking():
    client, daemon = pair(candidates=("00" * 32, "zz", CLIENT_PUB))
    assert daemon.peer_key is None
    assert daemon.open(client.seal(b"hello")) == b"hello"
    assert daemon.peer_key == CLIENT_PUB
    assert client.open(daemon.seal(b"welcome")) == b"welcome"
    sealed = client.seal(b"x" * 1000)
    assert len(sealed) == 1000 + OVERHEAD


def test_nonces_never_repeat_across_frames_directions_and_connections():
    seen = set()
    for _ in range(3):  # three connections of the same client: one shared key
        client, daemon = pair()
        for _ in range(200):
            up = client.seal(b"c")
            daemon.open(up)
            down = daemon.seal(b"d")
            client.open(down)
            for frame in (up, down):
                nonce = frame[:NONCE_SIZE]
                assert nonce not in seen
                seen.add(nonce)
    assert len(seen) == 1200
    assert {n[0] for n in seen} == {TO_DAEMON, TO_CLIENT}


def test_a_stranger_cannot_be_identified_and_gets_nothing_encrypted():
    stranger = FrameCipher.client(STRANGER, DAEMON_PUB)
    _, daemon = pair()
    with pytest.raises(UnknownKey):
        daemon.open(stranger.seal(b"let me in"))
    with pytest.raises(UnknownKey):
        daemon.seal(b"an answer")


def test_replayed_skipped_and_reordered_frames_are_refused():
    client, daemon = pair()
    first, second, third = client.seal(b"1"), client.seal(b"2"), client.seal(b"3")
    daemon.open(first)
    with pytest.raises(ReplayedFrame):
        daemon.open(first)
    with pytest.raises(ReplayedFrame):
        daemon.open(third)  # second was skipped
    assert daemon.open(second) == b"2"
    assert daemon.open(third) == b"3"


def test_a_frame_from_another_connection_is_refused():
    client_a, daemon_a = pair()
    client_b, _ = pair()
    daemon_a.open(client_a.seal(b"a0"))
    client_b.seal(b"b0")
    with pytest.raises(ReplayedFrame):
        daemon_a.open(client_b.seal(b"b1"))  # right counter, wrong connection


def test_a_reflected_frame_is_refused():
    client, daemon = pair()
    daemon.open(client.seal(b"hi"))
    with pytest.raises(ReplayedFrame):
        daemon.open(daemon.seal(b"echo"))


@pytest.mark.parametrize("position", [0, 5, NONCE_SIZE, NONCE_SIZE + 3, -1])
def test_any_changed_byte_is_refused(position):
    client, daemon = pair()
    daemon.open(client.seal(b"first"))
    frame = bytearray(client.seal(b"second frame"))
    frame[position] ^= 0x01
    with pytest.raises((BadSignature, ReplayedFrame)):
        daemon.open(bytes(frame))


def test_too_short_and_invalid_keys():
    _, daemon = pair()
    with pytest.raises(BadSignature):
        daemon.open(b"\x01" * (OVERHEAD - 1))
    with pytest.raises(UnknownKey):
        FrameCipher.client(CLIENT, "not hex")
    assert BoxCache(DAEMON).box("00" * 31) is None
