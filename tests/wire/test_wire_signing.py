import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from chatthy.wire.envelope import dump_payload
from chatthy.wire.errors import (
    BadEnvelope,
    BadSignature,
    ReplayedFrame,
    StaleFrame,
    UnknownKey,
)
from chatthy.wire.limits import Limits
from chatthy.wire.replay import ReplayCache
from chatthy.wire.signing import Signer, Verifier

NOW = 1_700_000_000.0
ALICE = Signer(SigningKey(b"a" * 32))
BOB = Signer(SigningKey(b"b" * 32))
MALLORY = Signer(SigningKey(b"m" * 32))


def verifier(*signers, **kwargs):
    keys = [s.public_key for s in signers]
    return Verifier(lambda: keys, clock=lambda: NOW, **kwargs), keys


def seal(signer, type="ack", id="r1", offset_ms=0, **fields):
    return signer.seal(type, id, now_ms=int(NOW * 1000) + offset_ms, **fields)


def test_round_trip_pins_the_peer_key():
    v, _ = verifier(BOB, ALICE)
    env = v.open(seal(ALICE, "request", "r1", method="chat.send", params={"text": "hi"}))
    assert (env.type, env.id, env.method, env.params) == ("request", "r1", "chat.send", {"text": "hi"})
    assert env.key == ALICE.public_key == v.peer_key
    assert len(env.nonce) == 32 and env.ts == int(NOW * 1000)


def test_seal_omits_fields_that_are_none():
    body = ALICE.seal("chunk", "s1", seq=0, data={"text": "x"})
    assert b'"method"' not in body and b'"params"' not in body and b'"seq":0' in body


def test_payload_is_signed_exactly_as_sent():
    body = seal(ALICE)
    SigningKey(b"a" * 32).verify_key.verify(body[64:], body[:64])


@settings(deadline=None, max_examples=200)
@given(position=st.integers(min_value=0), mask=st.integers(min_value=1, max_value=255))
def test_flipping_any_byte_is_refused(position, mask):
    body = bytearray(seal(ALICE, "request", "r1", method="chat.send", params={"x": 1}))
    position %= len(body)
    body[position] ^= mask
    fresh, _ = verifier(ALICE)
    with pytest.raises(UnknownKey):
        fresh.open(bytes(body))
    pinned, _ = verifier(ALICE)
    pinned.open(seal(ALICE))
    with pytest.raises(BadSignature):
        pinned.open(bytes(body))


def test_short_body_is_a_bad_signature():
    v, _ = verifier(ALICE)
    with pytest.raises(BadSignature, match="too short"):
        v.open(b"x" * 63)


def test_unknown_key_is_refused():
    v, _ = verifier(ALICE, BOB)
    with pytest.raises(UnknownKey, match="not signed by an authorised key"):
        v.open(seal(MALLORY))
    assert v.peer_key is None


def test_malformed_authorised_entries_authorise_nobody():
    keys = ["zz" * 32, "", ALICE.public_key]
    v = Verifier(lambda: keys, clock=lambda: NOW)
    assert v.open(seal(ALICE)).key == ALICE.public_key


def test_a_second_authorised_key_cannot_join_a_pinned_connection():
    v, _ = verifier(ALICE, BOB)
    v.open(seal(ALICE))
    with pytest.raises(BadSignature):
        v.open(seal(BOB))


def test_envelope_naming_another_key_is_refused():
    # Alice signs a payload claiming to come from Bob.
    payload = dump_payload(
        {"v": 1, "type": "ack", "id": "r1", "ts": int(NOW * 1000), "nonce": "1" * 32, "key": BOB.public_key}
    )
    body = SigningKey(b"a" * 32).sign(payload).signature + payload
    v, _ = verifier(ALICE, BOB)
    with pytest.raises(BadSignature, match="other than the one that signed it"):
        v.open(body)


def test_bad_envelope_is_only_parsed_after_the_signature_verifies():
    payload = b'{"not": "an envelope"}'
    v, _ = verifier(ALICE)
    with pytest.raises(UnknownKey):
        v.open(SigningKey(b"m" * 32).sign(payload).signature + payload)
    with pytest.raises(BadEnvelope):
        v.open(SigningKey(b"a" * 32).sign(payload).signature + payload)


@pytest.mark.parametrize("offset_ms", [-120_001, 120_001, -10**12, 10**12])
def test_stale_and_future_timestamps_are_refused(offset_ms):
    v, _ = verifier(ALICE)
    with pytest.raises(StaleFrame):
        v.open(seal(ALICE, offset_ms=offset_ms))
    assert v.peer_key is None  # a stale frame proves nothing about the peer


@pytest.mark.parametrize("offset_ms", [-120_000, 120_000])
def test_timestamps_at_the_window_edge_are_accepted(offset_ms):
    v, _ = verifier(ALICE)
    v.open(seal(ALICE, offset_ms=offset_ms))


def test_window_comes_from_limits():
    v = Verifier(lambda: [ALICE.public_key], clock=lambda: NOW, limits=Limits(ts_window_ms=10))
    with pytest.raises(StaleFrame):
        v.open(seal(ALICE, offset_ms=11))


def test_replayed_frame_is_refused():
    v, _ = verifier(ALICE)
    body = seal(ALICE)
    v.open(body)
    with pytest.raises(ReplayedFrame):
        v.open(body)


def test_a_shared_replay_cache_catches_replays_across_connections():
    cache = ReplayCache(120_000, 1000)
    body = seal(ALICE)
    verifier(ALICE, replay=cache)[0].open(body)
    with pytest.raises(ReplayedFrame):
        verifier(ALICE, replay=cache)[0].open(body)
    # Without sharing, each connection has its own memory.
    verifier(ALICE)[0].open(body)


def test_revoked_key_is_refused_on_the_next_frame():
    v, keys = verifier(ALICE, BOB)
    v.open(seal(ALICE))
    keys.remove(ALICE.public_key)
    with pytest.raises(UnknownKey, match="revoked"):
        v.open(seal(ALICE))
