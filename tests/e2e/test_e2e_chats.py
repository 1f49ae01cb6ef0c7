"""`chatthy chat …` and `chatthy daemon …` end to end."""

from __future__ import annotations

import json
import os
import time

from tests.fakes import HttpError


def test_list_show_rename_delete(home, fake, daemon):
    home.run("ask", "-c", "notes", "Remember: my cat is called Bob", check=True)
    home.run("ask", "-c", "other", "x", check=True)

    chats = json.loads(home.run("chat", "list", "--json", check=True).stdout)
    assert [c["name"] for c in chats] == ["other", "notes"]  # most recent first
    notes = chats[1]
    assert notes["messages"] == 2
    assert notes["provider"] == "fake" and notes["model"] == "fake-model"
    assert notes["updated"].endswith("Z")

    plain = home.run("chat", "list", check=True).stdout.splitlines()
    assert plain[0].split("\t")[0] == "other" and plain[1].split("\t")[:2] == ["notes", "2"]

    shown = home.run("chat", "show", "notes", check=True).stdout
    assert "Remember: my cat is called Bob" in shown and "You said:" in shown

    home.run("chat", "rename", "notes", "cats", check=True)
    names = [c["name"] for c in json.loads(home.run("chat", "list", "--json").stdout)]
    assert sorted(names) == ["cats", "other"]
    assert json.loads(home.run("chat", "show", "cats", "--json").stdout)["messages"][0]["content"].startswith("Remember")

    out = home.run("chat", "rename", "cats", "other")
    assert out.returncode == 8 and "already exists" in out.stderr

    home.run("chat", "delete", "cats", check=True)
    assert [c["name"] for c in json.loads(home.run("chat", "list", "--json").stdout)] == ["other"]
    out = home.run("chat", "delete", "cats")
    assert out.returncode == 4 and "not found" in out.stderr


def test_chat_use_and_continue(home, fake, daemon):
    home.run("ask", "-c", "cur", "one", check=True)
    home.run("chat", "use", "cur", check=True)
    home.run("ask", "--continue", "two", check=True)
    msgs = json.loads(home.run("chat", "show", "--json").stdout)["messages"]
    assert [m["content"] for m in msgs if m["role"] == "user"] == ["one", "two"]
    out = home.run("chat", "use", "missing")
    assert out.returncode == 4


def test_continue_follows_the_chat_you_last_asked_in(home, fake, daemon):
    """`ask -C` after `ask`: the llm -c habit. Any ask makes its chat the current one."""
    home.run("ask", "first question", check=True)  # a new, auto-named chat
    home.run("ask", "-C", "the follow-up", check=True)
    chats = json.loads(home.run("chat", "list", "--json", check=True).stdout)
    assert len(chats) == 1 and chats[0]["messages"] == 4
    home.run("ask", "-c", "named", "in another chat", check=True)
    home.run("ask", "-C", "continued there", check=True)
    msgs = json.loads(home.run("chat", "show", "named", "--json").stdout)["messages"]
    assert [m["content"] for m in msgs if m["role"] == "user"] == ["in another chat", "continued there"]
    # A failed reply still leaves its chat current: the question is in it.
    fake.script(HttpError(500))
    assert home.run("ask", "-c", "broken", "this fails").returncode != 0
    home.run("ask", "-C", "again", check=True)
    msgs = json.loads(home.run("chat", "show", "broken", "--json").stdout)["messages"]
    assert [m["content"] for m in msgs if m["role"] == "user"] == ["this fails", "again"]


def test_an_ask_in_another_profile_leaves_the_current_chat_alone(home, fake, daemon):
    home.run("ask", "-c", "mine", "hello", check=True)
    home.run("profile", "create", "work", check=True)
    home.run("--profile", "work", "ask", "-c", "theirs", "hello", check=True)
    home.run("ask", "-C", "still mine", check=True)
    msgs = json.loads(home.run("chat", "show", "mine", "--json").stdout)["messages"]
    assert [m["content"] for m in msgs if m["role"] == "user"] == ["hello", "still mine"]


def test_continue_with_nothing_to_continue_says_how(home, fake, daemon):
    out = home.run("ask", "-C", "what?")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "ask something first" in out.stderr


def test_names_are_data(home, fake, daemon):
    for name in ["../../etc/passwd", "x'; drop table chats; --", "名前 with spaces"]:
        home.run("ask", "-c", name, "hi", check=True)
    names = {c["name"] for c in json.loads(home.run("chat", "list", "--json").stdout)}
    assert names == {"../../etc/passwd", "x'; drop table chats; --", "名前 with spaces"}
    assert not (home.root / "etc").exists()
    out = home.run("ask", "-c", "bad\x1b[2Jname", "hi")
    assert out.returncode == 2 and "control character" in out.stderr
    assert "\x1b" not in out.stderr


def test_daemon_status_and_stop(home, fake):
    out = home.run("daemon", "status")
    assert out.returncode == 3 and "not running" in out.stdout
    home.run("ask", "hi", check=True)  # autostarts
    status = json.loads(home.run("daemon", "status", "--json", check=True).stdout)
    assert status["running"] is True and status["pid"] == home.daemon_pid()
    assert status["socket"] == str(home.socket)
    pid = status["pid"]
    out = home.run("daemon", "stop")
    assert out.returncode == 0, out.stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("daemon still alive after stop")
    assert not home.socket.exists()
    assert home.run("daemon", "status").returncode == 3
    assert home.run("ask", "again").returncode == 0  # and autostart brings it back


def test_no_autostart_reports_unavailable(home, fake):
    out = home.run("--no-autostart", "chat", "list")
    assert out.returncode == 3
    assert "no daemon answers" in out.stderr


def test_two_clients_racing_start_one_daemon(home, fake):
    procs = [home.popen("ask", f"q{i}", stdout=-1, stderr=-1) for i in range(4)]
    results = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [r[1] for r in results]
    log = (home.state_dir / "daemon.log").read_text()
    assert log.count("daemon ready") == 1


def test_invalid_config_is_refused_with_file_and_line(home, fake):
    (home.config_dir / "config.toml").write_text('default_provider = "fake"\n[providers.fake]\nkind = "openai"\nmodel = 3\n')
    out = home.run("chat", "list")
    assert out.returncode == 10
    assert "config.toml:4" in out.stderr and "model" in out.stderr


def test_missing_config_is_created_commented(home, fake):
    (home.config_dir / "config.toml").unlink()
    out = home.run("chat", "list", "--json")
    assert out.returncode == 0, out.stderr
    text = (home.config_dir / "config.toml").read_text()
    assert "# [providers.openai]" in text


def test_second_daemon_refuses_to_start(home, fake, daemon):
    out = home.run("serve", "--no-log-stderr")
    assert out.returncode == 8
    assert "already running" in out.stderr


def test_daemon_sigterm_shuts_down_cleanly(home, fake, daemon):
    home.run("ask", "hi", check=True)
    daemon.terminate()
    assert daemon.wait(15) == 0
    assert not home.socket.exists()
    db_check = __import__("sqlite3").connect(home.database)
    try:
        assert db_check.execute("pragma integrity_check").fetchone()[0] == "ok"
    finally:
        db_check.close()
