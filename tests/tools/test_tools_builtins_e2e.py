"""The data built-ins against the real subsystems: the vector store, the workspace, the URL source."""

from __future__ import annotations

import json

from tests.fakes.replies import Text, ToolCalls
from tests.sources.site import ARTICLE, Site
from tests.tools.conftest import completions


def results(provider) -> list[str]:
    return [m["content"] for m in completions(provider)[-1].json["messages"] if m.get("role") == "tool"]


def test_search_knowledge_read_workspace_file_and_fetch_url(thome, provider, tmp_path):
    kb = tmp_path / "checkpoints.md"
    kb.write_text("# Checkpoints\n\nA checkpoint copies the write-ahead log back into the database file.\n")
    assert thome.run("vdb", "ingest", str(kb)).returncode == 0
    provider.script(Text(["ok"]))
    thome.run("ask", "-c", "data-tools", "hello", check=True)
    notes = tmp_path / "notes.md"
    notes.write_text("Benched notes: the cat is called Bob.\n")
    thome.run("ws", "load", str(notes), "-c", "data-tools", check=True)
    thome.run("ws", "bench", "notes.md", "-c", "data-tools", check=True)
    with Site() as site:
        site.page("/article", ARTICLE)
        provider.clear()
        provider.script(
            ToolCalls([("k1", "search_knowledge", {"query": "what does a checkpoint copy?", "k": 3}),
                       ("k2", "read_workspace_file", {"name": "notes.md"}),
                       ("k3", "read_workspace_file", {"name": "missing.md"}),
                       ("k4", "fetch_url", {"url": site.url("/article")})]),
            Text(["done"]),
        )
        out = thome.run("ask", "-c", "data-tools", "-T", "search_knowledge", "-T", "read_workspace_file",
                        "-T", "fetch_url", "look things up")
    assert out.returncode == 0, out.stderr
    search, notes_text, missing, page = results(provider)
    assert search.startswith("[1] ") and "copies the write-ahead log back" in search
    assert "checkpoints.md" in search
    assert "the cat is called Bob" in notes_text
    assert missing.startswith("error: no workspace file 'missing.md'") and "notes.md (benched)" in missing
    assert page.startswith(f"Source: {site.url('/article')}") and "Write-ahead logging in SQLite" in page
    assert "Cookie settings" not in page  # readable text, not the page's furniture
    calls = json.loads(thome.run("tools", "calls", "data-tools", "--json", check=True).stdout)
    assert [c["status"] for c in calls] == ["ok", "ok", "error", "ok"]
