"""Protocol version and the numeric limits both ends of the wire enforce."""

from __future__ import annotations

from collections import namedtuple

PROTOCOL_VERSION = 1

# namedtuples, not dataclasses, across the client's import path: importing
# dataclasses (and inspect with it) would add milliseconds to every start.
_FIELDS = {
    "max_frame": 32 * 1024 * 1024,
    "max_preauth_frame": 64 * 1024,
    "ts_window_ms": 120_000,
    "replay_cache_max": 200_000,
    "first_frame_timeout": 10.0,
    "max_id_len": 128,
}


class Limits(namedtuple("Limits", list(_FIELDS), defaults=list(_FIELDS.values()))):
    """Bounds that keep a misbehaving or hostile peer from exhausting memory or time.

    ``max_preauth_frame`` is deliberately small: until a peer's first frame has
    verified, it has proven nothing, so it may not make us buffer megabytes.
    """

    __slots__ = ()


DEFAULT_LIMITS = Limits()
