"""/rag in the REPL: retrieval for every question, or for the next one with its own query.

The real REPL through prompt-toolkit's pipe input, the real daemon with the
local embedder and an ingested document, the fake provider.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from tests.fakes import Text
from tests.repl.conftest import unique

BREAD = """# Bread

Mix flour, water, salt and yeast. Knead the dough for ten minutes, let it rise
for two hours, then bake it at 230 degrees for forty minutes.
"""

SHIPS = """# Lighthouses

A lighthouse keeper trims the lamp at dusk so that ships find the harbour mouth.
"""


@pytest.fixture(scope="module")
def documents(live_home, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ragdocs")
    (root / "bread.md").write_text(BREAD)
    (root / "ships.md").write_text(SHIPS)
    out = live_home.run("vdb", "ingest", str(root), timeout=120)
    assert out.returncode == 0, out.stderr
    return root


def last_request(fake) -> dict:
    return [r for r in fake.requests if r.method == "POST"][-1].json


def retrieved(body: dict) -> str:
    """The retrieved-context part of a request's system prompt ("" when there is none)."""
    system = "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")
    return system if "retrieved from the user's documents" in system else ""


def toolbar_text(r) -> str:
    from chatthy.repl.prompt import toolbar

    return "".join(text for _, text in toolbar(r.repl))


def test_rag_on_answers_every_question_with_retrieval_until_off(repl_driver, fake_clean, documents):
    bread = documents / "bread.md"
    fake_clean.script(Text(["Forty minutes [1]."]), Text(["Two hours [1]."]), Text(["Plain."]))
    r = repl_driver(chat=unique("bake"))
    assert "│ rag" not in toolbar_text(r)
    r.line("/rag on")
    r.wait_text("rag on: every question")
    assert "│ rag │" in toolbar_text(r)

    mark = r.mark()
    r.line("How long do I bake bread?")
    r.wait_text("─ fake-model", after=mark)
    body = last_request(fake_clean)
    passage = retrieved(body)
    assert f"[1] {bread} · Bread\n# Bread\n\nMix flour" in passage  # the provider got the passage
    assert body["messages"][-1] == {"role": "user", "content": "How long do I bake bread?"}
    shown = r.text[mark:]
    answer, sources = shown.index("Forty minutes [1]."), shown.index(f"Sources:\n[1] {bread} · Bread")
    assert answer < sources < shown.index("─ fake-model")  # the sources under the answer

    mark = r.mark()
    r.line("How long should the dough rise?")  # still on
    r.wait_text("─ fake-model", after=mark)
    assert "let it rise" in retrieved(last_request(fake_clean))
    assert f"] {bread} · Bread" in r.text[mark:].partition("Sources:")[2]

    r.line("/rag off")
    r.wait_text("rag off: questions are answered without the vector store")
    assert "│ rag" not in toolbar_text(r)
    mark = r.mark()
    r.line("Anything else?")
    r.wait_text("─ fake-model", after=mark)
    assert retrieved(last_request(fake_clean)) == ""
    assert "Sources:" not in r.text[mark:]


def test_rag_query_searches_for_the_next_question_only(repl_driver, fake_clean, documents):
    fake_clean.script(Text(["The keeper trims it [1]."]), Text(["No idea."]))
    r = repl_driver(chat=unique("keeper"))
    r.line("/rag lighthouse lamp at dusk")
    r.wait_text("the next question searches the vector store for: lighthouse lamp at dusk")
    assert "│ rag once │" in toolbar_text(r)
    mark = r.mark()
    r.line("Who looks after it?")  # no word of the document: the query finds it
    r.wait_text("─ fake-model", after=mark)
    body = last_request(fake_clean)
    assert f"[1] {documents / 'ships.md'} · Lighthouses\n# Lighthouses\n\nA lighthouse keeper" in retrieved(body)
    assert body["messages"][-1]["content"] == "Who looks after it?"
    assert f"Sources:\n[1] {documents / 'ships.md'} · Lighthouses" in r.text[mark:]
    assert "│ rag" not in toolbar_text(r)  # used up

    mark = r.mark()
    r.line("And then?")
    r.wait_text("─ fake-model", after=mark)
    assert retrieved(last_request(fake_clean)) == ""
    assert "Sources:" not in r.text[mark:]


def test_rag_alone_tells_the_state_and_the_store(repl_driver, documents):
    r = repl_driver(new=True)
    r.line("/rag")
    r.wait_text("rag off · vector store: 2 documents")
    r.line("/rag on")
    r.line("/rag bread crust")
    r.line("/rag")
    r.wait_text("rag on: every question is answered with passages from the vector store; "
                "the next question searches for: bread crust")


def test_rag_with_nothing_to_find_says_so(repl_driver, live_home, fake_clean):
    live_home.run("profile", "create", "rag-empty", check=True)
    fake_clean.script(Text(["I found nothing."]))
    r = repl_driver(profile="rag-empty", chat=unique("nothing"))
    r.line("/rag on")
    mark = r.mark()
    r.line("What is in my notes?")
    r.wait_text("no retrieved context: nothing in the vector store matched", after=mark)
    assert "I found nothing." in r.text[mark:]


def test_rag_is_in_help_and_completion(repl_driver):
    from chatthy.repl.completion import ReplCompleter

    r = repl_driver(new=True)
    r.line("/help")
    r.wait_text("/rag [on|off|QUERY…]")
    completer = ReplCompleter(r.repl)

    def complete(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text, len(text)), CompleteEvent())]

    assert "rag" in complete("/ra")
    assert complete("/rag ") == ["on", "off"]
    assert complete("/rag of") == ["off"]
