"""The wire protocol shared by the daemon and the clients.

Frames (``framing``) carry signed bodies (``signing``) whose payload is a
strict JSON envelope (``envelope``); ``replay`` refuses replays, ``reorder``
reassembles streams, ``keys`` manages key files, and ``channel_sync`` /
``channel_async`` tie it together on a socket for the client and the daemon.

Names are re-exported lazily: importing ``chatthy.wire`` (or just
``chatthy.wire.errors``) must not pay for nacl or json until they are used,
because the client's start-up time is a feature. ``AsyncChannel`` is not
re-exported at all: it needs anyio, so the daemon imports
``chatthy.wire.channel_async`` directly. This package imports nothing of
chatthy outside itself.
"""

from __future__ import annotations

TYPE_CHECKING = False  # importing typing costs every client start ~3 ms

_EXPORTS = {
    "limits": ("PROTOCOL_VERSION", "Limits", "DEFAULT_LIMITS"),
    "errors": (
        "WireError", "FrameTooLarge", "IncompleteFrame", "ConnectionClosed", "BadEnvelope",
        "BadSignature", "UnknownKey", "StaleFrame", "ReplayedFrame", "ReplayCacheFull",
        "StreamGap", "StreamCorrupt", "KeyFileError",
    ),
    "framing": ("encode_frame", "FrameDecoder"),
    "envelope": ("TYPES", "Envelope", "parse_envelope", "dump_payload"),
    "replay": ("ReplayCache",),
    "signing": ("Signer", "Verifier"),
    "keys": (
        "load_or_create_signing_key", "public_hex", "AuthorizedKeys", "LocalKeys",
        "ensure_local_keys", "load_client_keys",
    ),
    "reorder": ("text_digest", "StreamDigest", "StreamAssembler"),
    "channel_sync": ("SyncChannel",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "PROTOCOL_VERSION", "Limits", "DEFAULT_LIMITS",
    "WireError", "FrameTooLarge", "IncompleteFrame", "ConnectionClosed", "BadEnvelope",
    "BadSignature", "UnknownKey", "StaleFrame", "ReplayedFrame", "ReplayCacheFull",
    "StreamGap", "StreamCorrupt", "KeyFileError",
    "encode_frame", "FrameDecoder",
    "TYPES", "Envelope", "parse_envelope", "dump_payload",
    "ReplayCache",
    "Signer", "Verifier",
    "load_or_create_signing_key", "public_hex", "AuthorizedKeys", "LocalKeys",
    "ensure_local_keys", "load_client_keys",
    "text_digest", "StreamDigest", "StreamAssembler",
    "SyncChannel",
]


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:
    from chatthy.wire.channel_sync import SyncChannel
    from chatthy.wire.envelope import TYPES, Envelope, dump_payload, parse_envelope
    from chatthy.wire.errors import (
        BadEnvelope, BadSignature, ConnectionClosed, FrameTooLarge, IncompleteFrame,
        KeyFileError, ReplayCacheFull, ReplayedFrame, StaleFrame, StreamCorrupt, StreamGap,
        UnknownKey, WireError,
    )
    from chatthy.wire.framing import FrameDecoder, encode_frame
    from chatthy.wire.keys import (
        AuthorizedKeys, LocalKeys, ensure_local_keys, load_client_keys,
        load_or_create_signing_key, public_hex,
    )
    from chatthy.wire.limits import DEFAULT_LIMITS, PROTOCOL_VERSION, Limits
    from chatthy.wire.reorder import StreamAssembler, StreamDigest, text_digest
    from chatthy.wire.replay import ReplayCache
    from chatthy.wire.signing import Signer, Verifier
