"""`ask --file`, `ask -t`, `summarize`, `template …` and `inject` end to end."""

from __future__ import annotations

import json
import stat
import threading

from chatthy.client import Client
from chatthy.paths import Paths
from tests.sources.pdf_maker import make_pdf


def last_user(provider) -> str:
    return provider.requests[-1].json["messages"][-1]["content"]


def test_ask_file_puts_documents_before_the_question(wshome, provider, site, tmp_path):
    code = tmp_path / "app.py"
    code.write_text("def add(a, b):\n    return {'sum': a + b}\n")
    out = wshome.run("ask", "-c", "files", "--file", str(code), "--file", site.url("/report.pdf") + "#pages=2",
                     "What", "does", "this", "do?")
    assert out.returncode == 0, out.stderr
    assert last_user(provider) == (
        f'<document name="app.py">\ndef add(a, b):\n    return {{\'sum\': a + b}}\n</document>\n\n'
        f'<document title="Bird Book" source="{site.url("/report.pdf")}" pages="2">\n'
        "Chapter one: ducks\n</document>\n\nWhat does this do?")
    # the message is kept in the chat as sent: the next turn replays it
    chat = json.loads(wshome.run("chat", "show", "files", "--json", check=True).stdout)
    assert chat["messages"][0]["content"].startswith('<document name="app.py"')


def test_ask_file_from_stdin_with_a_question(wshome, provider):
    out = wshome.run("ask", "-c", "stdin-file", "-f", "-", "Summarise", "this", input="line one\nline two\n")
    assert out.returncode == 0, out.stderr
    assert last_user(provider) == '<document name="stdin">\nline one\nline two\n</document>\n\nSummarise this'


def test_ask_with_a_template_and_variables(wshome, provider):
    out = wshome.run("ask", "-c", "tr", "-t", "translate", "-v", "language=German", input="Good morning")
    assert out.returncode == 0, out.stderr
    body = provider.requests[-1].json
    assert body["messages"][0]["role"] == "system"
    assert "professional translator" in body["messages"][0]["content"]
    user = body["messages"][-1]["content"]
    assert user.startswith("Translate the text below into German.") and user.endswith("\n\nGood morning\n")


def test_template_errors_are_clear(wshome):
    out = wshome.run("ask", "-t", "translate", "-v", "lang=German", input="x")
    assert out.returncode == 2
    assert "has no variable lang (its variables: language)" in out.stderr
    out = wshome.run("ask", "-t", "rag-answer", input="question?")
    assert out.returncode == 2 and "needs sources: give -v sources=…" in out.stderr
    out = wshome.run("ask", "-t", "no-such-template", input="x")
    assert out.returncode == 4 and "no template named 'no-such-template'" in out.stderr
    out = wshome.run("ask", "-t", "summary-bullets", input="")
    assert out.returncode == 2 and "needs input" in out.stderr
    out = wshome.run("ask", "-v", "a=b", "hi")
    assert out.returncode == 2 and "give a template with -t NAME" in out.stderr


def test_template_variable_from_a_file(wshome, provider, tmp_path):
    sources = tmp_path / "sources.txt"
    sources.write_text("[1] Ducks quack.\n[2] Geese honk.")
    out = wshome.run("ask", "-t", "rag-answer", "-v", f"sources=@{sources}", "What", "do", "geese", "do?")
    assert out.returncode == 0, out.stderr
    user = last_user(provider)
    assert "[1] Ducks quack.\n[2] Geese honk." in user and user.rstrip().endswith("Question: What do geese do?")


def test_summarize_a_url_into_a_chat(wshome, provider, site):
    out = wshome.run("summarize", site.url("/article"), "--type", "keypoints", "-c", "reading")
    assert out.returncode == 0, out.stderr
    user = last_user(provider)
    assert user.startswith("Extract the key points of the text below")
    assert 'title="Write-ahead logging in SQLite"' in user and "## Turning it on" in user
    chat = json.loads(wshome.run("chat", "show", "reading", "--json", check=True).stdout)
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant"]
    assert chat["messages"][1]["content"].startswith("You said: Extract the key points")


