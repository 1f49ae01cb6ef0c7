"""`chatthy vdb …` and `ask --rag` end to end: real daemon, real embedder, real files."""

from __future__ import annotations

import json

from tests.fakes.replies import Text
from tests.sources.pdf_maker import make_pdf
from tests.sources.site import ARTICLE, Site

INSTALL = """# Installing chatthy

chatthy runs on Linux and macOS and needs Python 3.11 or later.

## Linux

Create a virtual environment, then install the package with pip. The daemon starts
itself the first time a command needs it.

## macOS

The steps are the same as on Linux. The daemon's socket lives in the per-user
runtime directory.
"""

COOKING = """# Bread

Mix flour, water, salt and yeast. Knead the dough for ten minutes, let it rise
for two hours, then bake it at 230 degrees for forty minutes.
"""

TRAVEL = "The capital of France is Paris, famous for the Eiffel Tower and its museums.\n"


def ingest(home, *args, check=True):
    out = home.run("vdb", "ingest", "--json", *args, timeout=120)
    if check:
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)
    return out


def search(home, *args):
    out = home.run("vdb", "search", "--json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def sources(home, *args):
    return {d["source"]: d for d in json.loads(home.run(*args, "vdb", "sources", "--json", check=True).stdout)}


def test_ingest_a_directory_then_search_it(vhome, docs):
    (docs / "install.md").write_text(INSTALL)
    (docs / "food").mkdir()
    (docs / "food" / "bread.md").write_text(COOKING)
    (docs / "travel.txt").write_text(TRAVEL)
    (docs / ".notes.md").write_text("hidden: not ingested")
    (docs / ".gitignore").write_text("drafts/\n")
    (docs / "drafts").mkdir()
    (docs / "drafts" / "wip.md").write_text("ignored draft")
    (docs / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))

    result = ingest(vhome, str(docs))
    assert (result["added"], result["unchanged"], result["failed"], result["skipped"]) == (3, 0, 0, 1)
    assert [d["source"] for d in result["documents"] if d["status"] == "skipped"] == [str(docs / "photo.png")]
    listed = sources(vhome)
    assert set(listed) >= {str(docs / "install.md"), str(docs / "food" / "bread.md"), str(docs / "travel.txt")}
    assert not any("drafts" in s or ".notes" in s for s in listed)
    assert listed[str(docs / "install.md")]["chunks"] == 3  # one per section
    assert all(d["embedded"] == d["chunks"] for d in listed.values())

    # A paraphrase with no word in common with the answer: the vectors find it.
    found = search(vhome, "-k", "3", "--mode", "vector", "How long should dough be baked in the oven?")
    assert found["results"][0]["source"] == str(docs / "food" / "bread.md")
    assert found["model"] == "all-MiniLM-L6-v2-int8" and found["missing_vectors"] == 0
    top = search(vhome, "-k", "2", "mac", "socket", "directory")["results"][0]
    assert top["source"] == str(docs / "install.md") and top["position"] == "Installing chatthy › macOS"
    assert top["vector_rank"] and top["text_rank"] and top["text"].startswith("## macOS")
    text_only = search(vhome, "--mode", "text", "Eiffel")["results"]
    assert [r["source"] for r in text_only] == [str(docs / "travel.txt")] and text_only[0]["similarity"] is None

    plain = vhome.run("vdb", "search", "-k", "1", "Eiffel", "Tower", check=True).stdout
    assert plain.startswith("1\t") and str(docs / "travel.txt") in plain and "Paris" in plain


