"""vdb.ingest, vdb.search, vdb.sources, vdb.forget, vdb.info, vdb.reembed.

The client walks directories and reads files (the daemon may be on another
machine); it sends their bytes, base64, keyed by absolute path, in requests
of a few MiB each. URLs are fetched here. See chatthy/vdb for the rest.
"""

from __future__ import annotations

import base64
import binascii

from chatthy.errors import BadRequest, NotFound
from chatthy.server.lookup import profile_of
from chatthy.server.params import Bool, Dict, Int, Name, Str, StrList, Text
from chatthy.server.registry import method

MAX_SOURCE = 4096  # characters in a source name (a path or a URL)


def _service(ctx):
    from chatthy.vdb.service import service_for

    return service_for(ctx.daemon)


def _source_name(value: str, what: str) -> str:
    """A path or URL as a name: data, never opened here; no control characters."""
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > MAX_SOURCE:
        raise BadRequest(f"vdb.ingest: a {what} must be 1 to {MAX_SOURCE} characters")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise BadRequest(f"vdb.ingest: the {what} {value!r} contains a control character")
    return value


def _uploads(files: dict | None, urls: list[str], requester):
    from chatthy.sources import is_remote
    from chatthy.vdb.ingest import Upload

    uploads: dict[str, Upload] = {}
    for source, encoded in (files or {}).items():
        source = _source_name(source, "file name")
        if not isinstance(encoded, str):
            raise BadRequest(f"vdb.ingest: the content of {source!r} must be a base64 string")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"vdb.ingest: the content of {source!r} is not valid base64") from None
        uploads[source] = Upload(source, data=data)
    for url in urls:
        url = _source_name(url, "URL")
        if not is_remote(url):
            raise BadRequest(f"vdb.ingest: {url!r} is not an http(s) URL (the client sends files' contents)")
        uploads[url] = Upload(url, url=url, requester=requester)
    if not uploads:
        raise BadRequest("vdb.ingest: nothing to ingest (give files or URLs)")
    return list(uploads.values())


@method("vdb.ingest", streaming=True, profile=Name(), files=Dict(), urls=StrList(max=10_000), force=Bool())
async def ingest(ctx, p):
    """Ingest files (``{absolute path: base64}``) and URLs; progress streams as events."""
    from chatthy.server.handlers.sources import requester_of
    from chatthy.vdb.ingest import Ingest

    profile = profile_of(ctx.daemon, p["profile"])
    uploads = _uploads(p["files"], p["urls"], requester_of(ctx))
    seq = 0

    async def emit(event: dict) -> None:
        nonlocal seq
        await ctx.event(event, seq)
        seq += 1

    return await Ingest(_service(ctx), profile.id, uploads, force=p["force"], emit=emit).run()


@method("vdb.search", profile=Name(), query=Text(required=True), k=Int(default=10, min=1, max=200),
        mode=Str(default="hybrid", choices=("hybrid", "vector", "text")))
async def search(ctx, p):
    from chatthy.vdb.search import search as run_search

    profile = profile_of(ctx.daemon, p["profile"])
    return await run_search(_service(ctx), profile.id, p["query"], k=p["k"], mode=p["mode"])


@method("vdb.sources", profile=Name())
async def sources(ctx, p):
    service = _service(ctx)
    profile = profile_of(ctx.daemon, p["profile"])
    space = service.known_space()
    return service.repo.documents(profile.id, space.id if space else None)


@method("vdb.forget", profile=Name(), sources=StrList(max=10_000), under=StrList(max=1000))
async def forget(ctx, p):
    """Delete sources by exact name, and every source whose name starts with an ``under`` prefix."""
    service = _service(ctx)
    profile = profile_of(ctx.daemon, p["profile"])
    if not p["sources"] and not p["under"]:
        raise BadRequest("vdb.forget: name the sources to forget")
    async with service.lock(profile.id):
        forgotten = service.repo.forget(profile.id, p["sources"], under=p["under"])
    if not forgotten:
        asked = ", ".join(repr(s) for s in [*p["sources"], *p["under"]])
        raise NotFound(f"no such source in profile {profile.name!r}: {asked} (see `chatthy vdb sources`)")
    return {"forgotten": forgotten}


@method("vdb.info", profile=Name())
async def info(ctx, p):
    service = _service(ctx)
    profile = profile_of(ctx.daemon, p["profile"])
    repo = service.repo
    embedder = service.embedder()
    space = service.known_space()
    totals = repo.totals(profile.id)
    vectors = totals["chunks"] - repo.missing_vectors(profile.id, space.id) if space else 0
    return {
        "profile": profile.name,
        **embedder.describe(),
        "dimension": space.dimension if space else embedder.dimension,
        "loaded": getattr(embedder, "loaded", None),
        **totals,
        "vectors": vectors,
        "missing_vectors": totals["chunks"] - vectors,
        "spaces": repo.spaces(profile.id),
        "chunking": service.chunking,
        "chunk_size": service.settings.chunk_size,
        "chunk_overlap": service.settings.chunk_overlap,
        "index": service.describe_index(),
        "sqlite_vec": ctx.daemon.store.vec_version,
        "size_bytes": repo.table_bytes(),
    }


@method("vdb.reembed", streaming=True, profile=Name(), prune=Bool())
async def reembed(ctx, p):
    """Embed every chunk that lacks a vector from the current model; ``prune`` drops other models' vectors."""
    from chatthy.vdb.reembed import reembed as run_reembed

    profile = profile_of(ctx.daemon, p["profile"])
    seq = 0

    async def emit(event: dict) -> None:
        nonlocal seq
        await ctx.event(event, seq)
        seq += 1

    return await run_reembed(_service(ctx), profile.id, prune=p["prune"], emit=emit)
