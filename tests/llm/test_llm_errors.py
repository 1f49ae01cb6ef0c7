"""Every way a provider can fail ends the stream with one clear ProviderError."""

from __future__ import annotations

import socket

import pytest

from chatthy.errors import ProviderError
from chatthy.llm import Done, TextDelta, ToolCall
from tests.fakes import (
    HttpError, Malformed, Reset, Stall, StreamError, Text, ToolCalls, Truncated,
)

from .harness import KINDS, request, stream_once


def _texts(events):
    return [e.text for e in events if isinstance(e, TextDelta)]


def _completions(fake):
    return [r for r in fake.requests if r.method == "POST"]


@pytest.mark.parametrize("kind", KINDS)
def test_429_is_retried_by_the_sdk_then_succeeds(fake, settings_for, kind):
    fake.script(HttpError(429, headers={"retry-after": "0.05"}), Text(["fine"]))
    events, error = stream_once(settings_for(kind, max_retries=2), request())
    assert error is None
    assert _texts(events) == ["fine"] and events[-1] == Done("stop")
    assert len(_completions(fake)) == 2


def test_429_without_retries_reports_status_message_and_retry_after(fake, settings_for):
    fake.script(HttpError(429, headers={"retry-after": "7"}, message="Slow down, please."))
    events, error = stream_once(settings_for("openai", name="oa"), request())
    assert events == []
    assert isinstance(error, ProviderError)
    assert error.message == "oa (fake-model-large): 429 rate limited: Slow down, please."
    assert error.data["status"] == 429 and error.data["retry_after"] == 7.0
    assert error.data["provider"] == "oa"
    assert isinstance(error.__cause__, Exception)  # chained from the SDK's exception


@pytest.mark.parametrize("kind", KINDS)
def test_500_with_retries_off_is_one_request_and_one_error(fake, settings_for, kind):
    fake.script(HttpError(500, message="the GPU caught fire"))
    events, error = stream_once(settings_for(kind, max_retries=0), request())
    assert isinstance(error, ProviderError)
    assert error.message == f"{kind} (fake-model-large): 500 server error: the GPU caught fire"
    assert error.data["status"] == 500
    assert len(_completions(fake)) == 1


def test_anthropic_529_overloaded(fake, settings_for):
    fake.script(HttpError(529))
    _, error = stream_once(settings_for("anthropic"), request())
    assert error.message == "anthropic (fake-model-large): 529 overloaded: Overloaded"
    assert error.data["status"] == 529 and error.data["error_type"] == "overloaded_error"


def test_a_raw_error_body_is_reported_as_sent(fake, settings_for):
    fake.script(HttpError(400, body={"detail": "max_tokens exceeds the context window"}))
    _, error = stream_once(settings_for("openai", name="tabby"), request())
    assert error.message == ("tabby (fake-model-large): 400 bad request: "
                             "max_tokens exceeds the context window")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("kind", KINDS)
def test_connection_refused(settings_for, kind):
    url = f"http://127.0.0.1:{_closed_port()}/"
    events, error = stream_once(settings_for(kind, base_url=url, max_retries=0), request())
    assert events == []
    assert error.message == f"{kind}: cannot connect to {url}: connection refused"
    assert error.data["status"] is None


@pytest.mark.parametrize("kind", KINDS)
def test_read_timeout_mid_stream(fake, settings_for, kind):
    fake.script(Stall(after_chunks=2, seconds=5))
    events, error = stream_once(settings_for(kind, name="tabby", timeout=0.3), request())
    assert _texts(events) == ["tok ", "tok "]
    assert error.message == "tabby: read timed out after 0.3 s"


@pytest.mark.parametrize("kind", KINDS)
def test_a_stall_shorter_than_the_timeout_is_fine(fake, settings_for, kind):
    fake.script(Stall(after_chunks=1, seconds=0.2))
    events, error = stream_once(settings_for(kind, timeout=3), request())
    assert error is None and events[-1] == Done("stop")


@pytest.mark.parametrize("kind", KINDS)
def test_connection_reset_mid_stream(fake, settings_for, kind):
    fake.script(Reset(after_chunks=3))
    events, error = stream_once(settings_for(kind), request())
    assert not any(isinstance(e, Done) for e in events)
    assert isinstance(error, ProviderError)
    assert error.message.startswith(f"{kind} (fake-model-large): connection lost: ")


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_sse_data(fake, settings_for, kind):
    fake.script(Malformed(after_chunks=2))
    events, error = stream_once(settings_for(kind), request())
    assert _texts(events) == ["tok ", "tok "]
    assert error.message.startswith(f"{kind} (fake-model-large): malformed response from server: ")


@pytest.mark.parametrize("kind", KINDS)
def test_error_event_inside_the_stream(fake, settings_for, kind):
    fake.script(StreamError(after_chunks=1, message="Overloaded", error_type="overloaded_error"))
    events, error = stream_once(settings_for(kind), request())
    assert _texts(events) == ["tok "]
    assert error.message.startswith(f"{kind} (fake-model-large): error during stream: Overloaded")
    assert error.data["error_type"] == "overloaded_error"


@pytest.mark.parametrize("kind", KINDS)
def test_tool_arguments_that_are_not_json(fake, settings_for, kind):
    fake.script(ToolCalls([("c1", "weather", '{"city": "Par')]))
    events, error = stream_once(settings_for(kind), request())
    assert not any(isinstance(e, ToolCall) for e in events)
    assert isinstance(error, ProviderError)
    assert "tool call 'weather' has arguments that are not valid JSON" in error.message


@pytest.mark.parametrize("kind", KINDS)
def test_a_body_that_ends_before_the_reply_does_is_an_error(fake, settings_for, kind):
    fake.script(Truncated(after_chunks=2))
    events, error = stream_once(settings_for(kind), request())
    assert _texts(events) == ["tok ", "tok "]
    assert not any(isinstance(e, Done) for e in events)
    assert error.message.startswith(f"{kind} (fake-model-large): the stream ended ")
    assert error.message.endswith("; the reply is incomplete")
