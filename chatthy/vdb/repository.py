"""The vector store's tables: documents, chunks, the FTS5 index, embedding spaces.

Synchronous and on the daemon's event-loop thread, like the rest of the
Store: every call here is a few milliseconds at most. Writing a document is
one transaction (its row, its chunks, their vectors and index rows), so a
cancelled ingest never leaves half a document behind.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from chatthy.store import now_iso, transaction

from .vector_index import VectorIndex

if TYPE_CHECKING:
    from chatthy.store.connection import Connection

    from .chunking import Chunk

_TERM = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TERMS = 64


@dataclass(frozen=True)
class DocumentRow:
    id: int
    profile_id: int
    source: str
    title: str | None
    kind: str
    sha256: str
    chunking: str
    chars: int
    meta: dict | None
    created: str
    updated: str


@dataclass(frozen=True)
class Space:
    id: int
    model: str
    dimension: int


_DOC_COLUMNS = "id, profile_id, source, title, kind, sha256, chunking, chars, meta, created, updated"


def _doc(row) -> DocumentRow:
    values = list(row)
    values[8] = json.loads(values[8]) if values[8] else None
    return DocumentRow(*values)


def fts_query(text: str) -> str | None:
    """An FTS5 query matching any word of ``text`` (quoted: user text is never syntax)."""
    terms = list(dict.fromkeys(t.lower() for t in _TERM.findall(text)))[:MAX_QUERY_TERMS]
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


class Repository:
    def __init__(self, conn: Connection, index: VectorIndex) -> None:
        self.conn = conn
        self.index = index

    # -- spaces ----------------------------------------------------------------
    def space(self, model: str, dimension: int) -> Space:
        self.conn.execute(
            "INSERT INTO embedding_spaces (model, dimension, created) VALUES (?, ?, ?)"
            " ON CONFLICT (model, dimension) DO NOTHING", (model, dimension, now_iso()))
        row = self.conn.execute(
            "SELECT id, model, dimension FROM embedding_spaces WHERE model = ? AND dimension = ?",
            (model, dimension)).fetchone()
        return Space(*row)

    def find_space(self, model: str) -> Space | None:
        row = self.conn.execute(
            "SELECT id, model, dimension FROM embedding_spaces WHERE model = ? ORDER BY id DESC LIMIT 1",
            (model,)).fetchone()
        return Space(*row) if row else None

    def spaces(self, profile_id: int) -> list[dict]:
        rows = self.conn.execute(
            "SELECT s.id, s.model, s.dimension, count(e.chunk_id) FROM embedding_spaces s"
            " JOIN embeddings e ON e.space_id = s.id JOIN chunks c ON c.id = e.chunk_id"
            " JOIN documents d ON d.id = c.document_id WHERE d.profile_id = ?"
            " GROUP BY s.id ORDER BY s.id", (profile_id,)).fetchall()
        return [{"model": m, "dimension": dim, "vectors": n} for _, m, dim, n in rows]

    # -- documents ---------------------------------------------------------------
    def document(self, profile_id: int, source: str) -> DocumentRow | None:
        row = self.conn.execute(
            f"SELECT {_DOC_COLUMNS} FROM documents WHERE profile_id = ? AND source = ?",
            (profile_id, source)).fetchone()
        return _doc(row) if row else None

    def vectors_by_hash(self, document_id: int, space_id: int) -> dict[str, bytes]:
        """The document's current vectors by chunk hash: unchanged chunks keep theirs."""
        rows = self.conn.execute(
            "SELECT c.sha256, e.vector FROM chunks c JOIN embeddings e ON e.chunk_id = c.id AND e.space_id = ?"
            " WHERE c.document_id = ?", (space_id, document_id)).fetchall()
        return dict(rows)

    def missing_vectors(self, profile_id: int, space_id: int | None, document_id: int | None = None) -> int:
        sql = ("SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id"
               " WHERE d.profile_id = ? AND NOT EXISTS"
               " (SELECT 1 FROM embeddings e WHERE e.chunk_id = c.id AND e.space_id = ?)")
        args: list = [profile_id, space_id if space_id is not None else -1]
        if document_id is not None:
            sql += " AND c.document_id = ?"
            args.append(document_id)
        return self.conn.execute(sql, args).fetchone()[0]

    def write_document(
        self, *, profile_id: int, source: str, title: str | None, kind: str, sha256: str,
        chunking: str, chars: int, meta: dict | None, chunks: Sequence[Chunk], hashes: Sequence[str],
        space: Space, vectors: Sequence[bytes],
    ) -> int:
        """Insert or replace a document with its chunks and their vectors; its id."""
        now = now_iso()
        meta_text = json.dumps(meta, ensure_ascii=False) if meta else None
        with transaction(self.conn):
            old = self.document(profile_id, source)
            if old is not None:
                self._delete_chunks(old.id)
                self.conn.execute(
                    "UPDATE documents SET title = ?, kind = ?, sha256 = ?, chunking = ?, chars = ?, meta = ?,"
                    " updated = ? WHERE id = ?", (title, kind, sha256, chunking, chars, meta_text, now, old.id))
                document_id = old.id
            else:
                document_id = self.conn.execute(
                    "INSERT INTO documents (profile_id, source, title, kind, sha256, chunking, chars, meta,"
                    " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (profile_id, source, title, kind, sha256, chunking, chars, meta_text, now, now)).lastrowid
            ids = []
            for chunk, digest in zip(chunks, hashes):
                ids.append(self.conn.execute(
                    "INSERT INTO chunks (document_id, seq, text, tokens, start_char, end_char, heading, page, sha256)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (document_id, chunk.seq, chunk.text, chunk.tokens, chunk.start, chunk.end, chunk.heading,
                     chunk.page, digest)).lastrowid)
            self.index.add(space.id, space.dimension, profile_id, ids, list(vectors))
        return document_id

    def touch_document(self, document_id: int) -> None:
        self.conn.execute("UPDATE documents SET updated = ? WHERE id = ?", (now_iso(), document_id))

    def _delete_chunks(self, document_id: int) -> None:
        ids = [cid for (cid,) in self.conn.execute("SELECT id FROM chunks WHERE document_id = ?", (document_id,))]
        self.index.remove(ids)
        self.conn.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))

    def forget(self, profile_id: int, sources: Sequence[str], *, under: Sequence[str] = ()) -> list[str]:
        """Delete the named sources, and every source below the ``under`` prefixes."""
        targets: list[DocumentRow] = []
        for source in sources:
            doc = self.document(profile_id, source)
            if doc is not None:
                targets.append(doc)
        for prefix in under:
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = self.conn.execute(
                f"SELECT {_DOC_COLUMNS} FROM documents WHERE profile_id = ? AND source LIKE ? ESCAPE '\\'",
                (profile_id, escaped + "%")).fetchall()
            targets.extend(_doc(r) for r in rows)
        seen: dict[int, DocumentRow] = {d.id: d for d in targets}
        with transaction(self.conn):
            for doc in seen.values():
                self._delete_chunks(doc.id)
                self.conn.execute("DELETE FROM documents WHERE id = ?", (doc.id,))
        return sorted(d.source for d in seen.values())

    def documents(self, profile_id: int, space_id: int | None) -> list[dict]:
        rows = self.conn.execute(
            "SELECT d.source, d.title, d.kind, d.chars, d.updated, count(c.id), coalesce(sum(c.tokens), 0),"
            " (SELECT count(*) FROM chunks c2 JOIN embeddings e ON e.chunk_id = c2.id AND e.space_id = ?"
            "  WHERE c2.document_id = d.id)"
            " FROM documents d LEFT JOIN chunks c ON c.document_id = d.id"
            " WHERE d.profile_id = ? GROUP BY d.id ORDER BY d.source",
            (space_id if space_id is not None else -1, profile_id)).fetchall()
        return [{"source": s, "title": t, "kind": k, "chars": chars, "updated": u, "chunks": n,
                 "tokens": tokens, "embedded": embedded}
                for s, t, k, chars, u, n, tokens, embedded in rows]

    # -- chunks --------------------------------------------------------------------
    def chunks_without_vectors(self, profile_id: int, space_id: int, after_id: int, limit: int) -> list[tuple]:
        """``(id, text, heading, title)`` of chunks lacking a vector in the space, by id."""
        return self.conn.execute(
            "SELECT c.id, c.text, c.heading, d.title FROM chunks c JOIN documents d ON d.id = c.document_id"
            " WHERE d.profile_id = ? AND c.id > ? AND NOT EXISTS"
            " (SELECT 1 FROM embeddings e WHERE e.chunk_id = c.id AND e.space_id = ?)"
            " ORDER BY c.id LIMIT ?", (profile_id, after_id, space_id, limit)).fetchall()

    def other_space_chunks(self, profile_id: int, space_id: int) -> dict[int, list[int]]:
        """Chunk ids of the profile with vectors in spaces other than ``space_id``, by space."""
        out: dict[int, list[int]] = {}
        for sid, cid in self.conn.execute(
                "SELECT e.space_id, e.chunk_id FROM embeddings e JOIN chunks c ON c.id = e.chunk_id"
                " JOIN documents d ON d.id = c.document_id WHERE d.profile_id = ? AND e.space_id != ?",
                (profile_id, space_id)):
            out.setdefault(sid, []).append(cid)
        return out

    def chunk_details(self, chunk_ids: Sequence[int]) -> dict[int, dict]:
        out: dict[int, dict] = {}
        ids = list(chunk_ids)
        for at in range(0, len(ids), 900):
            part = ids[at:at + 900]
            marks = ",".join("?" * len(part))
            for row in self.conn.execute(
                    "SELECT c.id, c.seq, c.text, c.tokens, c.start_char, c.end_char, c.heading, c.page,"
                    " d.source, d.title, d.kind FROM chunks c JOIN documents d ON d.id = c.document_id"
                    f" WHERE c.id IN ({marks})", part):
                cid, seq, text, tokens, start, end, heading, page, source, title, kind = row
                out[cid] = {"chunk_id": cid, "seq": seq, "text": text, "tokens": tokens, "start": start,
                            "end": end, "heading": heading, "page": page, "source": source, "title": title,
                            "kind": kind}
        return out

    def fts(self, profile_id: int, query: str, n: int) -> list[tuple[int, float]]:
        """BM25 over the profile's chunks: ``(chunk_id, score)``, best first (higher is better)."""
        match = fts_query(query)
        if match is None or n <= 0:
            return []
        rows = self.conn.execute(
            "SELECT chunks_fts.rowid, bm25(chunks_fts) AS score FROM chunks_fts"
            " JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id"
            " WHERE chunks_fts MATCH ? AND d.profile_id = ? ORDER BY score LIMIT ?",
            (match, profile_id, n)).fetchall()
        # SQLite's bm25() is negative, lower is better; flip it so bigger means better everywhere.
        return [(int(cid), -float(score)) for cid, score in rows]

    # -- totals ----------------------------------------------------------------------
    def has_chunks(self, profile_id: int) -> bool:
        return self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM documents d JOIN chunks c ON c.document_id = d.id"
            " WHERE d.profile_id = ?)", (profile_id,)).fetchone()[0] == 1

    def totals(self, profile_id: int) -> dict:
        docs, chunks, tokens, chars = self.conn.execute(
            "SELECT count(DISTINCT d.id), count(c.id), coalesce(sum(c.tokens), 0), coalesce(sum(length(c.text)), 0)"
            " FROM documents d LEFT JOIN chunks c ON c.document_id = d.id WHERE d.profile_id = ?",
            (profile_id,)).fetchone()
        vector_bytes = self.conn.execute(
            "SELECT coalesce(sum(length(e.vector)), 0) FROM embeddings e JOIN chunks c ON c.id = e.chunk_id"
            " JOIN documents d ON d.id = c.document_id WHERE d.profile_id = ?", (profile_id,)).fetchone()[0]
        return {"documents": docs, "chunks": chunks, "tokens": tokens, "text_bytes": chars,
                "vector_bytes": vector_bytes}

    def table_bytes(self) -> int | None:
        """Bytes on disk of every vector-store table and index (None without dbstat)."""
        try:
            row = self.conn.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name IN ('documents', 'chunks', 'embeddings',"
                " 'embedding_spaces', 'embeddings_chunk_id') OR name LIKE 'chunks_fts%' OR name LIKE 'vec_space_%'"
                " OR name LIKE 'sqlite_autoindex_chunks%' OR name LIKE 'sqlite_autoindex_documents%'"
                " OR name LIKE 'sqlite_autoindex_embedd%'").fetchone()
        except Exception:  # noqa: BLE001  dbstat is a compile-time option of SQLite
            return None
        return int(row[0] or 0)
