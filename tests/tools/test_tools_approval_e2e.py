"""Tools with ``confirm = true``: the daemon asks the attached client; no answer means no."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time

from tests.conftest import CHATTHY
from tests.fakes.replies import Text, ToolCalls
from tests.tools.conftest import client_for, completions

STAMP = ToolCalls([("s1", "stamp", {"text": "hello"})])


def last_tool_result(provider) -> str:
    return [m for m in completions(provider)[-1].json["messages"] if m.get("role") == "tool"][-1]["content"]


def calls(home, chat) -> list[dict]:
    return json.loads(home.run("tools", "calls", chat, "--json", check=True).stdout)


def test_approved_with_yes(thome, provider):
    provider.script(STAMP, Text(["Stamped."]))
    out = thome.run("ask", "-c", "appr-yes", "-T", "stamp", "-y", "stamp hello")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Stamped.\n"
    assert last_tool_result(provider) == "STAMPED:hello\n"
    assert [c["status"] for c in calls(thome, "appr-yes")] == ["ok"]


def test_refused_when_the_client_cannot_ask(thome, provider):
    provider.script(STAMP, Text(["Not stamped."]))
    out = thome.run("ask", "-c", "appr-no", "-T", "stamp", "stamp hello")
    assert out.returncode == 0, out.stderr
    assert last_tool_result(provider) == "not run: the user said no"
    call = calls(thome, "appr-no")[0]
    assert call["status"] == "refused" and call["result"] == "not run: the user said no"


def test_asked_on_the_terminal(thome, provider):
    """A real terminal: the question is put to the user, who types y."""
    provider.script(STAMP, Text(["Stamped on a terminal."]))
    master, slave = os.openpty()
    proc = subprocess.Popen([CHATTHY, "ask", "-c", "appr-tty", "-T", "stamp", "stamp it"], env=thome.env,
                            stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 20
        answered = False
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and b"Run it?" in seen:
                os.write(master, b"y\n")
                answered = True
            if proc.poll() is not None and not ready:
                break
        proc.wait(10)
    finally:
        os.close(master)
    text = seen.decode("utf-8", "replace")
    assert "The model wants to run: stamp(text=\"hello\")" in text
    assert proc.returncode == 0, text
    assert "Stamped on a terminal." in text
    assert last_tool_result(provider) == "STAMPED:hello\n"


def _ask_and_wait_for_approval(client, chat: str):
    stream = client.stream("ask", chat=chat, prompt="stamp hello", tools=["stamp"])
    frames = iter(stream)
    for kind, data in frames:
        if kind == "event" and data.get("kind") == "approval":
            return stream, frames, data
    raise AssertionError("no approval event")


def _wait_for_status(home, chat, status, timeout=15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = calls(home, chat)
        if found and found[0]["status"] == status:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"tool call in {chat} never became {status}: {found}")


def test_no_client_means_no(thome, provider):
    """The client that asked goes away while the daemon waits: the answer is no, the reply goes on."""
    provider.script(STAMP, Text(["Without the stamp."]))
    client = client_for(thome)
    _, _, approval = _ask_and_wait_for_approval(client, "appr-gone")
    assert approval["tool"] == "stamp" and approval["arguments"] == {"text": "hello"}
    client.close()
    call = _wait_for_status(thome, "appr-gone", "refused")
    assert call["result"] == "not run: the client went away before answering"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        reply = json.loads(thome.run("chat", "show", "appr-gone", "--json", check=True).stdout)["messages"][1]
        if reply["status"] == "complete":
            break
        time.sleep(0.1)
    assert reply["content"] == "Without the stamp."


def test_no_answer_within_the_timeout_means_no(thome, provider):
    provider.script(STAMP, Text(["Timed out."]))
    client = client_for(thome)
    try:
        stream, frames, approval = _ask_and_wait_for_approval(client, "appr-slow")
        started = time.monotonic()
        events = [data for kind, data in frames if kind == "event"]
        waited = time.monotonic() - started
    finally:
        client.close()
    assert 2.5 < waited < 10  # approval_timeout = 3
    result = next(e for e in events if e.get("kind") == "approval_result")
    assert result["answer"] == "no" and result["reason"] == "no answer within 3 s"
    assert stream.text == "Timed out."
    assert last_tool_result(provider) == "not run: no answer within 3 s"


def test_always_is_remembered_for_the_chat(thome, provider):
    provider.script(STAMP, Text(["One."]), STAMP, Text(["Two."]))
    client = client_for(thome)
    try:
        stream, frames, approval = _ask_and_wait_for_approval(client, "appr-always")
        answer = client.call("tools.approve", call_id=approval["call_id"], answer="always")
        assert answer["answer"] == "always"
        list(frames)
        assert stream.text == "One."
        # the second time: no approval event at all
        stream = client.stream("ask", chat="appr-always", prompt="again")
        kinds = [data.get("kind") for kind, data in stream if kind == "event"]
        assert "approval" not in kinds and "tool_result" in kinds
        assert stream.text == "Two."
    finally:
        client.close()
    assert [c["status"] for c in calls(thome, "appr-always")] == ["ok", "ok"]
    # a second answer to a settled question is refused, clearly
    out = thome.run("ask", "-c", "appr-always", "--tools", "none", "bye")
    assert out.returncode == 0
    client = client_for(thome)
    try:
        from chatthy.errors import NotFound

        try:
            client.call("tools.approve", call_id=approval["call_id"], answer="yes")
        except NotFound as exc:
            assert "is waiting for approval" in exc.message
        else:
            raise AssertionError("a settled approval accepted a second answer")
    finally:
        client.close()
