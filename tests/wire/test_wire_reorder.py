import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.wire.envelope import Envelope
from chatthy.wire.errors import StreamCorrupt, StreamGap
from chatthy.wire.reorder import StreamAssembler, StreamDigest, text_digest

KEY = "ab" * 32


def chunk(seq, text=None, stream="s1"):
    data = {"text": text if text is not None else f"<{seq}>"}
    return Envelope(v=1, type="chunk", id=stream, ts=0, nonce=f"{seq:032x}", key=KEY, seq=seq, data=data)


def end(count, sha256, stream="s1"):
    return Envelope(v=1, type="end", id=stream, ts=0, nonce="f" * 32, key=KEY, data={"count": count, "sha256": sha256})


def full_text(n):
    return "".join(f"<{seq}>" for seq in range(n))


@settings(deadline=None)
@given(st.integers(0, 40).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.permutations(list(range(n))),
        st.lists(st.integers(0, max(n - 1, 0)), max_size=20) if n else st.just([]),
        st.randoms(use_true_random=False),
    )
))
def test_any_order_with_duplicates_delivers_each_chunk_once_in_order(case):
    n, order, dups, rng = case
    arrivals = list(order) + dups
    rng.shuffle(arrivals)
    asm = StreamAssembler("s1")
    delivered = [env.seq for seq in arrivals for env in asm.feed(chunk(seq))]
    assert delivered == list(range(n))
    assert asm.next_seq == n and asm.text == full_text(n)
    asm.finish(end(n, text_digest(full_text(n))))


def test_gap_is_detected_and_named():
    asm = StreamAssembler("s1")
    for seq in (0, 1, 4, 7):
        asm.feed(chunk(seq))
    assert asm.next_seq == 2
    with pytest.raises(StreamGap, match=r"missing chunk\(s\) 2-3, 5-6, 8-9 of 10; resume from seq 2"):
        asm.finish(end(10, text_digest(full_text(10))))


def test_gap_with_an_absurd_count_is_cheap():
    asm = StreamAssembler("s1")
    asm.feed(chunk(0))
    with pytest.raises(StreamGap, match="1-999999999999"):
        asm.finish(end(10**12, "0" * 64))


def test_wrong_digest_is_detected():
    asm = StreamAssembler("s1")
    for seq in range(3):
        asm.feed(chunk(seq))
    with pytest.raises(StreamCorrupt, match="sha256"):
        asm.finish(end(3, text_digest("something else")))


def test_more_chunks_than_announced_is_corrupt():
    asm = StreamAssembler("s1")
    for seq in range(3):
        asm.feed(chunk(seq))
    with pytest.raises(StreamCorrupt, match="announces 2 chunks"):
        asm.finish(end(2, text_digest(full_text(2))))


@pytest.mark.parametrize("data", [None, {"count": "3", "sha256": "x"}, {"count": True, "sha256": "x"}, {"count": 3}])
def test_malformed_end_frame(data):
    asm = StreamAssembler("s1")
    bad = Envelope(v=1, type="end", id="s1", ts=0, nonce="f" * 32, key=KEY, data=data)
    with pytest.raises(StreamCorrupt, match="end frame lacks"):
        asm.finish(bad)


def test_too_many_chunks_ahead_of_a_gap():
    asm = StreamAssembler("s1", max_buffered=5)
    for seq in range(1, 6):
        asm.feed(chunk(seq))
    with pytest.raises(StreamGap, match="ahead of missing chunk 0"):
        asm.feed(chunk(6))
    assert [env.seq for env in asm.feed(chunk(0))] == [0, 1, 2, 3, 4, 5]


def test_resume_from_a_later_seq_with_the_text_so_far():
    asm = StreamAssembler("s1", start_seq=3, prefix_text=full_text(3))
    assert asm.next_seq == 3 and asm.text == full_text(3)
    assert asm.feed(chunk(1)) == []  # resent and already had
    for seq in (4, 3, 5):
        asm.feed(chunk(seq))
    assert asm.text == full_text(6)
    asm.finish(end(6, text_digest(full_text(6))))


def test_chunks_without_text_count_but_add_nothing():
    asm = StreamAssembler("s1")
    asm.feed(Envelope(v=1, type="chunk", id="s1", ts=0, nonce="0" * 32, key=KEY, seq=0, data={"tool": "x"}))
    asm.feed(chunk(1, "hi"))
    assert asm.text == "hi"
    asm.finish(end(2, text_digest("hi")))


def test_frames_of_another_stream_are_a_caller_bug():
    with pytest.raises(ValueError):
        StreamAssembler("s1").feed(chunk(0, stream="s2"))


def test_stream_digest_matches_text_digest():
    digest = StreamDigest()
    for part in ("héllo", " ", "wörld", ""):
        digest.update(part)
    assert digest.count == 4
    assert digest.hexdigest() == text_digest("héllo wörld")


# -- frames that carry several chunks (the daemon coalesces for lagging readers) --

def _multi(sid, seq, texts):
    from chatthy.wire.envelope import Envelope

    data = {"text": "".join(texts)} if len(texts) == 1 else {"text": "".join(texts), "n": len(texts)}
    return Envelope(v=1, type="chunk", id=sid, ts=0, nonce="0" * 32, key="0" * 64, seq=seq, data=data)


def _end(sid, count, text):
    from chatthy.wire.envelope import Envelope
    from chatthy.wire.reorder import text_digest

    return Envelope(v=1, type="end", id=sid, ts=0, nonce="0" * 32, key="0" * 64,
                    data={"count": count, "sha256": text_digest(text)})


@given(st.lists(st.text(max_size=5), min_size=1, max_size=40), st.data())
def test_coalesced_frames_in_any_order_reassemble(chunks, data):
    from chatthy.wire.reorder import StreamAssembler

    # cut the chunk list into consecutive groups, one frame each, then shuffle with duplicates
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(chunks) - 1), max_size=10)) if len(chunks) > 1 else []))
    bounds = [0, *cuts, len(chunks)]
    frames = [_multi("s", a, chunks[a:b]) for a, b in zip(bounds, bounds[1:])]
    order = data.draw(st.permutations(frames + frames[: data.draw(st.integers(0, len(frames)))]))
    asm = StreamAssembler("s")
    delivered = []
    for f in order:
        delivered += asm.feed(f)
    assert asm.next_seq == len(chunks)
    assert asm.text == "".join(chunks)
    asm.finish(_end("s", len(chunks), "".join(chunks)))
    assert len(delivered) == len(frames)


def test_a_frame_straddling_what_was_delivered_is_corrupt():
    import pytest

    from chatthy.wire.errors import StreamCorrupt
    from chatthy.wire.reorder import StreamAssembler

    asm = StreamAssembler("s")
    asm.feed(_multi("s", 0, ["a", "b"]))
    with pytest.raises(StreamCorrupt):
        asm.feed(_multi("s", 1, ["b", "c"]))


def test_invalid_chunk_count_is_corrupt():
    import pytest

    from chatthy.wire.envelope import Envelope
    from chatthy.wire.errors import StreamCorrupt
    from chatthy.wire.reorder import StreamAssembler

    env = Envelope(v=1, type="chunk", id="s", ts=0, nonce="0" * 32, key="0" * 64, seq=0, data={"text": "x", "n": 0})
    with pytest.raises(StreamCorrupt):
        StreamAssembler("s").feed(env)
