"""`chatthy ask` end to end: real command, real daemon, fake provider over HTTP."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time

import pytest

from tests.fakes.replies import HttpError, StreamError, Text


def chat_json(home, name):
    out = home.run("chat", "show", name, "--json", check=True)
    return json.loads(out.stdout)


def test_ask_from_stdin_autostarts_the_daemon(home, fake):
    assert not home.socket.exists()
    out = home.run("ask", input="Explain SQLite WAL in two sentences")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "You said: Explain SQLite WAL in two sentences\n"
    assert home.socket.exists() and home.daemon_pid()
    body = fake.requests[-1].json
    assert body["stream"] is True
    assert body["model"] == "fake-model"
    assert body["messages"] == [{"role": "user", "content": "Explain SQLite WAL in two sentences"}]


def test_words_then_stdin_are_combined(home, fake, daemon):
    out = home.run("ask", "Summarise", "this:", input="line one\nline two\n")
    assert out.returncode == 0, out.stderr
    sent = fake.requests[-1].json["messages"][-1]["content"]
    assert sent == "Summarise this:\n\nline one\nline two\n"


def test_streamed_chunks_arrive_in_order(home, fake, daemon):
    fake.script(Text(["alpha ", "beta ", "gamma"], delay=0.01))
    out = home.run("ask", "go")
    assert out.stdout == "alpha beta gamma\n"


def test_named_chat_sends_history(home, fake, daemon):
    assert home.run("ask", "-c", "notes", "Remember: my cat is called Bob").returncode == 0
    fake.script(Text(["Bob."]))
    out = home.run("ask", "-c", "notes", "What is my cat called?")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Bob.\n"
    assert fake.requests[-1].json["messages"] == [
        {"role": "user", "content": "Remember: my cat is called Bob"},
        {"role": "assistant", "content": "You said: Remember: my cat is called Bob"},
        {"role": "user", "content": "What is my cat called?"},
    ]
    chat = chat_json(home, "notes")
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant", "user", "assistant"]
    assert all(m["status"] == "complete" for m in chat["messages"])
    assert chat["messages"][-1]["model"] == "fake-model"
    assert chat["messages"][0]["tokens"] > 0


def test_ask_without_chat_makes_a_new_named_chat_each_time(home, fake, daemon):
    home.run("ask", "first question", check=True)
    home.run("ask", "second question", check=True)
    chats = json.loads(home.run("chat", "list", "--json", check=True).stdout)
    assert len(chats) == 2
    assert any(c["name"].endswith("-first-question") for c in chats)
    # no history crosses between them
    assert fake.requests[-1].json["messages"] == [{"role": "user", "content": "second question"}]


def test_the_same_question_many_times_a_second_gets_distinct_names(home, fake, daemon):
    """A shell loop asking one thing: base, base-2, base-3… (one lookup, not one per suffix)."""
    import threading

    from chatthy.client import Client
    from chatthy.paths import Paths

    paths = Paths(home.config_dir, home.data_dir, home.state_dir, home.socket)
    names: list[str] = []

    def ask() -> None:
        with Client(paths, autostart=False) as client:
            stream = client.stream("ask", prompt="same thing")
            for _ in stream:
                pass
            names.append(stream.start["chat"])

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(names) == len(set(names)) == 12
    for name in names:  # all made within a second or two: one base per second, numbered within it
        base = name.split("-same-thing")[0] + "-same-thing"
        suffix = name[len(base):]
        assert suffix == "" or (suffix[0] == "-" and suffix[1:].isdigit() and int(suffix[1:]) >= 2), name


def test_new_refuses_an_existing_chat(home, fake, daemon):
    home.run("ask", "-c", "n", "hi", check=True)
    out = home.run("ask", "-c", "n", "-n", "again")
    assert out.returncode == 8
    assert "already exists" in out.stderr


def test_anthropic_provider_and_system_prompt(home, fake, daemon):
    fake.script(Text(["Hello ", "from ", "Claude"]))
    out = home.run("ask", "-p", "fakeant", "-s", "Be brief.", "hi")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Hello from Claude\n"
    req = fake.requests[-1]
    assert req.path == "/v1/messages"
    assert req.json["system"] in ("Be brief.", [{"type": "text", "text": "Be brief."}])
    assert req.json["model"] == "claude-fake"
    assert req.json["max_tokens"] == 512


def test_model_override(home, fake, daemon):
    home.run("ask", "-m", "other-model", "hi", check=True)
    assert fake.requests[-1].json["model"] == "other-model"


def test_provider_error_is_one_clear_line_and_keeps_the_question(home, fake, daemon):
    fake.script(HttpError(500, message="the fake is on fire"))
    out = home.run("ask", "-c", "e", "hello?")
    assert out.returncode == 5
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "the fake is on fire" in lines[0] and lines[0].startswith("chatthy: error:")
    msgs = chat_json(home, "e")["messages"]
    assert msgs[0]["content"] == "hello?" and msgs[0]["status"] == "complete"
    assert msgs[1]["status"] == "error" and "on fire" in msgs[1]["error"]
    # the chat goes on: the next ask works and replays the question
    fake.script(Text(["recovered"]))
    assert home.run("ask", "-c", "e", "again").stdout == "recovered\n"


def test_error_inside_the_stream_keeps_the_partial_text(home, fake, daemon):
    fake.script(StreamError(after_chunks=2, message="overloaded mid-way"))
    out = home.run("ask", "-c", "s", "go")
    assert out.returncode == 5
    assert "overloaded mid-way" in out.stderr
    reply = chat_json(home, "s")["messages"][1]
    assert reply["status"] == "error" and reply["content"] == "tok tok "


def test_unknown_provider_and_chat_give_clear_errors(home, fake, daemon):
    out = home.run("ask", "-p", "nope", "hi")
    assert out.returncode == 4
    assert "unknown provider 'nope'" in out.stderr and "fake" in out.stderr
    out = home.run("chat", "show", "ghost")
    assert out.returncode == 4
    assert "chat 'ghost' not found" in out.stderr


def test_empty_input_is_refused(home, fake, daemon):
    out = home.run("ask", input="   \n")
    assert out.returncode == 2
    assert "nothing to ask" in out.stderr


def test_non_utf8_stdin_is_refused(home, fake, daemon):
    out = home.run("ask", input=b"\xff\xfe bad")
    assert out.returncode == 2
    assert "not UTF-8" in out.stderr


def test_missing_api_key_names_the_variable(home, fake, daemon):
    home.env.pop("FAKE_API_KEY")
    home.stop_daemon()  # the daemon reads the environment it was started with
    daemon.wait(10)
    out = home.run("ask", "-c", "k", "hi")
    assert out.returncode == 10, out.stderr
    assert "FAKE_API_KEY" in out.stderr


def test_killed_client_does_not_stop_the_reply(home, fake, daemon):
    chunks = [f"part{i} " for i in range(30)]
    fake.script(Text(chunks, delay=0.05))
    proc = home.popen("ask", "-c", "kill", "long one", stdout=-1, stderr=-1)
    first = proc.stdout.read(5)  # the reply has started streaming
    assert first == b"part0"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        reply = chat_json(home, "kill")["messages"][1]
        if reply["status"] == "complete":
            break
        time.sleep(0.1)
    assert reply["status"] == "complete"
    assert reply["content"] == "".join(chunks)


def test_ctrl_c_cancels_and_keeps_the_partial_reply(home, fake, daemon):
    fake.script(Text([f"w{i} " for i in range(200)], delay=0.05))
    proc = home.popen("ask", "-c", "cc", "long", stdout=-1, stderr=-1)
    assert proc.stdout.read(2) == b"w0"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    reply = chat_json(home, "cc")["messages"][1]
    assert reply["status"] == "cancelled"
    assert reply["content"].startswith("w0 ") and len(reply["content"]) < len("".join(f"w{i} " for i in range(200)))


def test_partial_reply_is_persisted_while_streaming(home, fake, daemon):
    fake.script(Text([f"x{i} " for i in range(60)], delay=0.05))
    proc = home.popen("ask", "-c", "p", "stream", stdout=-1, stderr=-1)
    proc.stdout.read(2)
    time.sleep(0.8)  # several flush intervals
    db = sqlite3.connect(f"file:{home.database}?mode=ro", uri=True)
    try:
        status, content = db.execute(
            "select status, content from messages where role='assistant' order by id desc limit 1").fetchone()
    finally:
        db.close()
    assert status == "partial" and content.startswith("x0 x1")
    proc.communicate(timeout=15)
    assert proc.returncode == 0


def test_stdout_not_a_tty_passes_text_through(home, fake, daemon):
    fake.script(Text(["a\x1b[31mred", "\n"]))
    out = home.run("ask", "x")
    assert out.stdout == "a\x1b[31mred\n"  # pipelines get the model's bytes untouched


def test_a_large_prompt_on_stdin_is_accepted(home, fake, daemon):
    """Bigger than the daemon's pre-auth frame cap: the client proves itself first."""
    text = ("lorem ipsum dolor sit amet " * 5000)[:120_000]
    out = home.run("ask", "-c", "big", input=text)
    # The frame got through; the model's 8k window is what refuses it, naming the parts.
    assert out.returncode == 9, out.stderr
    assert "request does not fit: input" in out.stderr and "budget 7,680" in out.stderr
    assert home.run("chat", "show", "big").returncode == 4  # nothing half-written


