"""Repository and vector index on a real SQLite file (sqlite-vec, and without it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy import config as config_mod
from chatthy.store import Store
from chatthy.vdb.chunking import Chunk
from chatthy.vdb.repository import fts_query
from chatthy.vdb.search import fuse
from chatthy.vdb.service import VectorService
from chatthy.vdb.vector_index import VectorIndex, table_name

DIM = 64


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "chatthy.db") as s:
        yield s


def service_of(store) -> VectorService:
    return VectorService(store, config_mod.parse("", Path("config.toml")))


def unit(rng, n, dim=DIM):
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def add_document(service, profile_id, source, texts, vectors, space):
    chunks = [Chunk(i, i * 100, i * 100 + len(t), t, len(t.split()), None, None) for i, t in enumerate(texts)]
    return service.repo.write_document(
        profile_id=profile_id, source=source, title=None, kind="file", sha256="x", chunking="c", chars=1,
        meta=None, chunks=chunks, hashes=[f"h{i}" for i in range(len(texts))], space=space,
        vectors=[v.tobytes() for v in vectors])


def clustered(rng, n, dim=DIM, clusters=20):
    centres = unit(rng, clusters, dim)
    x = centres[rng.integers(0, clusters, n)] + 0.35 * unit(rng, n, dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_bit_index_finds_what_exact_search_finds(store):
    service = service_of(store)
    assert service.vec_loaded
    rng = np.random.default_rng(0)
    vectors = clustered(rng, 3000, 384)
    space = service.repo.space("m", 384)
    add_document(service, 1, "a", [f"chunk {i}" for i in range(len(vectors))], vectors, space)
    ids = {r[1]: r[0] for r in store.conn.execute("SELECT id, seq FROM chunks")}
    recall = []
    for q in range(40):
        query = vectors[q * 7] + 0.05 * unit(rng, 1, 384)[0]
        query /= np.linalg.norm(query)
        exact = [ids[int(i)] for i in np.argsort(-(vectors @ query))[:10]]
        got = service.index.knn(space.id, 384, 1, query, 10)
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
        assert got[0][0] == exact[0]  # the nearest is always found
        recall.append(len(set(exact) & {cid for cid, _ in got}) / 10)
    # Synthetic clusters of near-equal neighbours are the hard case for sign bits
    # (real MiniLM vectors: ~0.98, see tests/bench/bench_vdb.py); exactness is not promised.
    assert np.mean(recall) >= 0.8


def test_numpy_fallback_is_exact_and_sees_the_same_data(store):
    rng = np.random.default_rng(1)
    service = service_of(store)
    vectors = unit(rng, 500)
    space = service.repo.space("m", DIM)
    add_document(service, 1, "a", [f"c{i}" for i in range(500)], vectors, space)
    fallback = VectorIndex(store.conn, vec_loaded=False)
    ids = {r[1]: r[0] for r in store.conn.execute("SELECT id, seq FROM chunks")}
    for q in unit(rng, 10):
        exact = [ids[int(i)] for i in np.argsort(-(vectors @ q))[:10]]
        assert [cid for cid, _ in fallback.knn(space.id, DIM, 1, q, 10)] == exact


def test_profiles_never_see_each_others_chunks(store):
    rng = np.random.default_rng(2)
    service = service_of(store)
    other = store.create_profile("other").id
    space = service.repo.space("m", DIM)
    v = unit(rng, 20)
    add_document(service, 1, "mine", [f"alpha {i}" for i in range(10)], v[:10], space)
    add_document(service, other, "theirs", [f"alpha {i}" for i in range(10)], v[10:], space)
    mine = {cid for (cid,) in store.conn.execute(
        "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.profile_id = 1")}
    for q in v:
        assert {cid for cid, _ in service.index.knn(space.id, DIM, 1, q, 20)} <= mine
    assert {cid for cid, _ in service.repo.fts(1, "alpha", 50)} == mine


def test_replacing_and_forgetting_keep_index_fts_and_vectors_in_step(store):
    rng = np.random.default_rng(3)
    service = service_of(store)
    space = service.repo.space("m", DIM)
    add_document(service, 1, "/d/a.md", ["apples and pears", "bananas"], unit(rng, 2), space)
    add_document(service, 1, "/d/sub/b.md", ["cherries"], unit(rng, 1), space)
    add_document(service, 1, "/d/a.md", ["grapes only"], unit(rng, 1), space)  # replaced
    assert service.repo.fts(1, "apples", 5) == []
    assert len(service.repo.fts(1, "grapes", 5)) == 1

    def counts():
        index = store.conn.execute(f"SELECT count(*) FROM {table_name(space.id)}").fetchone()[0]
        vectors = store.conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
        chunks = store.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return index, vectors, chunks

    assert counts() == (2, 2, 2)
    assert service.repo.forget(1, [], under=["/d/sub/"]) == ["/d/sub/b.md"]
    assert counts() == (1, 1, 1)
    assert service.repo.forget(1, ["/d/a.md"]) == ["/d/a.md"]
    assert counts() == (0, 0, 0)
    assert service.repo.fts(1, "grapes cherries", 5) == []


def test_a_deleted_profile_cascades_and_the_index_is_rebuilt(store):
    rng = np.random.default_rng(4)
    service = service_of(store)
    other = store.create_profile("gone")
    space = service.repo.space("m", DIM)
    add_document(service, other.id, "x", ["zebra stripes"], unit(rng, 1), space)
    add_document(service, 1, "y", ["lion mane"], unit(rng, 1), space)
    store.delete_profile("gone")
    assert store.conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == 1
    assert service.repo.fts(other.id, "zebra", 5) == []
    assert store.conn.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'zebra'").fetchone()[0] == 0
    # The vec0 table is past the cascade; a fresh index notices and rebuilds it.
    assert store.conn.execute(f"SELECT count(*) FROM {table_name(space.id)}").fetchone()[0] == 2
    VectorIndex(store.conn, vec_loaded=True).ensure(space.id, DIM)
    assert store.conn.execute(f"SELECT count(*) FROM {table_name(space.id)}").fetchone()[0] == 1


def test_a_dimension_not_divisible_by_8_gets_an_exact_float_index(store):
    assert "bit[384]" in _index_sql(store, 384) and "float[64]" in _index_sql(store, 64)
    rng = np.random.default_rng(5)
    service = service_of(store)
    space = service.repo.space("odd", 30)
    v = unit(rng, 50, 30)
    add_document(service, 1, "o", [f"t{i}" for i in range(50)], v, space)
    ids = {r[1]: r[0] for r in store.conn.execute("SELECT id, seq FROM chunks")}
    got = service.index.knn(space.id, 30, 1, v[7], 5)
    assert got[0][0] == ids[7] and abs(got[0][1] - 1.0) < 1e-5
    assert [cid for cid, _ in got] == [ids[int(i)] for i in np.argsort(-(v @ v[7]))[:5]]


def _index_sql(store, dimension) -> str:
    service = service_of(store)
    space = service.repo.space(f"m{dimension}", dimension)
    service.index.ensure(space.id, dimension)
    return store.conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table_name(space.id),)).fetchone()[0]


@pytest.fixture(scope="module")
def fts_service(tmp_path_factory):
    with Store.open(tmp_path_factory.mktemp("fts") / "db") as s:
        service = service_of(s)
        space = service.repo.space("m", 8)
        add_document(service, 1, "a", ["some words here"], [np.full(8, 8 ** -0.5, dtype=np.float32)], space)
        yield service


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_query_text_is_a_valid_fts_query(fts_service, text):
    fts_service.repo.fts(1, text, 5)  # never an FTS5 syntax error
    q = fts_query(text)
    assert q is None or q.count('"') % 2 == 0
    assert fts_service.repo.fts(1, text + " words", 5)  # and a matching word still matches


def test_fts_query_quotes_operators():
    assert fts_query('AND OR "NEAR(x" *') == '"and" OR "or" OR "near" OR "x"'
    assert fts_query("  ...  ") is None


def test_reciprocal_rank_fusion():
    assert fuse([[(1, 0.9), (2, 0.8)], [(2, 5.0), (3, 4.0)]])[0][0] == 2  # in both lists
    assert [i for i, _ in fuse([[(1, 0.0), (2, 0.0)], []])] == [1, 2]
    assert fuse([[], []]) == []


def test_weighted_fusion_prefers_the_heavier_list_on_a_tie():
    ranked = fuse([[(1, 0.0)], [(2, 0.0)]], weights=(1.0, 0.5))
    assert [i for i, _ in ranked] == [1, 2]
    ranked = fuse([[(1, 0.0)], [(2, 0.0)]], weights=(0.5, 1.0))
    assert [i for i, _ in ranked] == [2, 1]


def test_vectors_written_without_sqlite_vec_are_indexed_when_it_is_back(store):
    rng = np.random.default_rng(6)
    service = service_of(store)
    service.vec_loaded = False
    service.index = VectorIndex(store.conn, vec_loaded=False)
    service.repo.index = service.index
    space = service.repo.space("m", 384)
    v = unit(rng, 30, 384)
    add_document(service, 1, "a", [f"t{i}" for i in range(30)], v, space)
    assert store.conn.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", (table_name(space.id),)).fetchone()[0] == 0
    back = service_of(store)  # sqlite-vec is loaded in this connection
    got = back.index.knn(space.id, 384, 1, v[3], 1)
    assert abs(got[0][1] - 1.0) < 1e-5
    assert store.conn.execute(f"SELECT count(*) FROM {table_name(space.id)}").fetchone()[0] == 30
