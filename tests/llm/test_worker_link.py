"""The daemon ↔ provider-worker link: what goes in comes out, whole, however the pipe splits it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.errors import ConfigError, InternalError, ProviderError
from chatthy.llm import ChatRequest, Done, TextDelta, ToolCall, Usage
from chatthy.llm import worker_link as link

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
events = st.one_of(
    st.builds(TextDelta, st.text()),  # any text, lone surrogates included
    st.builds(ToolCall, st.text(max_size=20), st.text(max_size=20), st.dictionaries(st.text(max_size=8), json_values)),
    st.builds(Usage, st.none() | st.integers(0, 10**9), st.none() | st.integers(0, 10**9),
              st.dictionaries(st.text(max_size=8), json_values, max_size=4)),
    st.builds(Done, st.none() | st.sampled_from(["stop", "length", "tool_calls", "something_new"])),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(events, min_size=1, max_size=8), st.data())
def test_events_cross_the_link_unchanged_however_the_bytes_are_split(sent, data):
    stream = b"".join(link.encode([7, *link.event_to_wire(e)]) for e in sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    decoder = link.MessageDecoder()
    received = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)]):
        received += decoder.feed(stream[start:end])
    decoder.eof()  # nothing left half-read
    assert [m[0] for m in received] == [7] * len(sent)
    assert [link.event_from_wire(m[1], m[2]) for m in received] == sent


def test_a_request_crosses_whole():
    req = ChatRequest(model="m", messages=[{"role": "user", "content": "hi", "images": [{"mime": "image/png",
                                                                                        "data": "AAAA"}]}],
                      system="be brief", max_tokens=12, params={"temperature": 0.2, "stop": ["END"]},
                      tools=[{"name": "calculator", "description": "d", "parameters": {"type": "object"}}])
    [message] = link.MessageDecoder().feed(link.encode(["stream", 1, "fake", link.request_to_wire(req)]))
    assert link.request_from_wire(message[3]) == req


def test_errors_keep_their_class_message_and_data():
    error = ProviderError("fake (m): 429 slow down", data={"provider": "fake", "status": 429, "retry_after": 1.5,
                                                          "during_stream": True, "timeout": None})
    back = link.error_from_wire(link.error_to_wire(error))
    assert type(back) is ProviderError and back.message == error.message and back.data == error.data
    config = link.error_from_wire(link.error_to_wire(ConfigError("OPENAI_API_KEY is not set")))
    assert type(config) is ConfigError and config.exit_code == 10
    # A bug in the worker is said to be one, not passed off as a provider's answer.
    bug = link.error_from_wire(link.error_to_wire(KeyError("choices")))
    assert type(bug) is InternalError and bug.message == "KeyError: 'choices'"


def test_a_frame_cut_short_is_an_error_not_a_message():
    frame = link.encode([1, "text", "hello"])
    decoder = link.MessageDecoder()
    assert decoder.feed(frame[:-2]) == []
    with pytest.raises(Exception, match="middle of a frame"):
        decoder.eof()


def test_an_unknown_event_kind_is_refused():
    with pytest.raises(ValueError, match="unknown event kind 'sparkle'"):
        link.event_from_wire("sparkle", None)


@pytest.mark.parametrize("value,ok", [(0, True), (1, True), (16, True), (-1, False), (17, False)])
def test_provider_workers_is_checked_with_the_file_line_and_reason(tmp_path, value, ok):
    from chatthy.config import parse

    text = f"[daemon]\nprovider_workers = {value}\n"
    if ok:
        assert parse(text, tmp_path / "config.toml").provider_workers == value
    else:
        with pytest.raises(ConfigError, match=r"config\.toml:2: daemon\.provider_workers: must be 0 to 16"):
            parse(text, tmp_path / "config.toml")
