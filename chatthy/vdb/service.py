"""One vector-store service per daemon: the embedder, the repository, the locks.

Made on the first ``vdb.*`` request (or ``ask --rag``); the embedder itself
loads even later, on the first embedding, and off the event loop.
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Any

import anyio

from .repository import Repository, Space
from .settings import LOCAL, VdbSettings
from .vector_index import VectorIndex

if TYPE_CHECKING:
    from chatthy.server.daemon import Daemon

log = logging.getLogger("chatthy.vdb")

# The bit index of 100k chunks is ~5 MB; SQLite's default page cache is 2 MB,
# and reading vec0's blobs through read() calls made a KNN ~3x slower than
# through a memory map (measured on this machine). Address space, not memory.
MMAP_BYTES = 1 << 30

_services: weakref.WeakKeyDictionary[Any, VectorService] = weakref.WeakKeyDictionary()


def service_for(daemon: Daemon) -> VectorService:
    service = _services.get(daemon)
    if service is None:
        service = _services[daemon] = VectorService(daemon.store, daemon.config)
    return service


class VectorService:
    def __init__(self, store, config) -> None:
        self.store = store
        self.config = config
        self.settings: VdbSettings = config.vdb
        store.conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        self.vec_loaded = bool(store.vec_loaded)
        self.index = VectorIndex(store.conn, self.vec_loaded)
        self.repo = Repository(store.conn, self.index)
        self._embedder = None
        self._locks: dict[int, anyio.Lock] = {}
        self._missing: dict[tuple[int, int], tuple[int, int]] = {}
        self._space: Space | None = None  # the current embedder's, once known

    def embedder(self):
        if self._embedder is None:
            if self.settings.embedder == LOCAL:
                from .local_embedder import LocalEmbedder

                self._embedder = LocalEmbedder()
            else:
                from .remote_embedder import RemoteEmbedder

                provider = self.config.provider(self.settings.embedder)
                self._embedder = RemoteEmbedder(provider, self.settings.model)
        return self._embedder

    @property
    def chunking(self) -> str:
        return f"{self.settings.chunking}/{self.embedder().tokenizer_name}"

    async def space(self) -> Space:
        """The current embedder's space (loading it, or asking a server its dimension)."""
        if self._space is None:
            embedder = self.embedder()
            await embedder.prepare()
            space = self.repo.space(embedder.model, embedder.dimension)
            self.index.ensure(space.id, space.dimension)
            self._space = space
        return self._space

    def known_space(self) -> Space | None:
        """The current embedder's space if vectors were ever made with it; loads nothing."""
        return self.repo.find_space(self.embedder().model)

    def missing_vectors(self, profile_id: int, space_id: int) -> int:
        """Chunks of the profile without a vector in the space; counted once per change
        (a count walks every chunk: too slow to repeat on each search of 100k chunks)."""
        key = (profile_id, space_id)
        cached = self._missing.get(key)
        if cached is None or cached[0] != self.index.writes:
            cached = self._missing[key] = (self.index.writes, self.repo.missing_vectors(profile_id, space_id))
        return cached[1]

    def lock(self, profile_id: int) -> anyio.Lock:
        """One writer (ingest, reembed) per profile at a time; searches never wait."""
        lock = self._locks.get(profile_id)
        if lock is None:
            lock = self._locks[profile_id] = anyio.Lock()
        return lock

    def describe_index(self) -> str:
        if not self.vec_loaded:
            return "numpy (exact; sqlite-vec could not be loaded)"
        return "sqlite-vec (sign bits, exact re-scoring)"
