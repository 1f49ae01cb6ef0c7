"""Streaming text and tool calls through both SDKs, and what goes over the wire."""

from __future__ import annotations

from contextlib import aclosing

import anyio
import pytest

from chatthy.llm import (
    ChatRequest, Done, OpenAIChatProvider, TextDelta, ToolCall, Usage, make_provider,
)
from tests.fakes import Stall, Text, ToolCalls

from .harness import KINDS, FakeSettings, collect, request, stream_once

COMPLETION_PATH = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}


def completions(fake, kind):
    return [r for r in fake.requests if r.path == COMPLETION_PATH[kind]]


@pytest.mark.parametrize("kind", KINDS)
def test_text_streams_in_order_then_usage_then_done(fake, settings_for, kind):
    fake.script(Text(["Hel", "lo", ", ", "world", "!"], usage=(11, 5)))
    events, error = stream_once(settings_for(kind), request("hi"))
    assert error is None
    assert events == [
        TextDelta("Hel"), TextDelta("lo"), TextDelta(", "), TextDelta("world"), TextDelta("!"),
        Usage(11, 5, raw=events[5].raw), Done("stop"),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_default_reply_echoes_the_last_user_message(fake, settings_for, kind):
    events, error = stream_once(settings_for(kind), request("what is two plus two"))
    assert error is None
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "You said: what is two plus two"


def test_openai_request_carries_system_messages_limit_and_params(fake, settings_for):
    settings = settings_for("openai", params={"temperature": 0.3, "top_k": 40})
    req = request("hi", system="be brief", max_tokens=77, params={"temperature": 0.1})
    stream_once(settings, req)
    [sent] = completions(fake, "openai")
    body = sent.json
    assert body["model"] == "fake-model-large"
    assert body["messages"] == [{"role": "system", "content": "be brief"},
                                {"role": "user", "content": "hi"}]
    # a non-OpenAI base_url gets max_tokens, as tabbyAPI/llama.cpp/Ollama expect
    assert body["max_tokens"] == 77 and "max_completion_tokens" not in body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.1 and body["top_k"] == 40  # request params override config's
    assert sent.headers["authorization"] == "Bearer none"  # key_required = False


def test_openai_stream_usage_false_omits_stream_options(fake, settings_for):
    events, error = stream_once(settings_for("openai", params={"stream_usage": False}), request())
    assert error is None
    [sent] = completions(fake, "openai")
    assert "stream_options" not in sent.json and "stream_usage" not in sent.json
    assert not any(isinstance(e, Usage) for e in events)  # the server sent none
    assert events[-1] == Done("stop")


def test_official_openai_uses_max_completion_tokens():
    official = OpenAIChatProvider(FakeSettings(name="openai", kind="openai", base_url=None))
    body = official.build_body(ChatRequest(model="gpt-x", messages=[], max_tokens=99))
    assert body["max_completion_tokens"] == 99 and "max_tokens" not in body
    assert official.base_url == "https://api.openai.com/v1"


def test_anthropic_request_carries_system_messages_limit_and_params(fake, settings_for):
    settings = settings_for("anthropic", params={"temperature": 0.3, "top_k": 40})
    stream_once(settings, request("hi", system="be brief", max_tokens=77, params={"top_p": 0.5}))
    [sent] = completions(fake, "anthropic")
    body = sent.json
    assert body["system"] == "be brief"
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert body["max_tokens"] == 77 and body["stream"] is True
    assert (body["temperature"], body["top_k"], body["top_p"]) == (0.3, 40, 0.5)
    assert "anthropic-version" in sent.headers


TOOLS = [{"name": "weather", "description": "Weather for a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]


@pytest.mark.parametrize("kind", KINDS)
def test_tool_calls_are_assembled_from_streamed_pieces(fake, settings_for, kind):
    fake.script(ToolCalls([("call_1", "weather", {"city": "Paris", "units": ["C", "F"]}),
                           ("call_2", "time", {})], text_before="Let me check."))
    events, error = stream_once(settings_for(kind), request("weather?", tools=TOOLS))
    assert error is None
    assert events[0] == TextDelta("Let me check.")
    assert events[1:3] == [ToolCall("call_1", "weather", {"city": "Paris", "units": ["C", "F"]}),
                           ToolCall("call_2", "time", {})]
    assert isinstance(events[3], Usage)
    assert events[4] == Done("tool_calls")


def test_openai_tools_and_tool_history_are_sent_in_openai_shape(fake, settings_for):
    history = [
        {"role": "user", "content": "weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_1", "name": "weather", "arguments": {"city": "Paris"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C"},
    ]
    stream_once(settings_for("openai"), request(messages=history, tools=TOOLS))
    body = completions(fake, "openai")[0].json
    assert body["tools"] == [{"type": "function", "function": {
        "name": "weather", "description": "Weather for a city", "parameters": TOOLS[0]["parameters"]}}]
    assert body["messages"][1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}]}
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}


def test_anthropic_tool_history_becomes_blocks_in_alternating_turns(fake, settings_for):
    history = [
        {"role": "user", "content": "weather in Paris?"},
        {"role": "user", "content": "and in Rome?"},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "t1", "name": "weather", "arguments": {"city": "Paris"}},
            {"id": "t2", "name": "weather", "arguments": {"city": "Rome"}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "18 C"},
        {"role": "tool", "tool_call_id": "t2", "content": "24 C"},
        {"role": "user", "content": "thanks, which is warmer?"},
    ]
    stream_once(settings_for("anthropic"), request(messages=history, tools=TOOLS))
    body = completions(fake, "anthropic")[0].json
    assert body["tools"] == [{"name": "weather", "description": "Weather for a city",
                              "input_schema": TOOLS[0]["parameters"]}]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][0]["content"] == [{"type": "text", "text": "weather in Paris?"},
                                              {"type": "text", "text": "and in Rome?"}]
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "t2", "name": "weather", "input": {"city": "Rome"}},
    ]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "18 C"},
        {"type": "tool_result", "tool_use_id": "t2", "content": "24 C"},
        {"type": "text", "text": "thanks, which is warmer?"},
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_one_client_serves_many_requests_on_one_connection(fake, settings_for, kind):
    async def main():
        provider = make_provider(settings_for(kind))
        try:
            client = None
            for i in range(3):
                events, error = await collect(provider, request(f"turn {i}"))
                assert error is None and events[-1] == Done("stop")
                client = client or provider._client
                assert provider._client is client  # made once, reused
        finally:
            await provider.aclose()

    anyio.run(main)
    ports = {r.headers.get("host") for r in completions(fake, kind)}
    assert len(completions(fake, kind)) == 3 and len(ports) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_closed_early_releases_its_response(fake, settings_for, kind):
    fake.script(Text(["a "] * 50, delay=0.01))

    async def main():
        provider = make_provider(settings_for(kind))
        try:
            with anyio.fail_after(5):
                async with aclosing(provider.stream(request())) as events:
                    async for event in events:
                        assert event == TextDelta("a ")
                        break
                # the client is usable again at once
                events, error = await collect(provider, request("again"))
                assert error is None and events[-1] == Done("stop")
        finally:
            await provider.aclose()

    anyio.run(main)


