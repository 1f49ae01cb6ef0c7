"""source.read (a document from uploaded bytes or a URL), source.inject (to a REPL).

Shared helpers for the workspace handlers live here too: turning the
``content_b64 | url`` pair of a request into a Document.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

import anyio

from chatthy.errors import BadRequest
from chatthy.server.lookup import chat_of, profile_of
from chatthy.server.params import MAX_NAME, Name, Str, Text
from chatthy.server.registry import method
from chatthy.sources import Document, Requester, SourceSettings, document_from_bytes, fetch_document, is_remote
from chatthy.sources.local import CLIENT_MAX

MAX_B64 = CLIENT_MAX * 4 // 3 + 16


def source_params() -> dict:
    """The parameters every request carrying one source declares."""
    return {
        "name": Name(),
        "source": Str(max=4096),
        "content_b64": Str(max=MAX_B64),
        "url": Str(max=4096),
        "pages": Str(max=200),
    }


def decode_upload(content_b64: str) -> bytes:
    try:
        return base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("content_b64 is not valid base64") from None


def requester_of(ctx) -> Requester:
    """Who asks for a URL in an explicit request: the local user (Unix socket) or a TCP client.

    The address policy lets only the first reach loopback and private
    addresses by default (chatthy.sources.address_policy).
    """
    return Requester.LOCAL_USER if ctx.connection.local else Requester.REMOTE_USER


async def document_of(daemon, p: dict, requester: Requester) -> Document:
    """The Document a request's ``content_b64``/``url`` (and ``pages``) stand for."""
    settings = SourceSettings.of(daemon.config)
    if (p["content_b64"] is None) == (p["url"] is None):
        raise BadRequest("give exactly one of content_b64 (a file's bytes) or url")
    if p["url"] is not None:
        url = p["url"].strip()
        if not is_remote(url):
            raise BadRequest(f"not a URL: {url!r} (give http:// or https://)")
        spec = url + (f"#pages={p['pages']}" if p["pages"] else "")
        return await fetch_document(spec, settings=settings, requester=requester)
    if not p["name"]:
        raise BadRequest("an uploaded source needs a name")
    data = decode_upload(p["content_b64"])
    source = p["source"] or p["name"]
    kind = "stdin" if source == "-" else None
    return await anyio.to_thread.run_sync(
        lambda: document_from_bytes(p["name"], data, pages=p["pages"], max_bytes=settings.max_bytes,
                                    kind=kind, source=source))


def default_name(doc: Document) -> str:
    """A workspace name for a fetched document: ``youtube:ID`` or ``host/path``."""
    if doc.kind == "youtube" and doc.meta.get("video_id"):
        return f"youtube:{doc.meta['video_id']}"
    parts = urlsplit(doc.source)
    name = (parts.hostname or "url") + parts.path.rstrip("/")
    if parts.query:
        name += "?" + parts.query
    return name[:MAX_NAME]


@method("source.read", **source_params())
async def source_read(ctx, p):
    """A document as text: the client's ``ask --file``, ``summarize``, ``inject``."""
    doc = await document_of(ctx.daemon, p, requester_of(ctx))
    return {"name": p["name"] or default_name(doc), **doc.to_dict()}


@method("source.inject", profile=Name(), chat=Name(required=True), text=Text(required=True),
        name=Name(), source=Str(max=4096), title=Str(max=1000))
async def source_inject(ctx, p):
    """Offer text to the REPLs watching a chat (they put it into their input line).

    Published to ``chat.watch`` subscribers as ``{"kind": "inject", "chat",
    "text", "name", "source", "title"}``; returns how many received it.
    """
    d = ctx.daemon
    chat = chat_of(d, profile_of(d, p["profile"]), p["chat"])
    watchers = len(d.watchers.get(chat.id, ()))
    d.publish(chat.id, {"kind": "inject", "chat": chat.name, "text": p["text"], "name": p["name"],
                        "source": p["source"], "title": p["title"]})
    return {"chat": chat.name, "delivered": watchers}