def test_summarize_stdin_and_a_pdf(wshome, provider, tmp_path):
    out = wshome.run("summarize", "--type", "tldr", input="A long story about a cat called Bob.")
    assert out.returncode == 0, out.stderr
    assert last_user(provider).startswith("Give the gist of the text below")
    assert "A long story about a cat called Bob." in last_user(provider)
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(make_pdf(["Abstract: we study ducks.", "Body text."]))
    out = wshome.run("summarize", f"{pdf}#pages=1", "--type", "paragraph")
    assert out.returncode == 0, out.stderr
    assert "Abstract: we study ducks." in last_user(provider) and "Body text." not in last_user(provider)


def test_template_commands(wshome, provider, tmp_path):
    listing = json.loads(wshome.run("template", "list", "--json", check=True).stdout)
    names = {t["name"]: t for t in listing}
    assert {"summary-bullets", "translate", "review", "rag-answer"} <= set(names)
    assert names["translate"]["variables"] == ["language"] and names["translate"]["origin"] == "builtin"

    out = wshome.run("template", "new", "shout", "-d", "Shout it", "-s", "You are loud.",
                     input="Repeat in capitals: {{input}}\n")
    assert out.returncode == 0, out.stderr
    path = wshome.config_dir / "templates" / "shout.md"
    assert path.exists()
    shown = json.loads(wshome.run("template", "show", "shout", "--json", check=True).stdout)
    assert shown["description"] == "Shout it" and shown["system"] == "You are loud." and shown["origin"] == "user"
    wshome.run("ask", "-t", "shout", "hello there", check=True)
    assert last_user(provider) == "Repeat in capitals: hello there\n"
    out = wshome.run("template", "new", "shout", input="again {{input}}")
    assert out.returncode == 8 and "already exists" in out.stderr

    # edit a built-in: it is copied to the user's directory, then the editor runs on the copy
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/Translate the text below/Render the text below/" "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    env = {**wshome.env, "EDITOR": str(editor), "VISUAL": str(editor)}
    old_env, wshome.env = wshome.env, env
    try:
        out = wshome.run("template", "edit", "translate")
    finally:
        wshome.env = old_env
    assert out.returncode == 0, out.stderr
    mine = json.loads(wshome.run("template", "show", "translate", "--json", check=True).stdout)
    assert mine["origin"] == "user" and mine["overrides_builtin"]
    assert mine["body"].startswith("Render the text below into {{language}}")
    wshome.run("template", "delete", "translate", "shout", check=True)
    back = json.loads(wshome.run("template", "show", "translate", "--json", check=True).stdout)
    assert back["origin"] == "builtin"


def test_inject_print_and_send(wshome, provider, tmp_path):
    note = tmp_path / "note.md"
    note.write_text("Meeting at noon.\n")
    out = wshome.run("inject", str(note), "--print")
    assert out.returncode == 0, out.stderr
    assert out.stdout == f'<document name="note.md">\nMeeting at noon.\n</document>\n'
    out = wshome.run("inject", str(note), "--send", "-c", "injected")
    assert out.returncode == 0, out.stderr
    assert last_user(provider) == f'<document name="note.md">\nMeeting at noon.\n</document>'


def test_inject_reaches_a_watching_repl(wshome, provider, tmp_path):
    wshome.run("ask", "-c", "live", "start", check=True)
    out = wshome.run("inject", str(tmp_path), "-c", "live")
    assert out.returncode == 2  # a directory
    note = tmp_path / "todo.md"
    note.write_text("- write tests\n")
    out = wshome.run("inject", str(note), "-c", "live")
    assert out.returncode == 8 and "no REPL is watching chat 'live'" in out.stderr

    # A watcher, as the REPL is: chat.watch over the real socket.
    paths = Paths(wshome.config_dir, wshome.data_dir, wshome.state_dir, wshome.socket)
    events: list[dict] = []
    ready = threading.Event()

    def watch() -> None:
        with Client(paths, autostart=False) as client:
            stream = client.stream("chat.watch", profile="default", name="live")
            for kind, data in stream:
                if kind == "event" and data.get("kind") == "inject":
                    events.append(data)
                    stream.cancel()
                    return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    for _ in range(100):  # until the daemon has the watcher registered
        out = wshome.run("inject", str(note), "-c", "live")
        if out.returncode == 0:
            break
        ready.wait(0.05)
    assert out.returncode == 0, out.stderr
    thread.join(10)
    assert events and events[0]["chat"] == "live" and events[0]["name"] == "todo.md"
    assert events[0]["text"] == f'<document name="todo.md">\n- write tests\n</document>'