@pytest.mark.parametrize("kind", KINDS)
def test_delayed_chunks_arrive_while_the_server_is_still_sending(fake, settings_for, kind):
    fake.script(Text(["one ", "two ", "three"], delay=0.3))

    async def main():
        provider = make_provider(settings_for(kind))
        try:
            stamps = []
            async for event in provider.stream(request()):
                if isinstance(event, TextDelta):
                    stamps.append(anyio.current_time())
            return stamps
        finally:
            await provider.aclose()

    stamps = anyio.run(main)
    assert len(stamps) == 3 and stamps[2] - stamps[0] >= 0.5


@pytest.mark.parametrize("kind", KINDS)
def test_cancelling_a_waiting_stream_leaves_the_provider_usable(fake, settings_for, kind):
    fake.script(Stall(after_chunks=1, seconds=5))

    async def main():
        provider = make_provider(settings_for(kind))
        try:
            seen = []
            with anyio.move_on_after(0.3) as scope:
                async with aclosing(provider.stream(request())) as events:
                    async for event in events:
                        seen.append(event)
            assert scope.cancelled_caught and seen == [TextDelta("tok ")]
            events, error = await collect(provider, request("after"))
            assert error is None and events[-1] == Done("stop")
        finally:
            await provider.aclose()

    anyio.run(main)
