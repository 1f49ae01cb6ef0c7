"""Protocol version and the numeric limits both ends of the wire enforce."""

from __future__ import annotations

from dataclasses import dataclass

PROTOCOL_VERSION = 1


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a misbehaving or hostile peer from exhausting memory or time.

    ``max_preauth_frame`` is deliberately small: until a peer's first frame has
    verified, it has proven nothing, so it may not make us buffer megabytes.
    """

    max_frame: int = 32 * 1024 * 1024
    max_preauth_frame: int = 64 * 1024
    ts_window_ms: int = 120_000
    replay_cache_max: int = 200_000
    first_frame_timeout: float = 10.0
    max_id_len: int = 128


DEFAULT_LIMITS = Limits()
