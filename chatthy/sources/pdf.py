"""PDF text with pypdf (daemon side: pypdf is imported here only).

Pages are joined by blank lines; ``meta["page_offsets"]`` maps each page to
where its text starts, so chunks and citations can name their page.
"""

from __future__ import annotations

import io
import logging

from chatthy.errors import BadRequest
from chatthy.sources import Document
from chatthy.sources.pages import describe, parse_pages

log = logging.getLogger("chatthy.sources")


def pdf_document(name: str, data: bytes, *, pages: str | None = None, source: str | None = None,
                 kind: str = "pdf", meta: dict | None = None) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise BadRequest(f"{name} is not a readable PDF: {exc}") from None
    if reader.is_encrypted:
        # Many PDFs are "encrypted" with an empty user password (owner
        # restrictions only): those open without asking anything.
        try:
            opened = reader.decrypt("")
        except DependencyError:
            opened = 0
        except (PdfReadError, PyPdfError, NotImplementedError):
            opened = 0
        if not opened:
            raise BadRequest(
                f"{name} is an encrypted (password-protected) PDF; decrypt it first, "
                "e.g. `qpdf --decrypt --password=… in.pdf out.pdf`")
    try:
        count = len(reader.pages)
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise BadRequest(f"{name} is not a readable PDF: {exc}") from None
    if count == 0:
        raise BadRequest(f"{name} has no pages")
    selected = parse_pages(pages, count, name=name) if pages else list(range(1, count + 1))

    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    offset = 0
    for number in selected:
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: page %d unreadable: %s", name, number, exc)
            text = ""
        text = _tidy(text)
        if not text:
            # A page without text (a figure, a blank page) adds nothing, but
            # keeps its place: an offset maps to the page that starts there.
            offsets.append((number, offset + (2 if parts else 0)))
            continue
        if parts:
            offset += 2  # the "\n\n" joining this page to the previous one
        offsets.append((number, offset))
        parts.append(text)
        offset += len(text)
    body = "\n\n".join(parts)
    if not body.strip():
        where = f"pages {describe(selected)} of {name} have" if pages else f"{name} has"
        raise BadRequest(
            f"{where} no text layer (an image-only or scanned PDF); run OCR first, "
            "e.g. `ocrmypdf in.pdf out.pdf`")
    out_meta = dict(meta or {})
    out_meta.update(page_count=count, page_offsets=offsets)
    if pages:
        out_meta["pages"] = describe(selected)
    return Document(body, _title(reader), source or name, kind, out_meta)


def _title(reader) -> str | None:
    try:
        meta = reader.metadata
        title = meta.title if meta else None
    except Exception:  # broken metadata never costs the text
        return None
    title = str(title).strip() if title else ""
    return title or None


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")
