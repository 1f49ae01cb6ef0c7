"""Editing chats: retry, edit, undo, rm-message, fork, ask --edit-last — checked by
the exact messages the provider receives next."""

from __future__ import annotations

import json
import sys
import threading
import time

from chatthy.client import Client
from chatthy.paths import Paths
from tests.fakes.replies import Text


def messages(home, chat) -> list[dict]:
    return json.loads(home.run("chat", "show", chat, "--json", check=True).stdout)["messages"]


def contents(home, chat) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in messages(home, chat)]


def start_chat(home, fake, chat, *turns):
    """Make ``chat`` from (question, answer) pairs, answers scripted."""
    for question, answer in turns:
        fake.script(Text([answer]))
        home.run("ask", "-c", chat, question, check=True)


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


def test_retry_regenerates_the_last_answer(mhome, fresh):
    start_chat(mhome, fresh, "rt", ("q1", "a1"), ("q2", "a2"))
    ids_before = [m["id"] for m in messages(mhome, "rt")]
    fresh.clear()
    fresh.script(Text(["a2, once more"]))
    out = mhome.run("chat", "retry", "rt")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "a2, once more\n"
    assert fresh.requests[-1].json["messages"] == [user("q1"), assistant("a1"), user("q2")]
    after = messages(mhome, "rt")
    assert [(m["role"], m["content"]) for m in after] == [
        ("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2, once more")]
    assert [m["id"] for m in after[:3]] == ids_before[:3]
    # with another model, this once
    mhome.run("chat", "retry", "rt", "-m", "other-model", check=True)
    assert fresh.requests[-1].json["model"] == "other-model"
    assert messages(mhome, "rt")[-1]["model"] == "other-model"
    mhome.run("ask", "-c", "rt", "q3", check=True)
    assert fresh.requests[-1].json["model"] == "fake-model"


def test_editing_a_question_regenerates_from_there(mhome, fresh):
    start_chat(mhome, fresh, "eq", ("q1", "a1"), ("q2", "a2"))
    first = messages(mhome, "eq")[0]
    fresh.clear()
    fresh.script(Text(["new a1"]))
    out = mhome.run("chat", "edit", "eq", "--message", str(first["id"]), "--text", "q1, better")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "new a1\n"
    assert fresh.requests[-1].json["messages"] == [user("q1, better")]
    after = messages(mhome, "eq")
    assert [(m["role"], m["content"]) for m in after] == [("user", "q1, better"), ("assistant", "new a1")]
    assert after[0]["id"] == first["id"] and after[0]["edited"] and not first["edited"]


def test_editing_in_the_editor_defaults_to_the_last_question(mhome, fresh):
    start_chat(mhome, fresh, "ee", ("q1", "a1"), ("q2", "a2"))
    script = mhome.root / "editor.py"
    script.write_text("import sys\nopen(sys.argv[1], 'w').write('q2 from the editor\\n')\n")
    fresh.clear()
    fresh.script(Text(["a2'"]))
    saved = mhome.env
    mhome.env = {**saved, "EDITOR": f"{sys.executable} {script}"}
    try:
        out = mhome.run("chat", "edit", "ee")
    finally:
        mhome.env = saved
    assert out.returncode == 0, out.stderr
    assert fresh.requests[-1].json["messages"] == [user("q1"), assistant("a1"), user("q2 from the editor\n")]
    assert contents(mhome, "ee")[-2:] == [("user", "q2 from the editor\n"), ("assistant", "a2'")]


def test_editing_an_answer_just_replaces_it(mhome, fresh):
    start_chat(mhome, fresh, "ea", ("q1", "a1"))
    answer = messages(mhome, "ea")[1]
    fresh.clear()
    out = mhome.run("chat", "edit", "ea", "--message", str(answer["id"]), "--text", "a1, corrected")
    assert out.returncode == 0, out.stderr
    assert fresh.requests == []  # nothing regenerated
    mhome.run("ask", "-c", "ea", "q2", check=True)
    assert fresh.requests[-1].json["messages"] == [user("q1"), assistant("a1, corrected"), user("q2")]
    out = mhome.run("chat", "edit", "ea", "--message", str(answer["id"]), "--text", "  ")
    assert out.returncode == 2 and "rm-message" in out.stderr


def test_undo_drops_the_last_turn(mhome, fresh):
    start_chat(mhome, fresh, "un", ("q1", "a1"), ("q2", "a2"))
    out = mhome.run("chat", "undo", "un", "--json")
    assert out.returncode == 0, out.stderr
    assert [(m["role"], m["content"]) for m in json.loads(out.stdout)] == [("user", "q2"), ("assistant", "a2")]
    mhome.run("ask", "-c", "un", "q2'", check=True)
    assert fresh.requests[-1].json["messages"] == [user("q1"), assistant("a1"), user("q2'")]
    for _ in range(2):
        mhome.run("chat", "undo", "un", check=True)
    out = mhome.run("chat", "undo", "un")
    assert out.returncode == 8 and "nothing to undo" in out.stderr


