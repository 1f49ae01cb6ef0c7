"""The REPL driven through prompt-toolkit's pipe input, against the real daemon."""

from __future__ import annotations

import base64
import json
import os
import stat

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from chatthy.repl import commands
from tests.fakes import Text
from tests.repl.conftest import ALT_ENTER, CTRL_C, CTRL_D, CTRL_R, ENTER, ESC, F2, F3, unique

CODE_REPLY = "Sure:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nDone, with $x^2$.\n"


def chat_json(home, name: str) -> dict:
    return json.loads(home.run("chat", "show", name, "--json", check=True).stdout)


def last_prompt(fake) -> str:
    messages = [r for r in fake.requests if r.method == "POST"][-1].json["messages"]
    return [m for m in messages if m["role"] == "user"][-1]["content"]


def test_message_streams_renders_and_creates_the_chat(repl_driver, live_home, fake_clean):
    name = unique("basic")
    fake_clean.script(Text([CODE_REPLY[i:i + 5] for i in range(0, len(CODE_REPLY), 5)]))
    r = repl_driver(chat=name)
    r.line("show me code")
    r.wait_text("─ fake-model")
    assert "Done, with x²." in r.text  # LaTeX shown as Unicode …
    assert chat_json(live_home, name)["messages"][-1]["content"] == CODE_REPLY  # … stored as written
    assert "\x1b[38;5;81mdef" in r.out.text  # highlighted while it streamed
    assert "/8.2k" in r.text and "fake/fake-model" in r.text  # the toolbar's budget and model
    from chatthy.cli.state import ClientState

    assert ClientState.load(r.paths).chat == name  # `chatthy ask -C` continues this chat


def test_help_comes_from_the_command_table(repl_driver, fake_clean):
    r = repl_driver(new=True)
    r.line("/help")
    r.wait_text("Keys:")
    for name in commands.names():
        assert commands.lookup(name).synopsis in r.text
    r.line("/frobnicate")
    r.wait_text("unknown command /frobnicate")


def test_ctrl_c_at_an_empty_prompt_does_not_exit_and_ctrl_d_does(repl_driver):
    r = repl_driver(new=True)
    r.send(CTRL_C)
    r.wait_text("Ctrl-D or /quit to leave")
    r.send("some text" + CTRL_C)  # clears the line, stays
    r.line("/chat")
    r.wait_text("new chat (named by its first message)")
    r.send(CTRL_D)
    assert r.exited() and r.result == 0


def test_ctrl_c_cancels_the_reply_and_the_partial_text_is_kept(repl_driver, live_home, fake_clean):
    name = unique("cancel")
    fake_clean.script(Text(["word "] * 400, delay=0.03))
    r = repl_driver(chat=name)
    r.line("talk for a while")
    r.wait_text("word word word")
    r.send(CTRL_C)
    r.wait_text("cancelled: the partial reply is kept")
    reply = chat_json(live_home, name)["messages"][-1]
    assert reply["status"] == "cancelled" and reply["content"].startswith("word word")
    assert len(reply["content"]) < 400 * 5
    r.line("/chat")  # still running
    r.wait_text(f"chat {name}: 2 messages")


def test_command_mode_and_escaping_a_slash(repl_driver, live_home, fake_clean):
    name = unique("cmd")
    r = repl_driver(chat=name)
    r.send(F2)
    r.line("tokens")  # a command without its slash
    r.wait_text("kept for the reply")
    r.send(F2)
    r.line("//not a command")
    r.wait_text("You said: /not a command")


def test_multiline_sends_with_alt_enter(repl_driver, fake_clean):
    r = repl_driver(new=True)
    r.send(F3)
    r.send("line one" + ENTER + "line two" + ALT_ENTER)
    r.wait_text("You said: line one")
    assert last_prompt(fake_clean) == "line one\nline two"


def test_history_persists_privately_and_ctrl_r_finds_it(repl_driver, live_home, fake_clean):
    word = unique("walrus")
    r = repl_driver(new=True)
    r.line(f"remember the {word}")
    r.wait_text(f"You said: remember the {word}")
    r.stop()
    history = live_home.state_dir / "repl_history"
    assert word in history.read_text()
    assert stat.S_IMODE(os.stat(history).st_mode) == 0o600
    r2 = repl_driver(new=True)
    r2.send(CTRL_R + word)
    r2.send(ENTER)  # accept the search
    r2.send(ENTER)  # send it
    r2.wait_text("─ fake-model", after=r2.text.index("/help for commands"))
    assert last_prompt(fake_clean) == f"remember the {word}"


def test_copy_sends_osc52_with_the_code_block(repl_driver, fake_clean):
    fake_clean.script(Text([CODE_REPLY]))
    r = repl_driver(chat=unique("copy"))
    r.line("code please")
    r.wait_text("─ fake-model")
    r.line("/copy 1")
    r.wait_text("copied code block 1")
    code = base64.b64encode(b"def add(a, b):\n    return a + b\n").decode()
    assert f"\x1b]52;c;{code}\x07" in r.out.text
    r.line("/copy")
    r.wait_text("copied the last reply")
    assert f"\x1b]52;c;{base64.b64encode(CODE_REPLY.encode()).decode()}\x07" in r.out.text
    r.line("/copy 7")
    r.wait_text("the last reply has 1 code block")


def test_the_models_escape_sequences_never_reach_the_terminal(repl_driver, fake_clean):
    fake_clean.script(Text(["safe \x1b[2J\x1b]52;c;ZXZpbA==\x07 end\n"]))
    r = repl_driver(chat=unique("evil"))
    r.line("be evil")
    r.wait_text("─ fake-model")
    raw = r.out.text
    assert "\x1b]52;c;ZXZpbA==" not in raw and "\x1b[2J" not in raw
    assert "safe ^[[2J^[]52;c;ZXZpbA==^G end" in r.text


