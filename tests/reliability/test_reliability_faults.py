"""Provider faults end to end: real command, real daemon, the fake provider failing.

Each fault ends in a retried success or in one clear error line (exit 5), and
the chat stays consistent: the question is kept, the reply row is complete, or
``error`` with the text that arrived before the fault, never half written.

The providers of this daemon:
  retrying   OpenAI-compatible, max_retries = 2 (the SDK's retries, then chatthy's)
  retryant   Anthropic, max_retries = 2
  stalling   OpenAI-compatible, read timeout 0.5 s, no retries
  blackhole  a port whose accept queue is full: connecting times out (0.5 s)
"""

from __future__ import annotations

import socket

import pytest

from tests.fakes.blackhole import blackhole_port
from tests.fakes.replies import HttpError, Malformed, Reset, Stall, StreamError, Text, Truncated
from tests.reliability.reliability_support import db_query

_held: list[socket.socket] = []
FAST_RETRY = {"retry-after-ms": "50"}  # the SDKs honour it: keeps retried tests fast


def _blackhole_port() -> int:
    return blackhole_port(_held)


def EXTRA_CONFIG(fake) -> str:  # noqa: N802 - read by the module-scoped fixtures
    return f"""
[providers.retrying]
kind = "openai"
base_url = "{fake.openai_base_url}"
api_key_env = "FAKE_API_KEY"
model = "fake-model"
context_length = 8192
max_tokens = 512
max_retries = 2
timeout = 10

[providers.retryant]
kind = "anthropic"
base_url = "{fake.anthropic_base_url}"
api_key_env = "FAKE_API_KEY"
model = "claude-fake"
context_length = 8192
max_tokens = 512
max_retries = 2
timeout = 10

[providers.stalling]
kind = "openai"
base_url = "{fake.openai_base_url}"
api_key_env = "FAKE_API_KEY"
model = "fake-model"
context_length = 8192
max_tokens = 512
max_retries = 0
timeout = 0.5

[providers.blackhole]
kind = "openai"
base_url = "http://127.0.0.1:{_blackhole_port()}/v1"
api_key_env = "FAKE_API_KEY"
model = "fake-model"
context_length = 8192
max_tokens = 512
max_retries = 0
connect_timeout = 0.5
"""


@pytest.fixture(scope="module", autouse=True)
def _release_blackhole():
    yield
    for s in _held:
        s.close()


def rows(home, chat: str) -> list[tuple]:
    return db_query(home, "SELECT m.role, m.content, m.status, m.error, m.finished FROM messages m"
                          " JOIN chats c ON c.id = m.chat_id WHERE c.name = ? ORDER BY m.id", (chat,))


def ask(home, provider: str, chat: str, prompt: str = "question"):
    return home.run("ask", "-p", provider, "-c", chat, prompt, timeout=60)


def assert_one_error_line(out, *needles: str) -> str:
    assert out.returncode == 5, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chatthy: error: "), out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def assert_consistent(home, chat: str, status: str, content: str, prompt: str = "question") -> tuple:
    found = rows(home, chat)
    assert [r[0] for r in found] == ["user", "assistant"]
    user, reply = found
    assert user[1] == prompt and user[2] == "complete"
    assert reply[2] == status and reply[1] == content
    assert reply[4] is not None, "the reply row was never finished"
    if status == "complete":
        assert reply[3] is None
    else:
        assert reply[3]  # the error is written down with the reply
    return reply


def requests_since(fake, before: int) -> int:
    return len(fake.requests) - before


@pytest.fixture
def fake(mfake, mdaemon):
    mfake.clear()
    return mfake


@pytest.fixture
def home(mhome):
    return mhome


# -- HTTP errors before the stream: the SDK retries ------------------------------

def test_429_with_retry_after_then_success(home, fake):
    fake.script(HttpError(429, headers={"retry-after": "0.2"}), Text(["recovered"]))
    out = ask(home, "retrying", "f-429")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "recovered\n"
    assert requests_since(fake, 0) == 2
    assert_consistent(home, "f-429", "complete", "recovered")


def test_429_that_persists_is_one_clear_error(home, fake):
    fake.script(*[HttpError(429, headers={"retry-after": "0.05"})] * 3)
    out = ask(home, "retrying", "f-429x")
    assert_one_error_line(out, "429 rate limited")
    assert requests_since(fake, 0) == 3  # the first try and two retries
    assert_consistent(home, "f-429x", "error", "")


def test_500_then_success(home, fake):
    fake.script(HttpError(500, headers=FAST_RETRY), Text(["fine now"]))
    out = ask(home, "retrying", "f-500")
    assert out.returncode == 0 and out.stdout == "fine now\n", out.stderr
    assert_consistent(home, "f-500", "complete", "fine now")