def test_reingest_skips_unchanged_and_reuses_unchanged_chunks(vhome, docs):
    doc = docs / "guide.md"
    sections = [f"## Part {i}\n\n" + " ".join(f"Point {i}.{j} explains something useful." for j in range(12))
                for i in range(4)]
    doc.write_text("# Guide\n\n" + "\n\n".join(sections))
    first = ingest(vhome, str(doc))
    assert first["added"] == 1 and first["chunks"] >= 4
    again = ingest(vhome, str(doc))
    assert (again["unchanged"], again["chunks"]) == (1, 0)

    doc.write_text("# Guide\n\n" + "\n\n".join(sections[:3] + ["## Part 3\n\nRewritten from scratch."]))
    changed = ingest(vhome, str(doc))
    assert changed["updated"] == 1
    assert 1 <= changed["chunks"] < first["chunks"] and changed["reused"] >= 3
    assert "Rewritten" in search(vhome, "--mode", "text", "-k", "1", "rewritten scratch")["results"][0]["text"]
    assert search(vhome, "--mode", "text", "Point 3.5")["results"][0]["position"] != "Guide › Part 3"

    forced = ingest(vhome, "--force", str(doc))
    assert forced["updated"] == 1 and forced["reused"] == 0 and forced["chunks"] == changed["chunks"] + changed["reused"]


def test_forget_files_and_directories(vhome, docs):
    (docs / "a.md").write_text("alpha document about aardvarks")
    (docs / "sub").mkdir()
    (docs / "sub" / "b.md").write_text("beta document about badgers")
    (docs / "sub" / "c.md").write_text("gamma document about cats")
    ingest(vhome, str(docs))
    assert vhome.run("vdb", "forget", str(docs / "a.md"), check=True).returncode == 0
    assert vhome.run("vdb", "forget", str(docs / "sub"), check=True).returncode == 0
    assert not any(s.startswith(str(docs)) for s in sources(vhome))
    assert search(vhome, "--mode", "text", "aardvarks badgers cats")["results"] == []
    missing = vhome.run("vdb", "forget", str(docs / "a.md"))
    assert missing.returncode == 4 and "no such source" in missing.stderr


def test_info_reports_model_dimension_counts_and_size(vhome, docs):
    (docs / "x.md").write_text(INSTALL)
    ingest(vhome, str(docs))
    info = json.loads(vhome.run("vdb", "info", "--json", check=True).stdout)
    assert info["model"] == "all-MiniLM-L6-v2-int8" and info["dimension"] == 384
    assert info["embedder"] == "local" and info["documents"] >= 1 and info["chunks"] >= 3
    assert info["vectors"] == info["chunks"] and info["missing_vectors"] == 0
    assert info["size_bytes"] > 0 and info["sqlite_vec"] and "sqlite-vec" in info["index"]
    text = vhome.run("vdb", "info", check=True).stdout
    assert "all-MiniLM-L6-v2-int8" in text and "384" in text


def test_profiles_are_separate(vhome, docs):
    (docs / "secret.md").write_text("the launch code is swordfish")
    vhome.run("profile", "create", "vdbwork", check=True)
    assert ingest(vhome, str(docs))["added"] == 1
    assert search(vhome, "--mode", "text", "swordfish")["results"]
    other = json.loads(vhome.run("--profile", "vdbwork", "vdb", "search", "--json", "swordfish", check=True).stdout)
    assert other["results"] == []
    assert sources(vhome, "--profile", "vdbwork") == {}


def test_urls_and_pdfs_keep_titles_and_pages(vhome, docs):
    pdf = docs / "birds.pdf"
    pdf.write_bytes(make_pdf(["Cover page", "Chapter one is about ducks swimming.",
                              "Chapter two is about geese flying south."], title="Bird Book"))
    with Site() as site:
        site.page("/wal", ARTICLE)
        result = ingest(vhome, str(pdf), site.url("/wal"))
    assert result["added"] == 2, result
    geese = search(vhome, "--mode", "text", "-k", "1", "geese flying")["results"][0]
    assert geese["source"] == str(pdf) and geese["title"] == "Bird Book" and geese["page"] == 3
    assert geese["position"].startswith("p. 3")
    wal = search(vhome, "-k", "1", "how do I turn on the write-ahead log")["results"][0]
    assert wal["source"] == site.url("/wal") and wal["kind"] == "url"


