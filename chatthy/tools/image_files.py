"""Images a user attaches: told apart by content, not by name; size-checked.

Standard library only, so both sides use it: the client checks a file before
sending it (a clear error without a round trip), and the daemon checks the
bytes again, since it trusts no client. The REPL's ``/image PATH`` and
``ask -a PATH`` both go through ``read_image_file``.

Token costs are estimates from the pixel size, per provider kind:
Anthropic bills about ``width × height / 750`` after scaling the image to fit
1568 px on its long side (and ~1.15 megapixels); OpenAI (high detail) scales
to fit 2048 px, then its short side to 768 px, and bills 85 + 170 per
512-px tile.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from dataclasses import dataclass
from pathlib import Path

from chatthy.errors import BadRequest, TooLarge

MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp")
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# When the size cannot be read from the header: a mid-sized photo's cost.
UNKNOWN_SIZE_TOKENS = 1600


@dataclass(frozen=True)
class ImageInfo:
    mime: str
    width: int | None
    height: int | None


def sniff(data: bytes) -> str | None:
    """The image type by magic bytes, or None if it is none of PNG/JPEG/GIF/WebP."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def dimensions(data: bytes, mime: str) -> tuple[int, int] | None:
    """(width, height) from the header, or None when it cannot be read."""
    try:
        if mime == "image/png" and len(data) >= 24:
            return struct.unpack(">II", data[16:24])
        if mime == "image/gif" and len(data) >= 10:
            return struct.unpack("<HH", data[6:10])
        if mime == "image/webp":
            return _webp_size(data)
        if mime == "image/jpeg":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    return None


def check_image(data: bytes, *, name: str = "image", max_bytes: int = DEFAULT_MAX_BYTES) -> ImageInfo:
    """The image's type and size; BadRequest if it is not an image we send, TooLarge past the limit."""
    if len(data) > max_bytes:
        raise TooLarge(f"{name}: image is {_mib(len(data))}, larger than the limit of {_mib(max_bytes)} "
                       "(raise [images] max_mb, or scale it down)")
    mime = sniff(data)
    if mime is None:
        raise BadRequest(f"{name}: not a PNG, JPEG, GIF or WebP image (checked by content, not by name)")
    size = dimensions(data, mime)
    return ImageInfo(mime, *(size or (None, None)))


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KiB"


def read_image_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """A file checked as an image, as base64 text ready for ``ask(attachments=[...])``."""
    p = Path(path).expanduser()
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise TooLarge(f"{path}: image is {_mib(size)}, larger than the limit of {_mib(max_bytes)} "
                           "(raise [images] max_mb, or scale it down)")
        data = p.read_bytes()
    except FileNotFoundError:
        raise BadRequest(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadRequest(f"{path}: is a directory, not an image") from None
    except PermissionError:
        raise BadRequest(f"{path}: permission denied") from None
    check_image(data, name=str(path), max_bytes=max_bytes)
    return base64.b64encode(data).decode("ascii")


def decode_base64(text: str, *, name: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{name}: attachment is not valid base64") from None


def estimate_tokens(width: int | None, height: int | None, kind: str) -> int:
    """What one image costs in a request to a provider of ``kind`` (see the module doc)."""
    if not width or not height:
        return UNKNOWN_SIZE_TOKENS
    if kind == "anthropic":
        scale = min(1.0, 1568 / max(width, height), math.sqrt(1_150_000 / (width * height)))
        return max(1, math.ceil(width * scale * height * scale / 750))
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)
