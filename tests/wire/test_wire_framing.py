import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.wire.errors import FrameTooLarge, IncompleteFrame
from chatthy.wire.framing import FrameDecoder, encode_frame


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[start:point])
        start = point
    return pieces


@settings(deadline=None)
@given(
    bodies=st.lists(st.binary(max_size=300), max_size=12),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=20),
)
def test_round_trip_at_any_split_points(bodies, cuts):
    stream = b"".join(encode_frame(body, 1000) for body in bodies)
    decoder = FrameDecoder(1000)
    out = []
    for piece in split(stream, cuts):
        out.extend(decoder.feed(piece))
    assert out == bodies
    assert decoder.buffered == 0
    decoder.eof()


def test_zero_length_frames_are_allowed():
    decoder = FrameDecoder(10)
    assert decoder.feed(encode_frame(b"", 10) * 3) == [b"", b"", b""]


@pytest.mark.parametrize("announced", [2**32 - 1, 1001])
def test_oversized_header_is_refused_before_any_body(announced):
    decoder = FrameDecoder(1000)
    with pytest.raises(FrameTooLarge, match=f"{announced} bytes"):
        decoder.feed(struct.pack(">I", announced))


def test_oversized_header_split_across_feeds_is_refused_on_its_last_byte():
    decoder = FrameDecoder(1000)
    header = struct.pack(">I", 2**32 - 1)
    assert decoder.feed(header[:3]) == []
    with pytest.raises(FrameTooLarge):
        decoder.feed(header[3:])


def test_frame_of_exactly_the_limit_is_accepted():
    body = b"x" * 1000
    assert FrameDecoder(1000).feed(encode_frame(body, 1000)) == [body]


def test_encode_refuses_a_body_above_the_limit():
    with pytest.raises(FrameTooLarge):
        encode_frame(b"x" * 11, 10)


def test_raising_the_limit_applies_to_frames_already_buffered_behind_one():
    decoder = FrameDecoder(10)
    big = b"y" * 50
    assert decoder.feed(encode_frame(b"hello", 10) + encode_frame(big, 100)) == [b"hello"]
    decoder.max_size = 100
    assert decoder.feed(b"") == [big]


def test_a_deferred_oversized_header_fails_on_the_next_feed():
    decoder = FrameDecoder(10)
    assert decoder.feed(encode_frame(b"ok", 10) + struct.pack(">I", 11)) == [b"ok"]
    with pytest.raises(FrameTooLarge):
        decoder.feed(b"")


@pytest.mark.parametrize("partial", [b"\x00\x00", struct.pack(">I", 5) + b"abc"])
def test_eof_in_the_middle_of_a_frame(partial):
    decoder = FrameDecoder(100)
    assert decoder.feed(partial) == []
    assert decoder.buffered == len(partial)
    with pytest.raises(IncompleteFrame, match="middle of a frame"):
        decoder.eof()


def test_eof_between_frames_is_clean():
    decoder = FrameDecoder(100)
    decoder.feed(encode_frame(b"abc", 100))
    decoder.eof()