def test_rm_message_removes_one_message(mhome, fresh):
    start_chat(mhome, fresh, "rm", ("q1", "a1"), ("q2", "a2"))
    start_chat(mhome, fresh, "rm-other", ("x", "y"))
    first_answer = messages(mhome, "rm")[1]["id"]
    mhome.run("chat", "rm-message", "-c", "rm", str(first_answer), check=True)
    mhome.run("ask", "-c", "rm", "q3", check=True)
    assert fresh.requests[-1].json["messages"] == [user("q1"), user("q2"), assistant("a2"), user("q3")]
    out = mhome.run("chat", "rm-message", "-c", "rm", str(first_answer))
    assert out.returncode == 4 and f"#{first_answer}" in out.stderr
    foreign = messages(mhome, "rm-other")[0]["id"]
    out = mhome.run("chat", "rm-message", "-c", "rm", str(foreign))  # ids of another chat are not this chat's
    assert out.returncode == 4
    assert len(messages(mhome, "rm-other")) == 2


def test_fork_branches_a_chat(mhome, fresh):
    start_chat(mhome, fresh, "fk", ("q1", "a1"), ("q2", "a2"))
    original = messages(mhome, "fk")
    out = mhome.run("chat", "fork", "fk", "fk-branch", "--at", str(original[1]["id"]))
    assert out.returncode == 0, out.stderr
    fresh.script(Text(["b"]))
    mhome.run("ask", "-c", "fk-branch", "another way", check=True)
    assert fresh.requests[-1].json["messages"] == [user("q1"), assistant("a1"), user("another way")]
    assert messages(mhome, "fk") == original  # the source is untouched
    copied = messages(mhome, "fk-branch")[:2]
    strip = lambda m: {k: v for k, v in m.items() if k not in ("id", "chat_id")}  # noqa: E731
    assert [strip(m) for m in copied] == [strip(m) for m in original[:2]]  # usage, times, status kept
    mhome.run("chat", "fork", "fk", "fk-all", check=True)
    assert contents(mhome, "fk-all") == contents(mhome, "fk")
    assert mhome.run("chat", "fork", "fk", "fk-all").returncode == 8


def test_ask_edit_last_replaces_the_last_question(mhome, fresh):
    start_chat(mhome, fresh, "el", ("q1", "a1"), ("q2", "a2"))
    fresh.script(Text(["a2 for the better question"]))
    out = mhome.run("ask", "-c", "el", "--edit-last", "q2, better")
    assert out.returncode == 0, out.stderr
    assert fresh.requests[-1].json["messages"] == [user("q1"), assistant("a1"), user("q2, better")]
    assert contents(mhome, "el") == [("user", "q1"), ("assistant", "a1"), ("user", "q2, better"),
                                     ("assistant", "a2 for the better question")]
    out = mhome.run("ask", "--edit-last", "no chat")
    assert out.returncode == 2


def test_rewrites_wait_for_a_reply_in_progress_and_watchers_hear_of_them(mhome, fresh):
    start_chat(mhome, fresh, "busy", ("q1", "a1"))
    fresh.script(Text([f"w{i} " for i in range(40)], delay=0.05))
    proc = mhome.popen("ask", "-c", "busy", "slow", stdout=-1, stderr=-1)
    assert proc.stdout.read(2) == b"w0"
    for args in (["chat", "undo", "busy"], ["chat", "retry", "busy"], ["chat", "rm-message", "-c", "busy", "1"]):
        out = mhome.run(*args)
        assert out.returncode == 8 and "already generating" in out.stderr, args
    proc.communicate(timeout=30)
    assert proc.returncode == 0

    paths = Paths(mhome.config_dir, mhome.data_dir, mhome.state_dir, mhome.socket)
    events: list[dict] = []
    watcher = Client(paths, autostart=False)
    stream = watcher.stream("chat.watch", name="busy")

    def watch():
        try:
            for kind, data in stream:
                events.append(data)
                if data.get("kind") == "history_changed":
                    return
        except Exception:  # the connection closes at the end of the test
            pass

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    time.sleep(0.3)  # the watch is registered
    mhome.run("chat", "undo", "busy", check=True)
    thread.join(10)
    watcher.close()
    changed = [e for e in events if e.get("kind") == "history_changed"]
    assert len(changed) == 1 and changed[0]["chat"] == "busy" and len(changed[0]["removed"]) == 2
