"""The ingest pipeline: extract → chunk → embed in batches → store.

Two tasks joined by a small queue. The *producer* turns each upload into
text (PDF parsing in a worker thread, URLs fetched asynchronously), decides
whether it changed, and chunks it (worker thread). The *consumer* gathers the
chunks that need vectors across documents into batches of the embedder's
size, embeds them off the event loop, and writes each document in one
transaction as soon as its last chunk has a vector. So the event loop only
ever does short SQLite writes, a cancelled ingest (Ctrl-C) keeps the
documents already written and never half of one, and the embedder is kept
busy while the next document is being read.

A document whose text and chunking are unchanged and whose chunks all have
vectors in the current space is skipped. A changed one is re-chunked; chunks
whose embedded text is unchanged keep their vectors, so editing one paragraph
of a long document embeds one or two chunks, not all of them.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import anyio
import anyio.lowlevel
import anyio.to_thread

from chatthy.errors import ChatthyError

from .chunking import chunk_text, content_hash, embedding_input

if TYPE_CHECKING:
    from chatthy.sources import Document

    from .chunking import Chunk
    from .repository import Space
    from .service import VectorService

log = logging.getLogger("chatthy.vdb")

Emit = Callable[[dict], Awaitable[None]]
QUEUE = 4  # documents chunked ahead of the embedder
PROGRESS_INTERVAL = 0.5  # seconds between progress events


@dataclass
class Upload:
    """One thing to ingest: bytes a client read, or a URL the daemon fetches."""

    source: str
    data: bytes | None = None
    url: str | None = None
    requester: Any = None  # who asked for the URL (chatthy.sources.Requester); None: the strictest

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else 0


@dataclass
class _Job:
    source: str
    status: str  # added | updated | unchanged | failed
    size: int = 0
    document: Document | None = None
    chunks: list[Chunk] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    vectors: list[bytes | None] = field(default_factory=list)
    waiting: int = 0
    reused: int = 0
    error: str | None = None


@dataclass
class _Counts:
    docs_total: int
    bytes_total: int
    docs_done: int = 0
    bytes_done: int = 0  # of documents chunked (their chunk count is known)
    chunks_total: int = 0  # chunks needing vectors, of the documents chunked so far
    chunks_done: int = 0
    reused: int = 0
    statuses: dict = field(default_factory=lambda: {"added": 0, "updated": 0, "unchanged": 0, "failed": 0})


class Ingest:
    def __init__(self, service: VectorService, profile_id: int, uploads: list[Upload], *,
                 force: bool, emit: Emit) -> None:
        self.service = service
        self.repo = service.repo
        self.profile_id = profile_id
        self.uploads = uploads
        self.force = force
        self.emit = emit
        self.counts = _Counts(len(uploads), sum(u.size for u in uploads) or 1)
        self.started = time.monotonic()
        self.embedding_seconds = 0.0
        self._last_progress = 0.0
        self.space: Space | None = None

    async def run(self) -> dict:
        lock = self.service.lock(self.profile_id)
        if lock.locked():
            await self.emit({"kind": "waiting", "message": "another ingest into this profile is running"})
        async with lock:
            self.started = time.monotonic()
            self.space = await self.service.space()
            embedder = self.service.embedder()
            await self.emit({"kind": "start", "documents": self.counts.docs_total, "bytes": self.counts.bytes_total,
                             "model": embedder.model, "dimension": embedder.dimension})
            send, receive = anyio.create_memory_object_stream[_Job](QUEUE)
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._produce, send)
                    await self._consume(receive)
            except BaseExceptionGroup as group:
                raise _single(group) from None
        return self.summary()

    def summary(self) -> dict:
        c = self.counts
        elapsed = time.monotonic() - self.started
        return {**c.statuses, "documents": c.docs_done, "chunks": c.chunks_done, "reused": c.reused,
                "seconds": round(elapsed, 3), "embedding_seconds": round(self.embedding_seconds, 3),
                "model": self.space.model if self.space else None}

    # -- producer ------------------------------------------------------------------
    async def _produce(self, send) -> None:
        async with send:
            for upload in self.uploads:
                await send.send(await self._prepare(upload))

    async def _prepare(self, upload: Upload) -> _Job:
        try:
            document = await self._extract(upload)
        except ChatthyError as exc:
            return _Job(upload.source, "failed", upload.size, error=exc.message)
        except Exception as exc:  # a parser bug must not end the whole ingest
            log.exception("extracting %s failed", upload.source)
            return _Job(upload.source, "failed", upload.size, error=f"{type(exc).__name__}: {exc}")
        assert self.space is not None
        job = _Job(upload.source, "added", upload.size, document=document)
        sha = content_hash(document.text)
        old = self.repo.document(self.profile_id, upload.source)
        chunking = self.service.chunking
        reuse: dict[str, bytes] = {}
        if old is not None:
            job.status = "updated"
            if (not self.force and old.sha256 == sha and old.chunking == chunking
                    and self.repo.missing_vectors(self.profile_id, self.space.id, old.id) == 0):
                job.status = "unchanged"
                return job
            if not self.force:
                reuse = self.repo.vectors_by_hash(old.id, self.space.id)
        settings = self.service.settings
        embedder = self.service.embedder()
        offsets = [tuple(p) for p in document.meta.get("page_offsets") or ()]

        def cut() -> None:
            job.chunks = chunk_text(document.text, embedder.count_tokens, size=settings.chunk_size,
                                    overlap=settings.chunk_overlap, page_offsets=offsets)
            job.inputs = [embedding_input(c.text, c.heading, document.title) for c in job.chunks]
            job.hashes = [content_hash(text) for text in job.inputs]

        await anyio.to_thread.run_sync(cut)
        job.vectors = [reuse.get(h) for h in job.hashes]
        job.reused = sum(v is not None for v in job.vectors)
        job.waiting = len(job.vectors) - job.reused
        return job

    async def _extract(self, upload: Upload) -> Document:
        from chatthy.sources import SourceSettings, document_from_bytes, fetch_document

        if upload.url is not None:
            return await fetch_document(upload.url, settings=self.service.config, requester=upload.requester)
        limit = SourceSettings.of(self.service.config).max_bytes
        name = upload.source.rsplit("/", 1)[-1] or upload.source
        return await anyio.to_thread.run_sync(
            lambda: document_from_bytes(name, upload.data or b"", max_bytes=limit, source=upload.source))

    # -- consumer ----------------------------------------------------------------------
    async def _consume(self, receive) -> None:
        batch_size = self.service.embedder().batch_size
        pending: deque[tuple[_Job, int]] = deque()  # chunks waiting for a vector
        open_jobs: deque[_Job] = deque()  # documents not yet written, in order
        async with receive:
            while True:
                try:
                    if pending:
                        job = receive.receive_nowait()
                    else:
                        job = await receive.receive()
                except anyio.WouldBlock:
                    await self._embed(pending, batch_size, open_jobs)
                    continue
                except anyio.EndOfStream:
                    break
                self.counts.bytes_done += job.size
                if job.status in ("unchanged", "failed"):
                    open_jobs.append(job)
                else:
                    self.counts.chunks_total += job.waiting
                    self.counts.reused += job.reused
                    pending.extend((job, i) for i, v in enumerate(job.vectors) if v is None)
                    open_jobs.append(job)
                await self._finish_ready(open_jobs)
                while len(pending) >= batch_size:
                    await self._embed(pending, batch_size, open_jobs)
        while pending:
            await self._embed(pending, batch_size, open_jobs)
        await self._finish_ready(open_jobs)
        await self._progress(force=True)

    async def _embed(self, pending: deque, batch_size: int, open_jobs: deque) -> None:
        batch = [pending.popleft() for _ in range(min(batch_size, len(pending)))]
        started = time.monotonic()
        vectors = await self.service.embedder().embed([job.inputs[i] for job, i in batch])
        # A worker thread cannot be interrupted: a Ctrl-C that came meanwhile takes
        # effect here, before anything more is written.
        await anyio.lowlevel.checkpoint_if_cancelled()
        self.embedding_seconds += time.monotonic() - started
        for (job, i), vector in zip(batch, vectors):
            job.vectors[i] = vector.tobytes()
            job.waiting -= 1
        self.counts.chunks_done += len(batch)
        await self._finish_ready(open_jobs)
        await self._progress()

    async def _finish_ready(self, open_jobs: deque) -> None:
        """Write, in order, every document whose chunks all have vectors."""
        while open_jobs and open_jobs[0].waiting == 0:
            job = open_jobs.popleft()
            if job.status not in ("unchanged", "failed"):
                self._write(job)
            self.counts.docs_done += 1
            self.counts.statuses[job.status] += 1
            event = {"kind": "document", "source": job.source, "status": job.status,
                     "chunks": len(job.chunks), "embedded": len(job.chunks) - job.reused, "reused": job.reused}
            if job.document is not None and job.document.title:
                event["title"] = job.document.title
            if job.error:
                event["error"] = job.error
            # Shielded: the client learns of every document written, even when cancelling.
            with anyio.CancelScope(shield=True):
                await self.emit(event)

    def _write(self, job: _Job) -> None:
        assert job.document is not None and self.space is not None
        doc = job.document
        meta = {k: v for k, v in doc.meta.items() if k != "page_offsets"} or None
        self.repo.write_document(
            profile_id=self.profile_id, source=job.source, title=doc.title, kind=doc.kind,
            sha256=content_hash(doc.text), chunking=self.service.chunking, chars=len(doc.text), meta=meta,
            chunks=job.chunks, hashes=job.hashes, space=self.space, vectors=job.vectors)

    async def _progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_INTERVAL:
            return
        self._last_progress = now
        await self.emit(progress_event(self.counts, now - self.started))


def _single(group: BaseExceptionGroup) -> BaseException:
    """The one real error of a task group (the embedder's, say), so the client sees its message."""
    cancelled = anyio.get_cancelled_exc_class()
    errors = [e for e in _leaves(group) if not isinstance(e, cancelled)]
    return errors[0] if len(errors) == 1 else group


def _leaves(group: BaseExceptionGroup):
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


def progress_event(c: _Counts, elapsed: float) -> dict[str, Any]:
    """Counts, rate and an ETA (chunks yet to come estimated from the bytes not yet chunked)."""
    rate = c.chunks_done / elapsed if elapsed > 0 else 0.0
    expected = c.chunks_total
    if c.bytes_done and c.bytes_done < c.bytes_total:
        expected = max(expected, round(c.chunks_total * c.bytes_total / c.bytes_done))
    eta = (expected - c.chunks_done) / rate if rate > 0 else None
    return {"kind": "progress", "documents_done": c.docs_done, "documents": c.docs_total,
            "chunks_done": c.chunks_done, "chunks": c.chunks_total, "chunks_expected": expected,
            "reused": c.reused, "rate": round(rate, 2), "elapsed": round(elapsed, 2),
            "eta": round(eta, 1) if eta is not None else None}
