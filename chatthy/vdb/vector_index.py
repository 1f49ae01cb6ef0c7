"""Nearest neighbours in one embedding space: sqlite-vec, or numpy without it.

The vectors live in the plain ``embeddings`` table (float32, unit length).
Each space also has a vec0 table, ``vec_space_<id>``, partitioned by profile,
that holds only the *sign bits* of its vectors (48 bytes for 384 dimensions
instead of 1,536). A search asks it for the 100 (or ``2 × n``) nearest by
Hamming distance, then re-scores those candidates exactly (cosine on the float
vectors) and keeps the best ``n``. On 100k vectors that is about three
times faster than sqlite-vec's exact float scan, at a recall@10 of about
0.98 on MiniLM vectors (tests/bench/bench_vdb.py measures both). A dimension
under 256, or not a multiple of 8, gets an exact ``float[]`` index instead.

The vec0 tables are derived data: a database written while sqlite-vec could
not load (or whose profile was deleted, which cascades past them) is noticed
by a row count and its index rebuilt from ``embeddings``.

Without sqlite-vec the search is exact, in numpy, over a per-profile matrix
cached in memory until the next write.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from chatthy.store.connection import Connection

log = logging.getLogger("chatthy.vdb")

# Candidates taken from the bit index: at least 100 (10 per result for a top-10:
# recall@10 ≈ 0.98 on MiniLM vectors), and twice the results for longer lists.
MIN_CANDIDATES = 100
OVERSAMPLE_DEEP = 2
MAX_K = 4096  # sqlite-vec's own limit on k
MIN_BIT_DIMENSION = 256


def table_name(space_id: int) -> str:
    return f"vec_space_{int(space_id)}"


def uses_bits(dimension: int) -> bool:
    # Under ~256 dimensions the sign bits say too little (recall@10 fell below
    # 0.9 at 64), and an exact scan of such short vectors is cheap anyway.
    return dimension % 8 == 0 and dimension >= MIN_BIT_DIMENSION


class VectorIndex:
    def __init__(self, conn: Connection, vec_loaded: bool) -> None:
        self.conn = conn
        self.vec_loaded = vec_loaded
        self._checked: set[int] = set()
        self.writes = 0  # bumped by every change: cached counts compare against it
        # numpy fallback: (space, profile) -> (ids, matrix), dropped on every write
        self._matrices: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    # -- tables ------------------------------------------------------------------
    def _exists(self, space_id: int) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table_name(space_id),)
        ).fetchone()
        return row is not None

    def ensure(self, space_id: int, dimension: int) -> None:
        """Create the space's vec0 table if needed, and bring it in step with ``embeddings``."""
        if not self.vec_loaded or space_id in self._checked:
            return
        column = f"embedding bit[{dimension}]" if uses_bits(dimension) else \
            f"embedding float[{dimension}] distance_metric=cosine"
        if not self._exists(space_id):
            self.conn.execute(
                f"CREATE VIRTUAL TABLE {table_name(space_id)} USING vec0("
                f"profile_id integer partition key, {column})")
        indexed = self.conn.execute(f"SELECT count(*) FROM {table_name(space_id)}").fetchone()[0]
        stored = self.conn.execute(
            "SELECT count(*) FROM embeddings WHERE space_id = ?", (space_id,)).fetchone()[0]
        if indexed != stored:
            log.warning("vector index of space %s has %d rows for %d vectors: rebuilding it",
                        space_id, indexed, stored)
            self.rebuild(space_id, dimension)
        self._checked.add(space_id)

    def rebuild(self, space_id: int, dimension: int) -> int:
        from chatthy.store import transaction

        with transaction(self.conn):
            self.conn.execute(f"DELETE FROM {table_name(space_id)}")
            cursor = self.conn.execute(
                "SELECT d.profile_id, e.chunk_id, e.vector FROM embeddings e"
                " JOIN chunks c ON c.id = e.chunk_id JOIN documents d ON d.id = c.document_id"
                " WHERE e.space_id = ?", (space_id,))
            count = 0
            while rows := cursor.fetchmany(1000):
                self._insert(space_id, dimension, rows)
                count += len(rows)
        return count

    def _insert(self, space_id: int, dimension: int, rows) -> None:
        value = "vec_quantize_binary(?)" if uses_bits(dimension) else "?"
        self.conn.executemany(
            f"INSERT INTO {table_name(space_id)} (rowid, profile_id, embedding) VALUES (?, ?, {value})",
            [(chunk_id, profile_id, blob) for profile_id, chunk_id, blob in rows])

    # -- writes (inside the caller's transaction) -----------------------------------
    def add(self, space_id: int, dimension: int, profile_id: int, chunk_ids: list[int], blobs: list[bytes]) -> None:
        if self.vec_loaded:
            self.ensure(space_id, dimension)  # before the new rows, or they would look like drift
        self.conn.executemany(
            "INSERT OR REPLACE INTO embeddings (space_id, chunk_id, vector) VALUES (?, ?, ?)",
            [(space_id, cid, blob) for cid, blob in zip(chunk_ids, blobs)])
        if self.vec_loaded:
            self.conn.executemany(f"DELETE FROM {table_name(space_id)} WHERE rowid = ?",
                                  [(cid,) for cid in chunk_ids])
            self._insert(space_id, dimension, [(profile_id, cid, blob) for cid, blob in zip(chunk_ids, blobs)])
        self._changed()

    def remove(self, chunk_ids: list[int]) -> None:
        """Forget chunks in every space's index (their ``embeddings`` rows cascade)."""
        self._changed()
        if not self.vec_loaded or not chunk_ids:
            return
        for (space_id,) in self.conn.execute("SELECT id FROM embedding_spaces").fetchall():
            if self._exists(space_id):
                self.conn.executemany(f"DELETE FROM {table_name(space_id)} WHERE rowid = ?",
                                      [(cid,) for cid in chunk_ids])

    def drop_space_rows(self, space_id: int, chunk_ids: list[int]) -> None:
        """Remove some chunks' vectors from one space (``reembed --prune``)."""
        self.conn.executemany("DELETE FROM embeddings WHERE space_id = ? AND chunk_id = ?",
                              [(space_id, cid) for cid in chunk_ids])
        if self.vec_loaded and self._exists(space_id):
            self.conn.executemany(f"DELETE FROM {table_name(space_id)} WHERE rowid = ?",
                                  [(cid,) for cid in chunk_ids])
        self._changed()

    def _changed(self) -> None:
        self.writes += 1
        self._matrices.clear()

    # -- search --------------------------------------------------------------------
    def knn(self, space_id: int, dimension: int, profile_id: int, query: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The ``n`` chunks most similar to ``query``: ``(chunk_id, cosine)``, best first."""
        import numpy as np

        query = np.ascontiguousarray(query, dtype=np.float32)
        if n <= 0:
            return []
        if not self.vec_loaded:
            return self._numpy_knn(space_id, profile_id, query, n)
        self.ensure(space_id, dimension)
        table = table_name(space_id)
        if not uses_bits(dimension):
            rows = self.conn.execute(
                f"SELECT rowid, distance FROM {table} WHERE embedding MATCH ? AND k = ? AND profile_id = ?",
                (query.tobytes(), min(n, MAX_K), profile_id)).fetchall()
            return [(int(cid), 1.0 - float(distance)) for cid, distance in rows]
        # sqlite-vec's KNN slows down faster than k grows, so deeper lists (hybrid
        # search asks for 30) are oversampled less: ranks past the first ten only
        # feed the rank fusion.
        k = min(max(n * OVERSAMPLE_DEEP, MIN_CANDIDATES), MAX_K)
        candidates = [cid for (cid,) in self.conn.execute(
            f"SELECT rowid FROM {table} WHERE embedding MATCH vec_quantize_binary(?) AND k = ? AND profile_id = ?",
            (query.tobytes(), k, profile_id))]
        return self.rescore(space_id, candidates, query, n)

    def rescore(self, space_id: int, candidates: list[int], query: np.ndarray, n: int) -> list[tuple[int, float]]:
        import numpy as np

        if not candidates:
            return []
        ids: list[int] = []
        blobs: list[bytes] = []
        for at in range(0, len(candidates), 900):  # stay under SQLite's bound-parameter limit
            part = candidates[at:at + 900]
            marks = ",".join("?" * len(part))
            for cid, blob in self.conn.execute(
                    f"SELECT chunk_id, vector FROM embeddings WHERE space_id = ? AND chunk_id IN ({marks})",
                    (space_id, *part)):
                ids.append(cid)
                blobs.append(blob)
        if not ids:
            return []
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), -1)
        return _best(np.asarray(ids), matrix @ query, n)

    def _numpy_knn(self, space_id: int, profile_id: int, query: np.ndarray, n: int) -> list[tuple[int, float]]:
        import numpy as np

        key = (space_id, profile_id)
        cached = self._matrices.get(key)
        if cached is None:
            rows = self.conn.execute(
                "SELECT e.chunk_id, e.vector FROM embeddings e"
                " JOIN chunks c ON c.id = e.chunk_id JOIN documents d ON d.id = c.document_id"
                " WHERE e.space_id = ? AND d.profile_id = ?", (space_id, profile_id)).fetchall()
            ids = np.asarray([r[0] for r in rows], dtype=np.int64)
            dim = query.shape[0]
            matrix = (np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim)
                      if rows else np.zeros((0, dim), dtype=np.float32))
            cached = self._matrices[key] = (ids, matrix)
        ids, matrix = cached
        if not len(ids):
            return []
        return _best(ids, matrix @ query, n)


def _best(ids, scores, n: int) -> list[tuple[int, float]]:
    import numpy as np

    if len(scores) > n:
        top = np.argpartition(-scores, n - 1)[:n]
    else:
        top = np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(ids[i]), float(scores[i])) for i in top]
