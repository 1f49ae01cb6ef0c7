"""Fuzzing the wire: frame decoding, envelopes, signatures, encryption, reassembly.

Whatever bytes arrive, the only thing that may come out is a typed
``WireError`` (or the right answer): never another exception, never a hang,
never a buffer that grows past the frame limit.

``CHATTHY_FUZZ_EXAMPLES`` sets the examples per property (default 300); the
long run is documented in README.md ("Reliability").
"""

from __future__ import annotations

import json
import os
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatthy.wire.box import BoxCache, FrameCipher
from chatthy.wire.ed25519 import SigningKey
from chatthy.wire.envelope import parse_envelope
from chatthy.wire.errors import WireError
from chatthy.wire.framing import FrameDecoder, encode_frame
from chatthy.wire.reorder import StreamAssembler, StreamDigest
from chatthy.wire.signing import Signer, Verifier

EXAMPLES = int(os.environ.get("CHATTHY_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

CLIENT = SigningKey(b"c" * 32)
DAEMON = SigningKey(b"d" * 32)
SIGNER = Signer(CLIENT)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["v", "type", "id", "ts", "nonce", "key", "seq", "method", "params", "data"]


@FUZZ
@given(st.binary(max_size=4096), st.lists(st.integers(1, 600), max_size=20), st.integers(0, 2048))
def test_frame_decoder_on_any_bytes(data, cuts, max_size):
    decoder = FrameDecoder(max_size)
    pos = 0
    pieces = []
    for cut in cuts:
        pieces.append(data[pos:pos + cut])
        pos += cut
    pieces.append(data[pos:])
    out = []
    try:
        for piece in pieces:
            out += decoder.feed(piece)
            # Never holds more than one frame's worth plus what one read brought.
            assert decoder.buffered <= max_size + 4 + len(piece)
        decoder.eof()
    except WireError:
        return
    assert all(len(body) <= max_size for body in out)


@FUZZ
@given(st.lists(st.binary(max_size=300), max_size=8), st.lists(st.integers(1, 97), max_size=30))
def test_frame_decoder_returns_exactly_what_was_framed(bodies, cuts):
    stream = b"".join(encode_frame(b, 1024) for b in bodies)
    decoder = FrameDecoder(1024)
    out, pos = [], 0
    for cut in cuts:
        out += decoder.feed(stream[pos:pos + cut])
        pos += cut
    out += decoder.feed(stream[pos:])
    decoder.eof()
    assert out == bodies


@FUZZ
@given(st.binary(max_size=2048))
def test_envelope_parser_on_any_bytes(payload):
    try:
        parse_envelope(payload)
    except WireError:
        pass


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS + ["extra", "V"]), json_values, max_size=12))
def test_envelope_parser_on_any_json_object(obj):
    try:
        env = parse_envelope(json.dumps(obj).encode())
    except WireError:
        return
    assert env.type in ("request", "chunk", "end", "error", "event", "cancel", "ack")


VALID = {"v": 1, "type": "request", "id": "r1", "ts": 1, "nonce": "a" * 32, "key": "b" * 64,
         "method": "chat.list", "params": {}}


@FUZZ
@given(st.sampled_from(FIELDS), json_values)
def test_envelope_parser_on_one_field_replaced(field, value):
    obj = dict(VALID, **{field: value})
    try:
        parse_envelope(json.dumps(obj).encode())
    except WireError:
        pass


@FUZZ
@given(st.binary(max_size=600), st.integers(0, 10))
def test_verifier_on_any_body_and_on_flipped_bits(junk, flips):
    verifier = Verifier(lambda: [SIGNER.public_key])
    try:
        verifier.open(junk)
    except WireError:
        pass
    original = SIGNER.seal("request", "x", method="chat.list", params={})
    body = bytearray(original)
    for i in range(flips):
        body[(i * 7919) % len(body)] ^= 1 << (i % 8)
    try:
        Verifier(lambda: [SIGNER.public_key]).open(bytes(body))
    except WireError:
        assert bytes(body) != original
    else:
        assert bytes(body) == original  # only the untouched frame verifies


@FUZZ
@given(st.binary(max_size=600), st.lists(st.integers(0, 400), max_size=4))
def test_box_opens_nothing_but_what_was_sealed(junk, flips):
    daemon_side = FrameCipher.daemon(BoxCache(DAEMON), lambda: [SIGNER.public_key])
    try:
        daemon_side.open(junk)
    except WireError:
        pass
    client = FrameCipher.client(CLIENT, Signer(DAEMON).public_key)
    sealed = bytearray(client.seal(b"the body"))
    for f in flips:
        sealed[f % len(sealed)] ^= 0x40
    fresh = FrameCipher.daemon(BoxCache(DAEMON), lambda: [SIGNER.public_key])
    try:
        assert fresh.open(bytes(sealed)) == b"the body"
    except WireError:
        assert flips  # a changed byte never opens


@FUZZ
@given(st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=30), st.randoms(use_true_random=False))
def test_stream_assembler_survives_duplicates_and_disorder(texts, rnd):
    from chatthy.wire.envelope import Envelope

    frames = [Envelope(v=1, type="chunk", id="s", ts=0, nonce="0" * 32, key="0" * 64, seq=i, data={"text": t})
              for i, t in enumerate(texts)]
    delivery = frames + [rnd.choice(frames) for _ in range(len(frames) // 2)]
    rnd.shuffle(delivery)
    assembler = StreamAssembler("s")
    for env in delivery:
        assembler.feed(env)
    digest = StreamDigest()
    for t in texts:
        digest.update(t)
    end = Envelope(v=1, type="end", id="s", ts=0, nonce="0" * 32, key="0" * 64,
                   data={"count": len(texts), "sha256": digest.hexdigest()})
    assembler.finish(end)
    assert assembler.text == "".join(texts)


def test_an_absurd_length_header_costs_nothing():
    decoder = FrameDecoder(1024)
    try:
        decoder.feed(struct.pack(">I", 2**32 - 1))
    except WireError as exc:
        assert exc.code == "too_large"
    assert decoder.buffered == 0
