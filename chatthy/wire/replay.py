"""A bounded memory of recently seen nonces, to refuse replayed frames.

A nonce only needs remembering while its timestamp is still acceptable: once
``ts + window`` has passed, a replay of that frame is refused as stale anyway.
"""

from __future__ import annotations

from _collections import deque  # collections.deque itself; the package costs starts ~1.5 ms

from chatthy.wire.errors import ReplayCacheFull, ReplayedFrame, StaleFrame


class ReplayCache:
    """Nonces kept in arrival order with their expiry (``ts + window``).

    Pruning pops expired entries from the front, so each entry is removed at
    most once: amortised O(1). Timestamps need not be monotonic: an entry with
    a later expiry at the front only delays pruning of those behind it, never
    forgets a live nonce; and since an accepted ts is within one window of its
    arrival, every entry leaves within two windows of arriving. An expired
    entry still lingering is ignored by the lookup, so it never refuses a frame.
    """

    __slots__ = ("window_ms", "max_entries", "_order", "_seen")

    def __init__(self, window_ms: int, max_entries: int) -> None:
        self.window_ms = window_ms
        self.max_entries = max_entries
        self._order: deque[tuple[int, str]] = deque()
        self._seen: dict[str, int] = {}  # nonce -> expiry

    def __len__(self) -> int:
        return len(self._seen)

    def _prune(self, now_ms: int) -> None:
        order, seen = self._order, self._seen
        while order and order[0][0] < now_ms:
            expiry, nonce = order.popleft()
            # The nonce may have been accepted again after this entry expired.
            if seen.get(nonce) == expiry:
                del seen[nonce]

    def check(self, nonce: str, ts_ms: int, now_ms: int) -> None:
        """Accept and remember ``nonce``, or raise saying why the frame is refused."""
        skew = ts_ms - now_ms
        if skew > self.window_ms:
            raise StaleFrame(
                f"frame timestamp is {skew / 1000:.1f} s in the future "
                f"(allowed: {self.window_ms / 1000:g} s): check both clocks"
            )
        if -skew > self.window_ms:
            raise StaleFrame(
                f"frame timestamp is {-skew / 1000:.1f} s old "
                f"(allowed: {self.window_ms / 1000:g} s): a replay or a wrong clock"
            )
        self._prune(now_ms)
        expiry = self._seen.get(nonce)
        if expiry is not None and expiry >= now_ms:
            raise ReplayedFrame("frame nonce was already used: a replayed frame")
        if len(self._seen) >= self.max_entries:
            raise ReplayCacheFull(
                f"more than {self.max_entries} frames within {self.window_ms / 1000:g} s: slow down"
            )
        expiry = ts_ms + self.window_ms
        self._seen[nonce] = expiry
        self._order.append((expiry, nonce))
