"""Protocol version and the numeric limits both ends of the wire enforce."""

from __future__ import annotations

PROTOCOL_VERSION = 1


# Plain classes, not dataclasses or namedtuples, across the client's import
# path: importing dataclasses (with inspect) or building a namedtuple would add
# to every client start.
class Limits:
    """Bounds that keep a misbehaving or hostile peer from exhausting memory or time.

    ``max_preauth_frame`` is deliberately small: until a peer's first frame has
    verified, it has proven nothing, so it may not make us buffer megabytes.
    """

    __slots__ = ("max_frame", "max_preauth_frame", "ts_window_ms", "replay_cache_max", "first_frame_timeout",
                 "max_id_len")

    def __init__(self, max_frame: int = 32 * 1024 * 1024, max_preauth_frame: int = 64 * 1024,
                 ts_window_ms: int = 120_000, replay_cache_max: int = 200_000, first_frame_timeout: float = 10.0,
                 max_id_len: int = 128) -> None:
        self.max_frame, self.max_preauth_frame, self.ts_window_ms = max_frame, max_preauth_frame, ts_window_ms
        self.replay_cache_max, self.first_frame_timeout, self.max_id_len = (replay_cache_max, first_frame_timeout,
                                                                             max_id_len)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Limits) and all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __repr__(self) -> str:
        return "Limits(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"


DEFAULT_LIMITS = Limits()