def test_settings_chosen_before_the_first_message_go_with_it(repl_driver, live_home, fake_clean):
    name = unique("pending")
    r = repl_driver(chat=name)
    r.line("/provider fakeant")
    r.wait_text("provider fakeant (for this new chat")
    r.line("/model claude-other")
    r.wait_text("model claude-other")
    r.line("/persona concise")
    r.wait_text("personality concise")
    r.line("hello")
    r.wait_text("You said: hello")
    info = json.loads(live_home.run("chat", "list", "--json").stdout)
    chat = next(c for c in info if c["name"] == name)
    assert (chat["provider"], chat["model"], chat["personality"]) == ("fakeant", "claude-other", "concise")
    # the last completion request (the REPL may also list models in the background: GETs)
    posts = [r for r in fake_clean.requests if r.method == "POST"]
    assert posts[-1].json["model"] == "claude-other"


def test_settings_of_an_existing_chat_change_it_for_good(repl_driver, live_home, fake_clean):
    name = unique("update")
    live_home.run("ask", "-c", name, "first", check=True)
    r = repl_driver(chat=name)
    r.line("/model fake-2")
    r.wait_text(f"model fake-2 for chat {name}")
    r.wait_text("fake/fake-2")  # the toolbar
    r.line("again")
    r.wait_text("You said: again")
    assert [r for r in fake_clean.requests if r.method == "POST"][-1].json["model"] == "fake-2"
    r.line("/model")
    r.wait_text("models of fake")
    r.line("/provider nosuch")
    r.wait_text("error:")


def test_entering_a_chat_shows_its_last_messages(repl_driver, live_home, fake_clean):
    name = unique("history")
    for q in ("q-one", "q-two", "q-three"):
        live_home.run("ask", "-c", name, q, check=True)
    r = repl_driver(new=True)
    r.line(f"/chat {name}")
    r.wait_text("You said: q-three")
    tail = r.text[r.text.index(f"/chat {name}"):]
    assert "q-two" in tail and "q-one" not in tail and "2 earlier messages" in tail
    r.line("/show 0")
    r.wait_text("You said: q-one", after=len(r.text) - 10)


def test_fork_rename_undo_retry_and_tokens(repl_driver, live_home, fake_clean):
    name, forked, renamed = unique("edit"), unique("fork"), unique("renamed")
    r = repl_driver(chat=name)
    r.line("one")
    r.wait_text("You said: one")
    r.line(f"/fork {forked}")
    r.wait_text(f"you are now in {forked}")
    r.line(f"/rename {renamed}")
    r.wait_text(f"renamed {forked} to {renamed}")
    names = [c["name"] for c in json.loads(live_home.run("chat", "list", "--json").stdout)]
    assert name in names and renamed in names and forked not in names
    fake_clean.script(Text(["a fresh answer"]))
    r.line("/retry")
    r.wait_text("a fresh answer")
    assert [m["content"] for m in chat_json(live_home, renamed)["messages"]] == ["one", "a fresh answer"]
    assert "changed elsewhere" not in r.text  # our own retry is not news
    r.line("/undo")
    r.wait_text("dropped the last turn (2 messages)")
    assert chat_json(live_home, renamed)["messages"] == []
    r.line("/tokens")
    r.wait_text("kept for the reply")


def test_edit_replaces_the_last_question(repl_driver, live_home, fake_clean):
    name = unique("editq")
    r = repl_driver(chat=name)
    r.line("the original question")
    r.wait_text("You said: the original question")
    r.line("/edit")
    r.wait_text("edit › the original question")
    r.send("\x15")  # Ctrl-U: clear the line (emacs)
    r.line("a better question")
    r.wait_text("You said: a better question")
    contents = [m["content"] for m in chat_json(live_home, name)["messages"]]
    assert contents == ["a better question", "You said: a better question"]


def test_vi_mode(repl_driver, fake_clean):
    r = repl_driver(new=True, vi=True)
    r.send("hello" + ESC)
    r.send("0iX")
    r.send(ENTER)
    r.wait_text("You said: Xhello")


def test_ctrl_x_ctrl_e_edits_in_the_editor(repl_driver, live_home, fake_clean, monkeypatch, tmp_path):
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'written in the editor' > \"$1\"\n")
    editor.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(editor))
    r = repl_driver(new=True)
    r.send("draft\x18\x05")
    r.wait_text("You said: written in the editor")


def test_completion(repl_driver, live_home, fake_clean, tmp_path):
    name = unique("compl")
    live_home.run("ask", "-c", name, "x", check=True)
    (tmp_path / "notes.txt").write_text("n")
    r = repl_driver(new=True)
    r.line("/chats")  # refreshes the names
    r.wait_text(name)
    completer = r.repl.session.completer

    def complete(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text, len(text)), CompleteEvent())]

    assert complete("/ch") == ["chat", "chats"]
    assert name in complete("/chat " + name[:6])
    assert "concise" in complete("/persona con")
    assert "fakeant" in complete("/provider fa")
    assert "fake-model" in complete("/model fake-m")
    assert "monokai" in complete("/style mono")
    assert complete("/latex o") == ["on", "off"]
    assert complete(f"/save {tmp_path}/no") == ["tes.txt"]
    assert complete(f"look at {tmp_path}/no") == ["tes.txt"]
    assert complete("plain words") == []


def test_no_color_means_no_colour_in_replies(repl_driver, fake_clean):
    fake_clean.script(Text([CODE_REPLY]))
    r = repl_driver(new=True, color=False)
    r.line("code")
    r.wait_text("─ fake-model")
    raw = r.out.text
    line = raw[raw.index("def add"):raw.index("return a + b")]
    assert "\x1b[38" not in line
