"""Embeddings from an OpenAI-compatible /v1/embeddings server; switching models; the RAG budget."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import make_home, running_daemon
from tests.fakes.replies import Text
from tests.vdb.fake_embeddings import DIMENSION, FakeEmbeddings

EMBEDDER_CONFIG = """
[providers.emb]
kind = "openai"
base_url = "{url}"
model = "unused-chat-model"
context_length = 8192
max_tokens = 512
key_required = false
max_retries = 0
timeout = 10

[vdb]
embedder = "emb"
model = "{model}"
rag_share = 0.05
"""


@pytest.fixture(scope="module")
def embeddings():
    with FakeEmbeddings() as server:
        yield server


@pytest.fixture(scope="module")
def rhome(provider, embeddings):
    home = make_home(provider)
    base = (home.config_dir / "config.toml").read_text()
    home.configure = lambda model: (home.config_dir / "config.toml").write_text(
        base + EMBEDDER_CONFIG.format(url=embeddings.base_url, model=model))
    home.configure("fake-embed")
    try:
        yield home
    finally:
        shutil.rmtree(home.root, ignore_errors=True)


def run_json(home, *args):
    out = home.run(*args, "--json", timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_remote_embedder_ingest_search_errors_and_model_switch(rhome, embeddings, docs):
    (docs / "owls.md").write_text("# Owls\n\nOwls hunt at night and can turn their heads very far.")
    (docs / "tea.md").write_text("# Tea\n\nGreen tea is steeped at eighty degrees for two minutes.")
    with running_daemon(rhome):
        result = run_json(rhome, "vdb", "ingest", str(docs))
        assert result["added"] == 2
        sent = [r for r in embeddings.requests if r["input"] != ["dimension probe"]]
        assert sent and all(r["model"] == "fake-embed" and r["encoding_format"] == "float" for r in sent)
        assert any("Owls hunt at night" in text for r in sent for text in r["input"])
        info = run_json(rhome, "vdb", "info")
        assert (info["model"], info["dimension"], info["embedder"]) == ("emb:fake-embed", DIMENSION, "emb")
        assert info["vectors"] == info["chunks"] == 2
        found = run_json(rhome, "vdb", "search", "--mode", "vector", "-k", "1", "green tea steeped")
        assert found["results"][0]["source"] == str(docs / "tea.md")

        (docs / "new.md").write_text("Something new to embed.")
        embeddings.fail_next(500, "the embedding backend is down")
        out = rhome.run("vdb", "ingest", str(docs))
        assert out.returncode == 5, out.stderr
        assert "the embedding backend is down" in out.stderr
        assert str(docs / "new.md") not in {d["source"] for d in run_json(rhome, "vdb", "sources")}

    rhome.configure("fake-embed-v2")
    with running_daemon(rhome):
        found = run_json(rhome, "vdb", "search", "tea")
        assert found["model"] == "emb:fake-embed-v2" and found["missing_vectors"] == 2
        assert found["results"] and all(r["similarity"] is None for r in found["results"])  # BM25 only
        plain = rhome.run("vdb", "search", "tea")
        assert "vdb reembed" in plain.stderr
        assert rhome.run("vdb", "reembed", check=True).returncode == 0
        info = run_json(rhome, "vdb", "info")
        assert info["missing_vectors"] == 0
        assert {s["model"] for s in info["spaces"]} == {"emb:fake-embed", "emb:fake-embed-v2"}
        rhome.run("vdb", "reembed", "--prune", check=True)
        assert [s["model"] for s in run_json(rhome, "vdb", "info")["spaces"]] == ["emb:fake-embed-v2"]
        assert run_json(rhome, "vdb", "search", "--mode", "vector", "-k", "1", "owls night")[
            "results"][0]["source"] == str(docs / "owls.md")


def test_rag_share_bounds_the_retrieved_context(rhome, provider, docs):
    for i in range(10):
        body = " ".join(f"Fact {i}.{j}: the lighthouse keeper logs ship number {j}." for j in range(12))
        (docs / f"log{i}.md").write_text(f"# Log {i}\n\n{body}")
    rhome.configure("fake-embed-v2")
    with running_daemon(rhome):
        rhome.run("profile", "create", "budget", check=True)
        assert rhome.run("--profile", "budget", "vdb", "ingest", str(docs), timeout=60).returncode == 0
        provider.script(Text(["ok"]))
        out = rhome.run("--profile", "budget", "ask", "-c", "b", "--rag", "lighthouse keeper ship logs", check=True)
        meta = json.loads(rhome.run("--profile", "budget", "chat", "show", "b", "--json", check=True).stdout)
    citations = meta["messages"][-1]["meta"]["rag"]["citations"]
    # 5% of (8192 - 512) is 384 tokens: a couple of these ~130-token chunks, not eight.
    assert 1 <= len(citations) <= 3
    system = next(m["content"] for m in provider.requests[-1].json["messages"] if m["role"] == "system")
    assert len(system) < 384 * 6  # ~4 characters a token, with room to spare
    assert out.stdout.count("\n[") == len(citations)
