"""ws.load, ws.refresh, ws.drop, ws.bench, ws.unbench, ws.list, ws.show, ws.clear.

Every method names a scope: a chat (``chat``; ``ws.load`` creates it if it
does not exist yet) or the profile (``profile_wide``: every chat of the
profile sees those files). Local files are read by the client, which sends
their bytes (``content_b64``); URLs are fetched here. ``ws.refresh`` re-fetches
a URL itself; for a local file the client re-reads it and sends the bytes.
"""

from __future__ import annotations

import anyio

from chatthy.errors import BadRequest, Conflict, NotFound
from chatthy.server.handlers.sources import (MAX_B64, decode_upload, default_name, document_of, requester_of,
                                             source_params)
from chatthy.server.lookup import chat_of, profile_of
from chatthy.server.params import Bool, Name, Str
from chatthy.server.registry import method
from chatthy.server.workspace import counter_for_chat, counter_key, effective, file_text, file_tokens, raw_count
from chatthy.sources import Document, SourceSettings, document_from_bytes, fetch_document, format_document, is_remote
from chatthy.store import workspace as ws_store

SCOPE = {"profile": Name(), "chat": Name(), "profile_wide": Bool()}


class Scope:
    def __init__(self, profile, chat) -> None:
        self.profile = profile
        self.chat = chat  # None: profile-wide

    @property
    def chat_id(self) -> int | None:
        return self.chat.id if self.chat is not None else None

    @property
    def label(self) -> str:
        if self.chat is None:
            return f"the workspace of profile {self.profile.name!r}"
        return f"the workspace of chat {self.chat.name!r}"


def _check_named(p) -> None:
    if not p["profile_wide"] and not p["chat"]:
        raise BadRequest("no chat given: name one (-c NAME), pick one with `chatthy chat use`, "
                         "or use --profile-wide")


def _scope(d, p, *, create: bool = False) -> Scope:
    profile = profile_of(d, p["profile"])
    if p["profile_wide"]:
        return Scope(profile, None)
    _check_named(p)
    chat = d.store.get_chat(profile.id, p["chat"])
    if chat is None:
        if not create:
            chat_of(d, profile, p["chat"])  # raises the usual NotFound
        chat = d.store.create_chat(profile.id, p["chat"])
    return Scope(profile, chat)


def _find(d, scope: Scope, name: str):
    f = ws_store.get_file(d.store.conn, scope.profile.id, scope.chat_id, name)
    if f is not None:
        return f
    if scope.chat is not None and ws_store.get_file(d.store.conn, scope.profile.id, None, name):
        raise NotFound(f"{name!r} is a profile-wide workspace file: add --profile-wide")
    raise NotFound(f"no file {name!r} in {scope.label} (see `chatthy ws ls`)")


def _describe(d, f, counter, status: str | None = None) -> dict:
    meta = f.meta or {}
    return {
        "name": f.name,
        "scope": f.scope,
        "kind": f.kind,
        "source": f.source,
        "title": f.title,
        "pages": meta.get("pages"),
        "tokens": file_tokens(d, f, counter),
        "chars": len(f.content),
        "benched": f.benched,
        "status": status or ("benched" if f.benched else "sent"),
        "updated": f.updated,
    }


async def _store_document(d, scope: Scope, name: str, doc: Document, *, replace: bool) -> dict:
    existing = ws_store.get_file(d.store.conn, scope.profile.id, scope.chat_id, name)
    if existing is not None and existing.source != doc.source and not replace:
        raise Conflict(f"{scope.label} already has a file named {name!r} (from {existing.source}): "
                       "load this one with --name OTHER, or drop the old one first")
    counter = counter_for_chat(d, scope.chat)
    pages = doc.meta.get("pages")
    text = format_document(doc.text, name=name, source=doc.source, title=doc.title, pages=pages)
    tokens = await anyio.to_thread.run_sync(raw_count, counter, text)
    f, replaced = ws_store.put_file(
        d.store.conn, scope.profile.id, scope.chat_id, name, kind=doc.kind, source=doc.source,
        title=doc.title, content=doc.text, meta=_stored_meta(doc.meta), tokens=tokens,
        encoding=counter_key(counter))
    out = _describe(d, f, counter)
    out["replaced"] = replaced
    out["changed"] = existing is None or existing.content != f.content
    out["chat"] = scope.chat.name if scope.chat is not None else None
    return out


def _stored_meta(meta: dict) -> dict:
    return {k: (list(map(list, v)) if k == "page_offsets" else v) for k, v in meta.items()}


