"""Wire-level failures: framing, envelopes, signatures, replays, streams, keys.

The wire package imports nothing of chatthy, so these do not derive from
``chatthy.errors.ChatthyError``; each carries the same stable ``code`` so the
daemon can answer with an ``error`` frame and the CLI can map it::

    WireError                          code
    ├── FrameTooLarge                  too_large
    ├── IncompleteFrame                bad_frame      EOF in the middle of a frame
    ├── ConnectionClosed               bad_frame      clean EOF between frames
    ├── BadEnvelope                    bad_request
    ├── BadSignature                   unauthorised
    ├── UnknownKey                     unauthorised
    ├── StaleFrame                     unauthorised   ts outside the window
    ├── ReplayedFrame                  unauthorised
    ├── ReplayCacheFull                busy
    ├── StreamGap                      bad_frame
    ├── StreamCorrupt                  bad_frame
    └── KeyFileError                   config_error
"""

from __future__ import annotations


class WireError(Exception):
    """Base of every error raised by ``chatthy.wire``."""

    code = "bad_frame"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FrameTooLarge(WireError):
    """A frame announced (or a sender tried to send) more bytes than allowed."""

    code = "too_large"


class IncompleteFrame(WireError):
    """The connection ended part-way through a frame."""

    code = "bad_frame"


class ConnectionClosed(WireError):
    """The peer closed the connection between frames (or reset it)."""

    code = "bad_frame"


class BadEnvelope(WireError):
    """The payload is not a valid envelope: bad JSON, fields, types or version."""

    code = "bad_request"


class BadSignature(WireError):
    """The signature does not verify with the key this connection is pinned to."""

    code = "unauthorised"


class UnknownKey(WireError):
    """The frame is not signed by any authorised key, or the key was revoked."""

    code = "unauthorised"


class StaleFrame(WireError):
    """The frame's timestamp is too far in the past or the future."""

    code = "unauthorised"


class ReplayedFrame(WireError):
    """The frame's nonce was already seen within the timestamp window."""

    code = "unauthorised"


class ReplayCacheFull(WireError):
    """Too many live nonces to remember; the peer must slow down."""

    code = "busy"


class StreamGap(WireError):
    """Chunks of a stream are missing (or too many arrived out of order)."""

    code = "bad_frame"


class StreamCorrupt(WireError):
    """A stream's text does not match the count or digest its end frame announced."""

    code = "bad_frame"


class KeyFileError(WireError):
    """A key file is unsafe (permissions) or unreadable."""

    code = "config_error"