def test_500_without_retries_is_one_clear_error(home, fake):
    fake.script(HttpError(500, message="the fake is on fire"))
    out = ask(home, "stalling", "f-500x")  # max_retries = 0
    assert_one_error_line(out, "500 server error", "the fake is on fire")
    assert_consistent(home, "f-500x", "error", "")


def test_529_overloaded_then_success(home, fake):
    fake.script(HttpError(529, headers=FAST_RETRY), Text(["calmer now"]))
    out = ask(home, "retryant", "f-529")
    assert out.returncode == 0 and out.stdout == "calmer now\n", out.stderr
    assert_consistent(home, "f-529", "complete", "calmer now")


def test_529_that_persists_is_one_clear_error(home, fake):
    fake.script(*[HttpError(529, headers=FAST_RETRY)] * 3)
    out = ask(home, "retryant", "f-529x")
    assert_one_error_line(out, "529 overloaded")
    assert_consistent(home, "f-529x", "error", "")


def test_connect_timeout_is_one_clear_error(home, fake):
    out = ask(home, "blackhole", "f-connect")
    assert_one_error_line(out, "cannot connect to http://127.0.0.1:", "timed out after 0.5 s")
    assert_consistent(home, "f-connect", "error", "")


# -- faults in the middle of the stream ------------------------------------------------

def test_read_timeout_mid_stream_keeps_the_text_so_far(home, fake):
    fake.script(Stall(after_chunks=2, seconds=5))
    out = ask(home, "stalling", "f-stall")
    assert out.stdout == "tok tok \n"
    assert_one_error_line(out, "read timed out after 0.5 s")
    assert_consistent(home, "f-stall", "error", "tok tok ")


def test_reset_mid_stream_keeps_the_text_so_far(home, fake):
    fake.script(Reset(after_chunks=2), Text(["never asked for"]))
    out = ask(home, "retrying", "f-reset")
    line = assert_one_error_line(out, "connection")
    assert "incomplete" in line or "lost" in line
    assert_consistent(home, "f-reset", "error", "tok tok ")
    assert fake.pending_replies == 1  # text had been shown: no second try


def test_reset_before_any_text_is_tried_again(home, fake):
    fake.script(Reset(after_chunks=0), Text(["second time lucky"]))
    out = ask(home, "retrying", "f-reset0")
    assert out.returncode == 0 and out.stdout == "second time lucky\n", out.stderr
    assert_consistent(home, "f-reset0", "complete", "second time lucky")


def test_malformed_sse_is_one_clear_error(home, fake):
    fake.script(Malformed(after_chunks=2))
    out = ask(home, "stalling", "f-malformed")
    assert_one_error_line(out, "malformed")
    assert_consistent(home, "f-malformed", "error", "tok tok ")


def test_stream_cut_short_without_its_end_is_one_clear_error(home, fake):
    fake.script(Truncated(after_chunks=2))
    out = ask(home, "stalling", "f-truncated")
    assert_one_error_line(out, "incomplete")
    assert_consistent(home, "f-truncated", "error", "tok tok ")


@pytest.mark.parametrize("provider", ["retrying", "retryant"])
def test_error_event_inside_the_stream_keeps_the_text_so_far(home, fake, provider):
    fake.script(StreamError(after_chunks=2, message="the model fell over"))
    out = ask(home, provider, f"f-event-{provider}")
    assert_one_error_line(out, "the model fell over")
    assert_consistent(home, f"f-event-{provider}", "error", "tok tok ")


@pytest.mark.parametrize("provider", ["retrying", "retryant"])
def test_overloaded_event_before_any_text_is_tried_again(home, fake, provider):
    fake.script(StreamError(after_chunks=0, message="Overloaded", error_type="overloaded_error"),
                Text(["after the storm"]))
    out = ask(home, provider, f"f-over-{provider}")
    assert out.returncode == 0 and out.stdout == "after the storm\n", out.stderr
    assert_consistent(home, f"f-over-{provider}", "complete", "after the storm")


def test_invalid_request_event_is_not_retried(home, fake):
    fake.script(StreamError(after_chunks=0, message="bad field", error_type="invalid_request_error"),
                Text(["never asked for"]))
    out = ask(home, "retrying", "f-invalid")
    assert_one_error_line(out, "bad field")
    assert fake.pending_replies == 1
    assert_consistent(home, "f-invalid", "error", "")


def test_after_every_fault_the_chats_go_on(home, fake):
    for chat in ("f-stall", "f-reset", "f-malformed"):
        out = home.run("ask", "-c", chat, "and now?")
        assert out.returncode == 0, out.stderr
        assert out.stdout == "You said: and now?\n"
        # The reply cut short went back as history, with the text it had.
        sent = fake.requests[-1].json["messages"]
        assert sent[-2] == {"role": "assistant", "content": "tok tok "}
    assert db_query(home, "PRAGMA integrity_check") == [("ok",)]
    half = db_query(home, "SELECT count(*) FROM messages WHERE finished IS NULL AND role = 'assistant'")
    assert half == [(0,)]
