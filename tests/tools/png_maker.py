"""Real PNGs for tests, written with zlib alone: one grey value, any size."""

from __future__ import annotations

import struct
import zlib


def png(width: int, height: int, *, grey: int = 0x80, padding: int = 0) -> bytes:
    """A real PNG of ``width``×``height`` grey pixels.

    ``grey`` makes a different image of the same size (other bytes, other
    sha256); ``padding`` zero bytes after IEND make a big file that is still a
    valid PNG (for the size limits).
    """
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([grey]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"") + b"\x00" * padding)
