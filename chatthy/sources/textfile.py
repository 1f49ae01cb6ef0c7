"""Text or binary, and which encoding: pure functions, standard library only.

Safe to import on the client side. ``decode_text`` uses charset-normalizer
for files that are neither UTF-8 nor marked by a BOM; it is imported only
then (the daemon is where files are decoded).
"""

from __future__ import annotations

import codecs

from chatthy.errors import BadRequest, TooLarge

SNIFF = 8192  # bytes looked at to tell text from binary

# Checked longest first: a UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Magic numbers, to say *what* a binary file is in the error message.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or an Office/OpenDocument file)"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"OggS", "an Ogg media file"),
    (b"ID3", "an MP3 file"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"MZ", "a Windows executable"),
)

# Bytes that never occur in text (NUL and the C0 controls other than
# \t \n \v \f \r and ESC, which terminal logs legitimately contain).
_CONTROL = frozenset(range(0x00, 0x09)) | frozenset(range(0x0E, 0x1B)) | frozenset(range(0x1C, 0x20))


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


def check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise TooLarge(
            f"{name} is {human_size(size)}; the limit is {human_size(max_bytes)}"
            " ([sources] max_size_mb in config.toml)",
            data={"size": size, "limit": max_bytes},
        )


def is_pdf(data: bytes) -> bool:
    # The spec allows junk before the header within the first 1024 bytes.
    return b"%PDF-" in data[:1024]


def _bom(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def binary_kind(data: bytes) -> str | None:
    """None for text; otherwise what the bytes look like ("a PNG image", "binary data")."""
    if _bom(data):
        return None
    head = data[:SNIFF]
    for magic, what in _MAGIC:
        if head.startswith(magic) and (magic != b"MZ" or b"\x00" in head):
            return what
    if b"\x00" in head:
        return "binary data"
    if head:
        controls = sum(1 for b in head if b in _CONTROL)
        if controls / len(head) > 0.05:
            return "binary data"
    return None


def decode_text(name: str, data: bytes) -> tuple[str, str]:
    """``(text, encoding)``: BOM, else UTF-8, else the detected encoding.

    Raises BadRequest naming the file when it is binary or undecodable.
    Line endings are normalised to ``\\n``.
    """
    what = binary_kind(data)
    if what is not None:
        raise BadRequest(f"{name} is a binary file ({what}); chatthy reads text files and PDFs")
    encoding = _bom(data)
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            # FF FE 00 00 is also UTF-16 text whose first character is NUL.
            if encoding == "utf-32" and data.startswith(codecs.BOM_UTF16_LE):
                try:
                    return _normalise(data.decode("utf-16")), "utf-16"
                except UnicodeDecodeError:
                    pass
            raise BadRequest(f"{name}: invalid {encoding} text at byte {exc.start}") from None
        return _normalise(text), encoding.replace("-sig", "")
    try:
        return _normalise(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    text, encoding = _detect(data)
    if text is None:
        raise BadRequest(f"{name} is not text in any encoding chatthy recognises (a binary file?)")
    return _normalise(text), encoding


def _detect(data: bytes) -> tuple[str | None, str]:
    """charset-normalizer's candidates, and Windows-1252, judged by how
    plausible each decoding reads.

    charset-normalizer alone often takes Western European text for a Baltic
    or Central European code page (``crème`` → ``crčme``): those decode the
    same bytes into other, equally "valid" letters. Windows-1252, by far the
    most common legacy encoding, wins ties.
    """
    candidates: list[tuple[str, str]] = []
    try:
        from charset_normalizer import from_bytes

        matches = list(from_bytes(data))[:5]
    except ImportError:  # pragma: no cover - charset-normalizer is a dependency
        matches = []
    for enc in ["cp1252", *(m.encoding for m in matches)]:
        try:
            candidates.append((enc, data.decode(enc)))
        except (UnicodeDecodeError, LookupError):
            continue
    if not candidates:
        return None, ""
    best = max(enumerate(candidates), key=lambda item: (_plausibility(item[1][1]), -item[0]))[1]
    return best[1], best[0]



def _plausibility(text: str) -> float:
    """1.0 for text that reads like a natural language; lower for mojibake."""
    import unicodedata

    sample = text[:20000]
    non_ascii = [c for c in sample if ord(c) > 127]
    if not non_ascii:
        return 1.0
    odd = 0
    for i, c in enumerate(sample):
        if ord(c) <= 127 or c.isalpha():
            continue
        inside_word = 0 < i < len(sample) - 1 and sample[i - 1].isalpha() and sample[i + 1].isalpha()
        if ord(c) < 0x100 and inside_word:  # "Za¿ó³æ": Polish read as Windows-1252
            odd += 1
        elif unicodedata.category(c)[0] not in "PSZN":  # controls, unassigned, private use
            odd += 1
    score = 1.0 - odd / len(non_ascii)
    ascii_letters = sum(1 for c in sample if c.isascii() and c.isalpha())
    latin_accented = sum(1 for c in non_ascii if c.isalpha() and unicodedata.name(c, "").startswith("LATIN"))
    # Languages written in Latin script use accented letters sparingly; a text
    # that is mostly accented Latin letters is another script decoded wrongly.
    if latin_accented > 0.4 * (latin_accented + ascii_letters):
        score -= 0.5
    return score


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