@method("ws.load", **SCOPE, **source_params(), replace=Bool())
async def ws_load(ctx, p):
    d = ctx.daemon
    _check_named(p)
    profile_of(d, p["profile"])
    doc = await document_of(d, p, requester_of(ctx))  # before creating the chat: a failed fetch leaves nothing behind
    scope = _scope(d, p, create=True)
    name = p["name"] or default_name(doc)
    return await _store_document(d, scope, name, doc, replace=p["replace"])


@method("ws.refresh", **SCOPE, name=Name(required=True), content_b64=Str(max=MAX_B64))
async def ws_refresh(ctx, p):
    """Read a file again: a URL here; a local file from the bytes the client sends."""
    d = ctx.daemon
    scope = _scope(d, p)
    f = _find(d, scope, p["name"])
    pages = (f.meta or {}).get("pages")
    if p["content_b64"] is not None:
        data = decode_upload(p["content_b64"])
        max_bytes = SourceSettings.of(d.config).max_bytes
        doc = await anyio.to_thread.run_sync(
            lambda: document_from_bytes(f.name, data, pages=pages, max_bytes=max_bytes,
                                        kind="stdin" if f.source == "-" else None, source=f.source))
    elif is_remote(f.source):
        spec = f.source + (f"#pages={pages}" if pages else "")
        doc = await fetch_document(spec, settings=d.config, requester=requester_of(ctx))
    elif f.source == "-":
        raise BadRequest(f"{f.name!r} was read from stdin: load it again to change it")
    else:
        raise BadRequest(f"{f.name!r} is a local file ({f.source}): the client sends its bytes "
                         "(`chatthy ws refresh` does)")
    return await _store_document(d, scope, f.name, doc, replace=True)


async def _set_benched(ctx, p, benched: bool):
    d = ctx.daemon
    scope = _scope(d, p)
    f = _find(d, scope, p["name"])
    ws_store.set_benched(d.store.conn, f.id, benched)
    f = ws_store.get_file(d.store.conn, scope.profile.id, scope.chat_id, f.name)
    return _describe(d, f, counter_for_chat(d, scope.chat))


@method("ws.bench", **SCOPE, name=Name(required=True))
async def ws_bench(ctx, p):
    """Keep the file, but do not send it."""
    return await _set_benched(ctx, p, True)


@method("ws.unbench", **SCOPE, name=Name(required=True))
async def ws_unbench(ctx, p):
    return await _set_benched(ctx, p, False)


@method("ws.drop", **SCOPE, name=Name(required=True))
async def ws_drop(ctx, p):
    d = ctx.daemon
    scope = _scope(d, p)
    f = _find(d, scope, p["name"])
    ws_store.delete_file(d.store.conn, f.id)
    return {"dropped": f.name, "scope": f.scope}


@method("ws.clear", **SCOPE)
async def ws_clear(ctx, p):
    d = ctx.daemon
    scope = _scope(d, p)
    return {"dropped": ws_store.clear(d.store.conn, scope.profile.id, scope.chat_id),
            "scope": "profile" if scope.chat is None else "chat"}


@method("ws.list", **SCOPE)
async def ws_list(ctx, p):
    """The files a chat sees (its own and the profile's), or the profile's alone.

    Without a chat and without ``profile_wide``, the profile's files are
    listed (what a new chat would see).
    """
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    chat = None
    if p["chat"] and not p["profile_wide"]:
        chat = chat_of(d, profile, p["chat"])
    counter = counter_for_chat(d, chat)
    files = ws_store.list_files(d.store.conn, profile.id, chat.id if chat is not None else None)
    rows = [_describe(d, e.file, counter, e.status) for e in effective(files)]
    return {
        "profile": profile.name,
        "chat": chat.name if chat is not None else None,
        "model": counter.model,
        "files": rows,
        "tokens": sum(r["tokens"] for r in rows if r["status"] == "sent"),
    }


@method("ws.show", **SCOPE, name=Name(required=True))
async def ws_show(ctx, p):
    """One file with its text; a chat falls back to the profile's file of that name."""
    d = ctx.daemon
    scope = _scope(d, p)
    f = ws_store.get_file(d.store.conn, scope.profile.id, scope.chat_id, p["name"])
    if f is None and scope.chat is not None:
        f = ws_store.get_file(d.store.conn, scope.profile.id, None, p["name"])
    if f is None:
        raise NotFound(f"no file {p['name']!r} in {scope.label} (see `chatthy ws ls`)")
    out = _describe(d, f, counter_for_chat(d, scope.chat))
    out.update(content=f.content, meta=f.meta or {}, sent_as=file_text(f), created=f.created)
    return out
