"""The sources under a ``--rag`` answer, as ``chatthy ask --rag`` and the REPL's ``/rag`` show them.

Standard library only (the REPL imports it without chatthy.cli.vdb)::

    Sources:
    [1] Bread (/home/me/notes/bread.md) · Bread › Baking
    [2] /home/me/notes/install.md · Installing chatthy › macOS
"""

from __future__ import annotations

NO_CONTEXT = ("no retrieved context: nothing in the vector store matched "
              "(add documents with `chatthy vdb ingest`)")


def format_citations(rag: dict) -> str | None:
    """``Sources:`` and one line per citation of a reply's ``rag`` meta; None when it has none."""
    citations = rag.get("citations") or []
    if not citations:
        return None
    lines = ["Sources:"]
    for c in citations:
        where = c.get("title") or c.get("source")
        if c.get("title") and c["title"] != c.get("source"):
            where = f"{c['title']} ({c.get('source')})"
        lines.append(f"[{c.get('n')}] {where} · {c.get('position')}")
    return "\n".join(lines) + "\n"
