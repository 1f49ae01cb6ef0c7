"""The tool loop end to end: real daemon, real CLI, the fake provider asking for tools in each API's format."""

from __future__ import annotations

import json
import re

import pytest

from tests.fakes.replies import Text, ToolCalls
from tests.tools.conftest import completions

ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 \(\w+day, UTC\)$")


def tool_results(body: dict, api: str) -> list[dict]:
    """The tool results a request carries, as {id, content, is_error}, in each API's own shape."""
    out = []
    for msg in body["messages"]:
        if api == "openai" and msg.get("role") == "tool":
            out.append({"id": msg["tool_call_id"], "content": msg["content"], "is_error": None})
        if api == "anthropic" and msg.get("role") == "user" and isinstance(msg["content"], list):
            for block in msg["content"]:
                if block.get("type") == "tool_result":
                    out.append({"id": block["tool_use_id"], "content": block["content"],
                                "is_error": block.get("is_error", False)})
    return out


def tool_calls(body: dict, api: str) -> list[dict]:
    out = []
    for msg in body["messages"]:
        if msg.get("role") != "assistant":
            continue
        if api == "openai":
            for call in msg.get("tool_calls") or ():
                out.append({"id": call["id"], "name": call["function"]["name"],
                            "arguments": json.loads(call["function"]["arguments"])})
        elif isinstance(msg["content"], list):
            for block in msg["content"]:
                if block.get("type") == "tool_use":
                    out.append({"id": block["id"], "name": block["name"], "arguments": block["input"]})
    return out


def tool_names(body: dict, api: str) -> list[str]:
    if api == "openai":
        return [t["function"]["name"] for t in body.get("tools", [])]
    return [t["name"] for t in body.get("tools", [])]


@pytest.mark.parametrize("provider_name,api", [("fake", "openai"), ("fakeant", "anthropic")])
def test_two_round_chain_runs_both_tools_and_sends_results_back(thome, provider, provider_name, api):
    chat = f"chain-{api}"
    provider.script(
        ToolCalls([("call_1", "calculator", {"expression": "6 * 7"})], text_before="Let me compute."),
        ToolCalls([("call_2", "current_time", {"timezone": "UTC"})]),
        Text(["It is 42, ", "and time passes."]),
    )
    out = thome.run("ask", "-p", provider_name, "-c", chat, "-T", "calculator", "-T", "current_time",
                    "What is six times seven, and what time is it?")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Let me compute.\n\nIt is 42, and time passes.\n"
    reqs = completions(provider)
    assert len(reqs) == 3
    for req in reqs:  # every round offers the tools, in the API's own shape
        assert tool_names(req.json, api) == ["calculator", "current_time"]
    if api == "openai":
        assert reqs[0].json["tools"][0]["type"] == "function"
        assert "expression" in reqs[0].json["tools"][0]["function"]["parameters"]["properties"]
    else:
        assert "expression" in reqs[0].json["tools"][0]["input_schema"]["properties"]
    # round 2: the calculator's call and result
    assert tool_calls(reqs[1].json, api) == [{"id": "call_1", "name": "calculator", "arguments": {"expression": "6 * 7"}}]
    results = tool_results(reqs[1].json, api)
    assert [(r["id"], r["content"]) for r in results] == [("call_1", "42")]
    assert results[0]["is_error"] in (None, False)
    # round 3: both results, the time in ISO form
    results = tool_results(reqs[2].json, api)
    assert [r["id"] for r in results] == ["call_1", "call_2"]
    assert ISO_TIME.match(results[1]["content"]), results[1]["content"]

    calls = json.loads(thome.run("tools", "calls", chat, "--json", check=True).stdout)
    assert [(c["name"], c["round"], c["status"]) for c in calls] == [("calculator", 0, "ok"), ("current_time", 1, "ok")]
    assert calls[0]["result"] == "42" and calls[0]["duration_ms"] is not None and calls[0]["tokens"] > 0
    messages = json.loads(thome.run("chat", "show", chat, "--json", check=True).stdout)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    reply = messages[1]
    assert reply["status"] == "complete" and reply["content"] == "Let me compute.\n\nIt is 42, and time passes."
    assert len(reply["meta"]["tool_rounds"]) == 2
    # the calls and results are counted with the reply, on top of its text
    assert reply["tokens"] > sum(c["tokens"] for c in calls) > 0

    # The next question replays the whole exchange natively, tools remembered for the chat.
    provider.script(Text(["Still 42."]))
    out = thome.run("ask", "-p", provider_name, "-c", chat, "and again?")
    assert out.returncode == 0, out.stderr
    body = completions(provider)[-1].json
    assert tool_names(body, api) == ["calculator", "current_time"]
    assert [c["name"] for c in tool_calls(body, api)] == ["calculator", "current_time"]
    assert [r["content"] for r in tool_results(body, api)][0] == "42"


