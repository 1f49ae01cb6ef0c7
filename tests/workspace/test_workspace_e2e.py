"""`chatthy ws …` end to end: real command, real daemon, real files and web
pages, the fake provider seeing exactly what is sent."""

from __future__ import annotations

import json
from pathlib import Path

from tests.sources.pdf_maker import make_pdf
from tests.test_client_imports import forbidden, loaded_modules


def ws_json(home, *args):
    out = home.run("ws", "ls", "--json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def system_of(provider) -> str | None:
    first = provider.requests[-1].json["messages"][0]
    return first["content"] if first["role"] == "system" else None


def test_loaded_file_goes_between_system_prompt_and_history(wshome, provider, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# Pets\nThe cat is called Bob.\n")
    out = wshome.run("ws", "load", str(notes), "-c", "pets", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)[0]
    assert info["name"] == "notes.md" and info["scope"] == "chat" and info["tokens"] > 10

    wshome.run("ask", "-c", "pets", "-s", "Be brief.", "What is the cat called?", check=True)
    messages = provider.requests[-1].json["messages"]
    assert messages[0] == {"role": "system", "content": (
        f'Be brief.\n\n<document name="notes.md">\n# Pets\nThe cat is called Bob.\n</document>')}
    assert messages[1:] == [{"role": "user", "content": "What is the cat called?"}]

    wshome.run("ask", "-c", "pets", "And the dog?", check=True)
    messages = provider.requests[-1].json["messages"]
    assert "The cat is called Bob." in messages[0]["content"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]


def test_bench_keeps_the_file_but_does_not_send_it(wshome, provider, tmp_path):
    (tmp_path / "a.txt").write_text("alpha file\n")
    (tmp_path / "b.txt").write_text("bravo file\n")
    wshome.run("ws", "load", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "-c", "bench", check=True)
    wshome.run("ws", "bench", "a.txt", "-c", "bench", check=True)
    listing = ws_json(wshome, "-c", "bench")
    status = {f["name"]: f["status"] for f in listing["files"]}
    assert status == {"a.txt": "benched", "b.txt": "sent"}
    sent = next(f["tokens"] for f in listing["files"] if f["name"] == "b.txt")
    assert listing["tokens"] == sent

    wshome.run("ask", "-c", "bench", "go", check=True)
    system = system_of(provider)
    assert "bravo file" in system and "alpha file" not in system

    wshome.run("ws", "unbench", "a.txt", "-c", "bench", check=True)
    wshome.run("ask", "-c", "bench", "again", check=True)
    system = system_of(provider)
    assert system.index("alpha file") < system.index("bravo file")  # load order

    out = wshome.run("ws", "ls", "-c", "bench")
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert [r[0] for r in rows] == ["a.txt", "b.txt"] and all(r[2] == "sent" for r in rows)


def test_chat_tokens_names_each_file(wshome, tmp_path):
    (tmp_path / "one.md").write_text("first document " * 20)
    (tmp_path / "two.md").write_text("second document " * 40)
    wshome.run("ws", "load", str(tmp_path / "one.md"), str(tmp_path / "two.md"), "-c", "budget", check=True)
    wshome.run("ws", "bench", "one.md", "-c", "budget", check=True)
    listing = {f["name"]: f["tokens"] for f in ws_json(wshome, "-c", "budget")["files"]}
    out = wshome.run("chat", "tokens", "budget", "--json")
    assert out.returncode == 0, out.stderr
    parts = {row["part"]: row["tokens"] for row in json.loads(out.stdout)["parts"]}
    assert parts["workspace: two.md"] == listing["two.md"]
    assert "workspace: one.md" not in parts  # benched: not in the request


def test_profile_wide_files_reach_every_chat_and_chat_files_shadow_them(wshome, provider, tmp_path):
    style = tmp_path / "style.md"
    style.write_text("House style: short sentences.\n")
    wshome.run("ws", "load", str(style), "--profile-wide", check=True)
    try:
        _profile_wide_checks(wshome, provider, tmp_path)
    finally:  # the daemon is shared: leave no profile-wide file to other tests
        wshome.run("ws", "clear", "--profile-wide")


def _profile_wide_checks(wshome, provider, tmp_path):
    wshome.run("ask", "-c", "fresh-chat", "hello", check=True)
    assert "House style: short sentences." in system_of(provider)
    # a chat's own file of the same name wins
    local = tmp_path / "local" / "style.md"
    local.parent.mkdir()
    local.write_text("Chat style: long sentences.\n")
    wshome.run("ws", "load", str(local), "-c", "fresh-chat", check=True)
    wshome.run("ask", "-c", "fresh-chat", "again", check=True)
    system = system_of(provider)
    assert "Chat style" in system and "House style" not in system
    status = {(f["name"], f["scope"]): f["status"] for f in ws_json(wshome, "-c", "fresh-chat")["files"]}
    assert status == {("style.md", "chat"): "sent", ("style.md", "profile"): "shadowed"}
    # dropping the profile's file needs --profile-wide
    out = wshome.run("ws", "drop", "style.md", "-c", "other-chat-x")
    assert out.returncode == 4
    wshome.run("ask", "-c", "other-chat-x", "hi", check=True)
    out = wshome.run("ws", "drop", "style.md", "-c", "other-chat-x")
    assert out.returncode == 4 and "profile-wide workspace file: add --profile-wide" in out.stderr
    wshome.run("ws", "drop", "style.md", "--profile-wide", check=True)
    wshome.run("ask", "-c", "other-chat-x", "hi again", check=True)
    assert system_of(provider) is None


def test_url_is_fetched_by_the_daemon_as_markdown(wshome, provider, site):
    out = wshome.run("ws", "load", site.url("/article"), "-c", "web", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)[0]
    assert info["name"] == "127.0.0.1/article" and info["kind"] == "url"
    assert info["title"] == "Write-ahead logging in SQLite"
    wshome.run("ask", "-c", "web", "summarise", check=True)
    system = system_of(provider)
    assert 'title="Write-ahead logging in SQLite"' in system
    assert "## Turning it on" in system and "| WAL | no | db, -wal, -shm |" in system
    assert '```\nimport sqlite3\n' in system

    # the page changes; refresh fetches it again
    site.page("/article", "<html><body><article><h1>Rewritten</h1><p>" + "New text. " * 40
              + "</p></article></body></html>")
    try:
        out = wshome.run("ws", "refresh", "-c", "web")
        assert out.returncode == 0, out.stderr
        shown = wshome.run("ws", "show", "127.0.0.1/article", "-c", "web", check=True).stdout
        assert shown.startswith("# Rewritten") and "Turning it on" not in shown
    finally:
        from tests.sources.site import ARTICLE

        site.page("/article", ARTICLE)


def test_refresh_rereads_local_files(wshome, provider, tmp_path):
    path = tmp_path / "todo.txt"
    path.write_text("buy milk\n")
    wshome.run("ws", "load", str(path), "-c", "todo", check=True)
    path.write_text("buy bread\n")
    wshome.run("ask", "-c", "todo", "what to buy?", check=True)
    assert "buy milk" in system_of(provider)  # loaded content, not live disk
    out = wshome.run("ws", "refresh", "todo.txt", "-c", "todo")
    assert out.returncode == 0, out.stderr
    wshome.run("ask", "-c", "todo", "now?", check=True)
    assert "buy bread" in system_of(provider) and "buy milk" not in system_of(provider)
    path.unlink()
    out = wshome.run("ws", "refresh", "-c", "todo")
    assert out.returncode == 4
    assert "todo.txt: no such file" in out.stderr and "1 of 1 file could not be refreshed" in out.stderr


def test_pdf_with_pages_stdin_and_show(wshome, tmp_path):
    pdf = tmp_path / "birds.pdf"
    pdf.write_bytes(make_pdf(["Cover", "Ducks quack.", "Geese honk."], title="Birds"))
    out = wshome.run("ws", "load", f"{pdf}#pages=2-3", "-c", "pdf", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)[0]
    assert (info["name"], info["kind"], info["pages"], info["title"]) == ("birds.pdf", "pdf", "2-3", "Birds")
    assert wshome.run("ws", "show", "birds.pdf", "-c", "pdf").stdout == "Ducks quack.\n\nGeese honk.\n"
    sent = wshome.run("ws", "show", "birds.pdf", "-c", "pdf", "--as-sent").stdout
    assert sent.startswith(f'<document name="birds.pdf" title="Birds" pages="2-3">')

    out = wshome.run("ws", "load", "-", "--name", "diff", "-c", "pdf", input="--- a\n+++ b\n")
    assert out.returncode == 0, out.stderr
    shown = json.loads(wshome.run("ws", "show", "diff", "-c", "pdf", "--json").stdout)
    assert shown["kind"] == "stdin" and shown["content"] == "--- a\n+++ b\n" and shown["source"] == "-"


def test_a_big_file_loads(wshome, tmp_path):
    path = tmp_path / "big.log"
    path.write_text("log line with some words in it\n" * 20000)  # 620 KB: far over one small frame
    out = wshome.run("ws", "load", str(path), "-c", "big", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["chars"] == 620000


def test_clear_and_errors(wshome, tmp_path, site):
    binary = tmp_path / "photo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    out = wshome.run("ws", "load", str(binary), "-c", "errs")
    assert out.returncode == 2
    assert out.stderr.strip() == ("chatthy: error: photo.png is a binary file (a PNG image); "
                                  "chatthy reads text files and PDFs")
    out = wshome.run("ws", "load", str(tmp_path / "nope.md"), "-c", "errs")
    assert out.returncode == 4 and "no such file" in out.stderr
    huge = tmp_path / "huge.txt"
    huge.write_text("x" * (1024 * 1024 + 10))
    out = wshome.run("ws", "load", str(huge), "-c", "errs")
    assert out.returncode == 7 and "huge.txt is 1.0 MiB; the limit is 1.0 MiB" in out.stderr
    out = wshome.run("ws", "load", site.url("/missing"), "-c", "errs")
    assert out.returncode == 4 and "/missing: HTTP 404" in out.stderr
    out = wshome.run("ws", "load", site.url("/slow"), "-c", "errs")
    assert out.returncode == 5 and "timeout" in out.stderr
    # No -c and no current chat (an ask makes its chat current: forget it).
    (Path(wshome.env["CHATTHY_STATE_DIR"]) / "client.json").unlink(missing_ok=True)
    out = wshome.run("ws", "load", str(huge))
    assert out.returncode == 2 and "no chat" in out.stderr
    # none of that created the chat
    chats = json.loads(wshome.run("chat", "list", "--json", check=True).stdout)
    assert "errs" not in {c["name"] for c in chats}

    (tmp_path / "a.md").write_text("a")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "a.md").write_text("another a")
    wshome.run("ws", "load", str(tmp_path / "a.md"), "-c", "errs", check=True)
    out = wshome.run("ws", "load", str(tmp_path / "other" / "a.md"), "-c", "errs")
    assert out.returncode == 8 and "already has a file named 'a.md'" in out.stderr
    wshome.run("ws", "load", str(tmp_path / "other" / "a.md"), "-c", "errs", "--name", "a2.md", check=True)
    wshome.run("ws", "clear", "-c", "errs", check=True)
    assert ws_json(wshome, "-c", "errs")["files"] == []


def test_workspace_commands_stay_light(wshome, tmp_path):
    (tmp_path / "x.md").write_text("x")
    wshome.run("ws", "load", str(tmp_path / "x.md"), "-c", "light", check=True)
    for args in (["ws", "ls", "-c", "light"], ["ws", "load", str(tmp_path / "x.md"), "-c", "light"],
                 ["template", "list"]):
        modules = loaded_modules(wshome.env, *args)
        assert forbidden(modules) == [], args
