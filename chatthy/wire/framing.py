"""Length-prefixed framing, sans-IO: a 4-byte big-endian length N, then N bytes.

The decoder judges every length header the moment its 4 bytes arrive, before
buffering any of the body, so a peer announcing 4 GiB costs us nothing.
"""

from __future__ import annotations

from chatthy.wire.errors import FrameTooLarge, IncompleteFrame

# int.to_bytes/from_bytes rather than struct: the same speed per frame, and
# one import fewer on every client start.
HEADER_SIZE = 4
_MAX_ENCODABLE = 2**32 - 1


def encode_frame(body: bytes, max_size: int) -> bytes:
    """Prefix ``body`` with its length; refuse bodies the peer would refuse."""
    size = len(body)
    if size > max_size or size > _MAX_ENCODABLE:
        raise FrameTooLarge(
            f"frame of {size} bytes exceeds the limit of {min(max_size, _MAX_ENCODABLE)} bytes"
        )
    return size.to_bytes(HEADER_SIZE, "big") + body


class FrameDecoder:
    """Turns a byte stream into frame bodies.

    ``max_size`` may be raised once the peer has authenticated. A header that
    follows a complete frame in the same ``feed`` is only judged after that
    frame has been returned, so a limit raised in between applies to it: call
    ``feed(b"")`` after raising the limit to pick up what is already buffered.
    """

    __slots__ = ("max_size", "_buf")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as part of a complete frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        buf += data
        bodies: list[bytes] = []
        pos = 0
        end = len(buf)
        while end - pos >= HEADER_SIZE:
            size = int.from_bytes(buf[pos : pos + HEADER_SIZE], "big")
            if size > self.max_size:
                if bodies:
                    # Defer: the caller may raise the limit after handling these.
                    break
                del buf[:]
                raise FrameTooLarge(
                    f"peer announced a frame of {size} bytes; the limit is {self.max_size} bytes"
                )
            start = pos + HEADER_SIZE
            if end - start < size:
                break
            # Through a memoryview: one copy of the body instead of two.
            with memoryview(buf) as view:
                bodies.append(view[start : start + size].tobytes())
            pos = start + size
        if pos:
            # One compaction per feed keeps consuming many small frames linear.
            del buf[:pos]
        return bodies

    def eof(self) -> None:
        """Call when the stream ends; a partially received frame is an error."""
        if self._buf:
            have = len(self._buf)
            if have < HEADER_SIZE:
                detail = f"{have} of the {HEADER_SIZE} header bytes"
            else:
                size = int.from_bytes(self._buf[:HEADER_SIZE], "big")
                detail = f"{have - HEADER_SIZE} of {size} body bytes"
            raise IncompleteFrame(f"connection closed in the middle of a frame ({detail} received)")