def test_verbose_shows_calls_and_results_on_stderr(thome, provider):
    provider.script(ToolCalls([("c1", "calculator", {"expression": "2 ** 10"})]), Text(["1024."]))
    out = thome.run("ask", "-c", "verbose", "-T", "calculator", "--verbose", "two to the ten?")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "1024.\n"
    assert "⚙ calculator (round 1)" in out.stderr and '"expression": "2 ** 10"' in out.stderr
    assert "⚙ calculator → ok" in out.stderr and "\n1024\n" in out.stderr + "\n"


def test_round_limit_stops_with_a_clear_message(thome, provider):
    provider.script(*[ToolCalls([(f"c{i}", "calculator", {"expression": f"{i} + 1"})]) for i in range(5)])
    out = thome.run("ask", "-c", "limit", "-T", "calculator", "loop forever")
    assert out.returncode == 0, out.stderr
    assert "asked for more tools after 3 rounds" in out.stderr and "max_rounds" in out.stderr
    assert len(completions(provider)) == 4  # three rounds ran, the fourth request's calls did not
    calls = json.loads(thome.run("tools", "calls", "limit", "--json", check=True).stdout)
    assert [c["status"] for c in calls] == ["ok", "ok", "ok", "skipped"]
    assert provider.pending_replies == 1
    # the skipped call still gets a result when the chat goes on, so the API accepts the history
    provider.clear()
    provider.script(Text(["ok"]))
    assert thome.run("ask", "-c", "limit", "go on").returncode == 0
    body = completions(provider)[-1].json
    results = [m for m in body["messages"] if m.get("role") == "tool"]
    assert len(results) == 4 and "limit of tool rounds" in results[-1]["content"]


def test_tool_errors_go_back_to_the_model(thome, provider):
    provider.script(
        ToolCalls([("e1", "calculator", {"expression": "1/0"}), ("e2", "calculator", {}),
                   ("e3", "no_such_tool", {"x": 1})]),
        Text(["Sorry."]),
    )
    out = thome.run("ask", "-p", "fakeant", "-c", "errors", "-T", "calculator", "break it")
    assert out.returncode == 0, out.stderr
    results = tool_results(completions(provider)[-1].json, "anthropic")
    assert [r["is_error"] for r in results] == [True, True, True]
    assert "division by zero" in results[0]["content"]
    assert "missing required argument(s): expression" in results[1]["content"]
    assert "no tool 'no_such_tool'" in results[2]["content"]


def test_unknown_tool_name_is_refused_before_anything_is_written(thome, provider):
    out = thome.run("ask", "-c", "unknown-tool", "-T", "telepathy", "hi")
    assert out.returncode == 2
    assert "unknown tool 'telepathy'" in out.stderr and "calculator" in out.stderr
    assert completions(provider) == []
    assert thome.run("chat", "show", "unknown-tool").returncode == 4


def test_tools_none_turns_them_off_for_the_chat(thome, provider):
    provider.script(Text(["a"]), Text(["b"]), Text(["c"]))
    thome.run("ask", "-c", "offon", "-T", "calculator", "one", check=True)
    thome.run("ask", "-c", "offon", "two", check=True)
    thome.run("ask", "-c", "offon", "--tools", "none", "three", check=True)
    bodies = [r.json for r in completions(provider)]
    assert [tool_names(b, "openai") for b in bodies] == [["calculator"], ["calculator"], []]
    assert "tools" not in bodies[2]


def test_tools_list_and_set(thome, provider):
    data = json.loads(thome.run("tools", "list", "--json", check=True).stdout)
    names = {t["name"]: t for t in data["tools"]}
    for name in ("search_knowledge", "read_workspace_file", "fetch_url", "calculator", "current_time",
                 "stamp", "echo_args", "testsrv__shout", "testsrv__add"):
        assert name in names, name
    assert names["stamp"]["confirm"] is True and names["stamp"]["source"] == "user"
    assert names["testsrv__shout"]["source"] == "mcp:testsrv"
    assert [s["state"] for s in data["mcp"]] == ["ready"]
    provider.script(Text(["x"]))
    thome.run("ask", "-c", "chosen", "hello", check=True)
    out = thome.run("tools", "set", "-c", "chosen", "calculator", "fetch_url")
    assert out.returncode == 0, out.stderr
    data = json.loads(thome.run("tools", "list", "-c", "chosen", "--json", check=True).stdout)
    assert sorted(t["name"] for t in data["tools"] if t["enabled"]) == ["calculator", "fetch_url"]
    assert thome.run("tools", "set", "-c", "chosen", "bogus").returncode == 2
    thome.run("tools", "set", "-c", "chosen", "--reset", check=True)
    data = json.loads(thome.run("tools", "list", "-c", "chosen", "--json", check=True).stdout)
    assert data["choice"] is None and not any(t["enabled"] for t in data["tools"])
