"""Sources: turning a file, a URL, a PDF, a YouTube video or stdin into text.

Shared by the workspace, ``ask --file``, ``summarize`` and the vector store.
The public API (kept stable: other features build on it)::

    Document(text, title, source, kind, meta)       # kind: file|url|pdf|youtube|stdin
    document_from_bytes(name, data, pages=None, max_bytes=DEFAULT_MAX) -> Document
        # bytes a client read and sent (text or PDF, told apart by content)
    await fetch_document(spec, settings=..., requester=None) -> Document
        # a URL or a YouTube video, fetched by the daemon; ``requester`` (who
        # asked: LOCAL_USER, REMOTE_USER or MODEL; None means MODEL, the strictest)
        # decides whether non-public addresses may be reached
        # (chatthy.sources.address_policy)
    is_remote(spec) -> bool

Importing this package is cheap and safe on the client side: trafilatura,
pypdf, httpx2 and youtube-transcript-api are imported inside the functions
that need them (daemon side only). ``textfile``, ``pages``, ``settings`` and
``local`` import only the standard library.

``meta`` keys, when they apply: ``url`` (final URL after redirects),
``content_type``, ``encoding``, ``language``, ``pages`` (the range asked for,
``"3-7"``), ``page_count``, ``page_offsets`` (``[(page_no, char_offset), …]``,
1-based page numbers, offsets into ``text``), ``video_id``, ``author``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatthy.sources.settings import DEFAULT_MAX, SourceSettings

if TYPE_CHECKING:
    from chatthy.sources.address_policy import Requester

__all__ = [
    "DEFAULT_MAX",
    "Document",
    "Requester",
    "SourceSettings",
    "document_from_bytes",
    "fetch_document",
    "is_remote",
    "split_pages_spec",
]

KINDS = ("file", "url", "pdf", "youtube", "stdin")

_REMOTE = re.compile(r"^https?://", re.IGNORECASE)
# ``report.pdf#pages=3-7`` / ``https://x/y.pdf#pages=2``: a page range rides on the spec.
_PAGES_SUFFIX = re.compile(r"#pages?=([0-9,\- ]+)$", re.IGNORECASE)


@dataclass
class Document:
    text: str
    title: str | None
    source: str
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (page offsets become lists)."""
        meta = dict(self.meta)
        if "page_offsets" in meta:
            meta["page_offsets"] = [list(p) for p in meta["page_offsets"]]
        return {"text": self.text, "title": self.title, "source": self.source,
                "kind": self.kind, "meta": meta}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        meta = dict(data.get("meta") or {})
        if "page_offsets" in meta:
            meta["page_offsets"] = [tuple(p) for p in meta["page_offsets"]]
        return cls(data["text"], data.get("title"), data["source"], data["kind"], meta)


def is_remote(spec: str) -> bool:
    """True for an http(s) URL (YouTube included): the daemon fetches those."""
    return bool(_REMOTE.match(spec.strip()))


def _attr(value: str) -> str:
    return (value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;").replace("\n", " "))


def format_document(text: str, *, name: str | None = None, source: str | None = None,
                    title: str | None = None, pages: str | None = None) -> str:
    """A document as the model sees it, in the workspace or in a message::

        <document name="wal.html" title="Write-ahead logging" source="https://sqlite.org/wal.html">
        …text…
        </document>

    Tags rather than a Markdown fence: the text may hold fences of its own.
    Only a URL is shown as the source: a local path names the user's
    directories, which are nobody's business at the provider.
    """
    attrs = []
    if source is not None and not is_remote(source):
        source = None
    for key, value in (("name", name), ("title", title), ("source", source), ("pages", pages)):
        if value:
            attrs.append(f'{key}="{_attr(value)}"')
    head = "<document" + "".join(" " + a for a in attrs) + ">"
    return f"{head}\n{text.rstrip()}\n</document>"


def split_pages_spec(spec: str) -> tuple[str, str | None]:
    """``("report.pdf", "3-7")`` from ``report.pdf#pages=3-7``; no range → None."""
    m = _PAGES_SUFFIX.search(spec)
    if not m:
        return spec, None
    return spec[: m.start()], m.group(1).replace(" ", "")


def document_from_bytes(
    name: str, data: bytes, *, pages: str | None = None, max_bytes: int = DEFAULT_MAX,
    kind: str | None = None, source: str | None = None,
) -> Document:
    """A document from bytes a client read: a PDF (by its magic) or a text file.

    ``name`` is what error messages call it; ``source`` (default: ``name``) is
    where it came from (a path, ``-``). ``kind`` forces ``"stdin"`` for piped
    input. Raises BadRequest for a binary file, TooLarge past ``max_bytes``.
    CPU-bound for PDFs: the daemon calls it in a worker thread.
    """
    from chatthy.errors import BadRequest
    from chatthy.sources import textfile

    textfile.check_size(name, len(data), max_bytes)
    if textfile.is_pdf(data):
        from chatthy.sources.pdf import pdf_document

        return pdf_document(name, data, pages=pages, source=source or name)
    if pages:
        raise BadRequest(f"{name}: a page range only applies to PDF files")
    text, encoding = textfile.decode_text(name, data)
    return Document(text, None, source or name, kind or "file", {"encoding": encoding})


def __getattr__(name: str) -> Any:
    # Requester lives with the address policy, which imports ipaddress (~3 ms): the
    # client imports this package to read files and never needs it.
    if name == "Requester":
        from chatthy.sources.address_policy import Requester

        return Requester
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


async def fetch_document(spec: str, *, settings: Any = None, requester: Requester | None = None) -> Document:
    """Fetch a URL (HTML → Markdown, PDF, plain text) or a YouTube transcript.

    ``settings`` is a SourceSettings, the daemon's Config (its ``[sources]``
    section is used), or None for the defaults. ``requester`` is who asked
    (None: the model, the strictest): a URL whose host is not public is
    refused (AddressRefused) unless the requester is the local user or
    ``allow_private_urls`` is set. A YouTube
    URL is exempt: its transcript comes from YouTube's own fixed hosts, never
    from the host in the URL.
    """
    from chatthy.errors import BadRequest
    from chatthy.sources.address_policy import Requester

    options = SourceSettings.of(settings)
    requester = requester or Requester.MODEL
    url, pages = split_pages_spec(spec.strip())
    if not is_remote(url):
        raise BadRequest(f"not a URL: {spec!r} (give http:// or https://)")
    from chatthy.sources import youtube

    video_id = youtube.video_id(url)
    if video_id is not None:
        return await youtube.fetch_youtube(url, video_id, options)
    from chatthy.sources.web import fetch_url

    return await fetch_url(url, options, pages=pages, requester=requester)
