import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatthy.wire.envelope import TYPES, Envelope, dump_payload, parse_envelope
from chatthy.wire.errors import BadEnvelope
from chatthy.wire.limits import Limits

# Text strategies build their character tables on first use, which can make
# the first draw slow on a busy machine; that is not what these tests measure.
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEY = "ab" * 32
NONCE = "0f" * 16


def payload(**overrides):
    fields = {"v": 1, "type": "ack", "id": "r1", "ts": 1_700_000_000_000, "nonce": NONCE, "key": KEY}
    fields.update(overrides)
    return dump_payload({k: v for k, v in fields.items() if v is not ...})


def test_minimal_envelope():
    env = parse_envelope(payload())
    assert env == Envelope(v=1, type="ack", id="r1", ts=1_700_000_000_000, nonce=NONCE, key=KEY)


def test_request_params_default_to_empty_dict():
    env = parse_envelope(payload(type="request", method="chat.send"))
    assert env.method == "chat.send" and env.params == {}


def test_error_and_chunk_envelopes():
    err = parse_envelope(payload(type="error", data={"code": "not_found", "message": "no chat"}))
    assert err.data["code"] == "not_found"
    chunk = parse_envelope(payload(type="chunk", seq=0, data={"text": "hé"}))
    assert chunk.seq == 0 and chunk.data == {"text": "hé"}


def test_dump_payload_is_compact_utf8():
    assert dump_payload({"a": [1, 2], "t": "é"}) == '{"a":[1,2],"t":"é"}'.encode()


def test_version_mismatch_says_what_to_do():
    with pytest.raises(BadEnvelope, match="protocol version 2, this side speaks 1: upgrade chatthy"):
        parse_envelope(payload(v=2, extra_field_from_the_future=True))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"v": ...}, "missing field 'v'"),
        ({"v": True}, "'v' must be an integer"),
        ({"bogus": 1}, "unknown field"),
        ({"type": "shout"}, "'type' must be one of"),
        ({"id": ""}, "non-empty string"),
        ({"id": 5}, "non-empty string"),
        ({"id": "x" * 129}, "limit is 128"),
        ({"ts": ...}, "missing field 'ts'"),
        ({"ts": 1.5}, "'ts' must be an integer"),
        ({"ts": True}, "'ts' must be an integer"),
        ({"nonce": "0F" * 16}, "'nonce' must be 32 lowercase hex"),
        ({"nonce": NONCE + "00"}, "'nonce'"),
        ({"key": KEY[:-1]}, "'key' must be 64 lowercase hex"),
        ({"seq": -1}, "'seq' must be a non-negative integer"),
        ({"seq": False}, "'seq' must be a non-negative integer"),
        ({"type": "chunk"}, "chunk frame needs 'seq'"),
        ({"type": "event"}, "event frame needs 'seq'"),
        ({"type": "request"}, "request frame needs 'method'"),
        ({"type": "request", "method": "Chat"}, "'method' must match"),
        ({"type": "request", "method": "a" * 65}, "'method' must match"),
        ({"type": "request", "method": "x", "params": [1]}, "'params' must be an object"),
        ({"type": "error"}, "error frame needs 'data'"),
        ({"type": "error", "data": {"code": "x"}}, "string 'code' and 'message'"),
    ],
)
def test_invalid_fields_are_refused_with_a_reason(overrides, reason):
    with pytest.raises(BadEnvelope, match=reason):
        parse_envelope(payload(**overrides))


def test_id_limit_comes_from_limits():
    with pytest.raises(BadEnvelope):
        parse_envelope(payload(id="abcd"), Limits(max_id_len=3))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"v": 1, "v": 1}', "duplicate key"),
        (b'{"v": NaN}', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON"),
        (b'{"v": 1, "id": "\\ud800"}', "not valid UTF-8"),
        (b"", "not valid JSON"),
    ],
)
def test_malformed_payloads(raw, reason):
    with pytest.raises(BadEnvelope, match=reason):
        parse_envelope(raw)


def test_escaped_surrogate_pairs_are_fine():
    env = parse_envelope(payload(data={"text": "\U0001f600"}).replace("😀".encode(), b"\\ud83d\\ude00"))
    assert env.data == {"text": "\U0001f600"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
field_values = st.one_of(
    json_values,
    st.sampled_from([1, 2, 0, "request", "chunk", "error", "x", NONCE, KEY, "chat.send", {}, -1]),
    st.sampled_from(sorted(TYPES)),
)
envelope_like = st.dictionaries(
    st.sampled_from(["v", "type", "id", "ts", "nonce", "key", "seq", "method", "params", "data", "zz"]),
    field_values,
)


@relaxed
@given(envelope_like)
def test_parse_envelope_only_ever_raises_bad_envelope(fields):
    raw = json.dumps(fields).encode()
    try:
        env = parse_envelope(raw)
    except BadEnvelope:
        return
    assert env.v == 1 and env.type in TYPES


@relaxed
@given(st.binary(max_size=200))
def test_arbitrary_bytes_only_ever_raise_bad_envelope(raw):
    with pytest.raises(BadEnvelope):
        parse_envelope(raw)
