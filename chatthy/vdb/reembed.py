"""``vdb reembed``: give every chunk of a profile a vector from the current embedder.

After ``[vdb] embedder``/``model`` change, searches use the new model's space
only (vectors of two models are never compared), so chunks embedded with the
old one are invisible to vector search until re-embedded; BM25 still finds
them. Chunks are re-embedded from their stored text (nothing is re-read),
in batches, each batch written in one transaction. ``prune`` then deletes the
profile's vectors of other models.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from chatthy.store import transaction

from .chunking import embedding_input
from .ingest import Emit

if TYPE_CHECKING:
    from .service import VectorService


async def reembed(service: VectorService, profile_id: int, *, prune: bool, emit: Emit) -> dict:
    repo = service.repo
    async with service.lock(profile_id):
        space = await service.space()
        embedder = service.embedder()
        total = repo.missing_vectors(profile_id, space.id)
        started = time.monotonic()
        await emit({"kind": "start", "chunks": total, "model": space.model, "dimension": space.dimension})
        done, after = 0, 0
        while True:
            rows = repo.chunks_without_vectors(profile_id, space.id, after, embedder.batch_size)
            if not rows:
                break
            vectors = await embedder.embed([embedding_input(text, heading, title) for _, text, heading, title in rows])
            with transaction(service.store.conn):
                service.index.add(space.id, space.dimension, profile_id, [r[0] for r in rows],
                                  [v.tobytes() for v in vectors])
            done += len(rows)
            after = rows[-1][0]
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed > 0 else 0.0
            await emit({"kind": "progress", "chunks_done": done, "chunks": total, "chunks_expected": total,
                        "documents_done": 0, "documents": 0, "rate": round(rate, 2), "elapsed": round(elapsed, 2),
                        "eta": round((total - done) / rate, 1) if rate > 0 else None})
        pruned = 0
        if prune:
            with transaction(service.store.conn):
                for other, chunk_ids in repo.other_space_chunks(profile_id, space.id).items():
                    service.index.drop_space_rows(other, chunk_ids)
                    pruned += len(chunk_ids)
        return {"model": space.model, "embedded": done, "pruned": pruned,
                "seconds": round(time.monotonic() - started, 3)}
