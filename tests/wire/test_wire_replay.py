import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.wire.errors import ReplayCacheFull, ReplayedFrame, StaleFrame
from chatthy.wire.replay import ReplayCache

W = 1000


def test_replay_refused_until_the_timestamp_expires():
    cache = ReplayCache(W, 100)
    cache.check("n1", 5000, 5000)
    with pytest.raises(ReplayedFrame):
        cache.check("n1", 5000, 5000 + W)
    with pytest.raises(StaleFrame):
        cache.check("n1", 5000, 5000 + W + 1)


def test_expired_entries_are_pruned():
    cache = ReplayCache(W, 100)
    for i in range(50):
        cache.check(f"n{i}", 1000 + i, 1000 + i)
    assert len(cache) == 50
    cache.check("later", 1049 + W + 1, 1049 + W + 1)
    assert len(cache) == 1


def test_full_cache_refuses_until_entries_expire():
    cache = ReplayCache(W, 3)
    for i in range(3):
        cache.check(f"n{i}", 0, 0)
    with pytest.raises(ReplayCacheFull, match="slow down"):
        cache.check("n3", 0, 0)
    cache.check("n3", W + 1, W + 1)
    assert len(cache) == 1


def test_future_dated_entry_is_remembered_while_its_ts_is_acceptable():
    cache = ReplayCache(W, 100)
    cache.check("old", 0, 0)
    cache.check("future", 10 + W, 10)  # allowed: exactly one window ahead
    cache.check("x", 10, 10)
    # Much later, "old" and "x" are gone but "future" is still acceptable by ts.
    with pytest.raises(ReplayedFrame):
        cache.check("future", 10 + W, 10 + 2 * W)


def test_entries_behind_a_long_lived_one_are_gone_within_two_windows():
    cache = ReplayCache(W, 10_000)
    cache.check("future", W, 0)
    for t in range(1, 500):
        cache.check(f"n{t}", t - W, t)
    cache.check("late", 2 * W + 1, 2 * W + 1)
    assert len(cache) == 1


@settings(deadline=None, max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcde"),  # few nonces: many collisions
            st.integers(-2 * W, 2 * W),  # ts relative to now
            st.integers(0, W // 2),  # how far the clock moves first
        ),
        max_size=60,
    )
)
def test_matches_a_reference_model(events):
    cache = ReplayCache(W, 10**6)
    accepted: list[tuple[str, int]] = []
    now = 0
    for nonce, offset, advance in events:
        now += advance
        ts = now + offset
        if abs(now - ts) > W:
            expected = StaleFrame
        elif any(n == nonce and t + W >= now for n, t in accepted):
            expected = ReplayedFrame
        else:
            expected = None
        if expected is None:
            cache.check(nonce, ts, now)
            accepted.append((nonce, ts))
        else:
            with pytest.raises(expected):
                cache.check(nonce, ts, now)