def test_bad_input_is_refused_clearly(vhome, docs):
    out = vhome.run("vdb", "ingest", str(docs / "nothing-here"))
    assert out.returncode == 2 and "nothing to ingest" in out.stderr
    (docs / "bin.dat").write_bytes(b"\x00\x01\x02" * 10)
    out = vhome.run("vdb", "ingest", str(docs / "bin.dat"))
    assert out.returncode == 2 and "binary" in out.stderr
    assert vhome.run("vdb", "search", " ").returncode == 2


def test_ask_rag_puts_numbered_passages_in_the_request_and_keeps_the_citations(vhome, provider, docs):
    (docs / "bread.md").write_text(COOKING)
    (docs / "install.md").write_text(INSTALL)
    vhome.run("profile", "create", "rag", check=True)
    out = vhome.run("--profile", "rag", "vdb", "ingest", str(docs), timeout=120)
    assert out.returncode == 0, out.stderr

    provider.script(Text(["Bake it for forty minutes [1]."]))
    out = vhome.run("--profile", "rag", "ask", "-c", "bread", "--rag", "How long do I bake bread?")
    assert out.returncode == 0, out.stderr
    answer, _, listing = out.stdout.partition("\n\nSources:\n")
    assert answer == "Bake it for forty minutes [1]."
    assert listing.splitlines()[0] == f"[1] {docs / 'bread.md'} · Bread"
    body = provider.requests[-1].json
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    assert "[1] " + str(docs / "bread.md") + " · Bread\n# Bread\n\nMix flour" in system
    assert "cite them inline by number" in system
    assert body["messages"][-1] == {"role": "user", "content": "How long do I bake bread?"}

    shown = json.loads(vhome.run("--profile", "rag", "chat", "show", "bread", "--json", check=True).stdout)
    rag = shown["messages"][-1]["meta"]["rag"]
    assert rag["query"] == "How long do I bake bread?"
    assert rag["citations"][0]["source"] == str(docs / "bread.md") and rag["citations"][0]["n"] == 1

    # A separate query, then the prompt words.
    provider.script(Text(["ok"]))
    out = vhome.run("--profile", "rag", "ask", "--rag", "macOS socket", "where", "does", "it", "live?", check=True)
    meta_query = provider.requests[-1].json["messages"][-1]["content"]
    assert meta_query == "where does it live?"
    assert "Installing chatthy › macOS" in out.stdout.partition("Sources:")[2].splitlines()[1]


def test_ask_rag_with_an_empty_store_answers_and_says_so(vhome, provider):
    vhome.run("profile", "create", "ragempty", check=True)
    provider.script(Text(["I do not know."]))
    out = vhome.run("--profile", "ragempty", "ask", "--rag", "What is in my notes?")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "I do not know.\n"
    assert "no retrieved context" in out.stderr
    assert not any(m["role"] == "system" for m in provider.requests[-1].json["messages"])


def test_rag_takes_at_most_rag_max_chunks(vhome, provider, docs):
    # The fake provider's window is 8192 - 512: a quarter is ~1900 tokens, far more
    # than these small chunks take, so the count limit is what stops it.
    for i in range(12):
        (docs / f"n{i}.md").write_text(f"# Note {i}\n\nNote number {i} mentions lighthouses and {i} ships.")
    vhome.run("profile", "create", "ragshare", check=True)
    assert vhome.run("--profile", "ragshare", "vdb", "ingest", str(docs), timeout=120).returncode == 0
    provider.script(Text(["fine"]))
    out = vhome.run("--profile", "ragshare", "ask", "--rag", "lighthouses and ships", check=True)
    cited = [line for line in out.stdout.split("Sources:\n")[1].splitlines() if line]
    assert len(cited) == 8  # [vdb] rag_max_chunks
    assert [line.split("]")[0] for line in cited] == [f"[{i}" for i in range(1, 9)]