def test_options_reach_the_api_for_this_request_only(home, fake, daemon):
    out = home.run("ask", "-c", "opts", "-o", "temperature=0.2", "-o", "top_k=40", "-o", 'stop=["END"]',
                   "-o", "seed=7", "-o", "mirostat_mode=off", "hi")
    assert out.returncode == 0, out.stderr
    body = fake.requests[-1].json
    assert (body["temperature"], body["top_k"], body["stop"], body["seed"]) == (0.2, 40, ["END"], 7)
    assert body["mirostat_mode"] == "off"  # not JSON: the text as given
    assert body["model"] == "fake-model" and body["stream"] is True
    reply = chat_json(home, "opts")["messages"][-1]
    assert reply["meta"]["options"]["temperature"] == 0.2  # what the answer was made with
    home.run("ask", "-c", "opts", "again", check=True)
    assert "temperature" not in fake.requests[-1].json  # for that request only
    home.run("chat", "retry", "opts", "-o", "temperature=1.5", check=True)  # "answer that again, hotter"
    assert fake.requests[-1].json["temperature"] == 1.5
    assert chat_json(home, "opts")["messages"][-1]["meta"]["options"] == {"temperature": 1.5}
    out = home.run("chat", "retry", "opts", "-o", "messages=[]")
    assert out.returncode == 2 and "cannot be set with -o" in out.stderr
    home.run("ask", "-p", "fakeant", "-c", "opts-ant", "-o", "temperature=0.5", "-o", "top_k=3", "hi", check=True)
    body = fake.requests[-1].json
    assert (body["temperature"], body["top_k"], body["model"]) == (0.5, 3, "claude-fake")


