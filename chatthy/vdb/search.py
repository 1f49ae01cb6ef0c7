"""Hybrid search: vector KNN and BM25 over the same chunks, fused by rank.

Reciprocal rank fusion (Cormack et al., 2009): each list gives a chunk
``weight / (60 + rank)``, and the sums decide. Scores of the two kinds (cosine,
BM25) are not comparable; their ranks are. Each result keeps both its own
scores and ranks, so ``vdb search --json`` shows why it came where it did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatthy.errors import BadRequest

if TYPE_CHECKING:
    from .service import VectorService

RRF_K = 60
MODES = ("hybrid", "vector", "text")
# BM25's vote counts half: on questions worded unlike the text it ranks noise,
# which equal weights let drag good vector hits down (tests/bench/bench_vdb.py:
# paraphrased queries, MRR by section 0.83 with equal weights, 0.87 with these;
# keyword queries are unchanged).
VECTOR_WEIGHT = 1.0
TEXT_WEIGHT = 0.5


def fuse(lists: list[list[tuple[int, float]]], k: int = RRF_K,
         weights: tuple[float, ...] | None = None) -> list[tuple[int, float]]:
    """``(id, fused score)`` best first; ties keep the order of first appearance."""
    scores: dict[int, float] = {}
    for i, ranked in enumerate(lists):
        weight = weights[i] if weights else 1.0
        for rank, (item, _) in enumerate(ranked, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


def position(row: dict) -> str:
    parts = []
    if row.get("page") is not None:
        parts.append(f"p. {row['page']}")
    if row.get("heading"):
        parts.append(row["heading"])
    if not parts:
        parts.append(f"chars {row['start']}-{row['end']}")
    return " · ".join(parts)


async def search(service: VectorService, profile_id: int, query: str, *, k: int = 10,
                 mode: str = "hybrid") -> dict:
    """The ``k`` best chunks for ``query`` in the profile, with what found them."""
    if mode not in MODES:
        raise BadRequest(f"search mode must be one of {', '.join(MODES)}, not {mode!r}")
    query = query.strip()
    if not query:
        raise BadRequest("empty search query")
    repo = service.repo
    depth = max(k * 3, 30) if mode == "hybrid" else k
    vector_hits: list[tuple[int, float]] = []
    text_hits: list[tuple[int, float]] = []
    out: dict = {"query": query, "mode": mode, "index": service.describe_index()}
    has_chunks = repo.has_chunks(profile_id)
    if mode in ("hybrid", "vector") and has_chunks:
        space = await service.space()
        vector = (await service.embedder().embed([query]))[0]
        vector_hits = service.index.knn(space.id, space.dimension, profile_id, vector, depth)
        out["model"] = space.model
        out["missing_vectors"] = service.missing_vectors(profile_id, space.id)
    if mode in ("hybrid", "text") and has_chunks:
        text_hits = repo.fts(profile_id, query, depth)
    if mode == "hybrid":
        ranked = fuse([vector_hits, text_hits], weights=(VECTOR_WEIGHT, TEXT_WEIGHT))
    else:
        ranked = vector_hits or text_hits
    ranked = ranked[:k]
    details = repo.chunk_details([cid for cid, _ in ranked])
    vector_rank = {cid: (i + 1, s) for i, (cid, s) in enumerate(vector_hits)}
    text_rank = {cid: (i + 1, s) for i, (cid, s) in enumerate(text_hits)}
    results = []
    for cid, score in ranked:
        row = details.get(cid)
        if row is None:  # deleted between the index and the lookup
            continue
        v = vector_rank.get(cid)
        t = text_rank.get(cid)
        results.append({
            "rank": len(results) + 1,
            "score": round(score, 6),
            "similarity": round(v[1], 6) if v else None,
            "vector_rank": v[0] if v else None,
            "bm25": round(t[1], 6) if t else None,
            "text_rank": t[0] if t else None,
            "position": position(row),
            **row,
        })
    out["results"] = results
    return out