def test_options_that_chatthy_sets_itself_are_refused_with_the_way(home, fake, daemon):
    cases = {
        ("-o", "model=gpt-5"): "option 'model' cannot be set with -o: use -m/--model",
        ("-o", "max_tokens=10"): "option 'max_tokens' cannot be set with -o: use max_tokens under [providers.NAME]",
        ("-o", "system=be terse"): "use -s/--system or a personality",
        ("-o", "temperature"): "-o 'temperature': expected KEY=VALUE",
        ("-o", "bad key=1"): "option 'bad key' is not a parameter name",
    }
    for args, message in cases.items():
        out = home.run("ask", "-c", "refused", *args, "hi")
        assert out.returncode == 2, (args, out.stderr)
        assert message in out.stderr and out.stderr.count("\n") == 1, (args, out.stderr)
    assert home.run("chat", "show", "refused").returncode == 4  # nothing was written


def test_a_value_json_cannot_carry_is_a_clear_refusal_not_a_crash(home, fake, daemon):
    from chatthy.client import Client
    from chatthy.errors import BadRequest
    from chatthy.paths import Paths

    out = home.run("ask", "-c", "nan", "-o", "x=NaN", "hi")  # not a JSON number: sent as the text
    assert out.returncode == 0, out.stderr
    assert fake.requests[-1].json["x"] == "NaN"
    with Client(Paths(home.config_dir, home.data_dir, home.state_dir, home.socket), autostart=False) as client:
        with pytest.raises(BadRequest, match="cannot send the request: Out of range float values"):
            client.call("chat.list", profile=float("nan"))
        assert client.call("chat.list")  # the connection is still good: nothing half-sent
