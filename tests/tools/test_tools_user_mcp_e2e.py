"""User tools from config (no shell, argv or stdin, timeout, output cap) and an MCP tool server."""

from __future__ import annotations

import json

from tests.fakes.replies import Text, ToolCalls
from tests.tools.conftest import completions


def results(provider) -> list[str]:
    return [m["content"] for m in completions(provider)[-1].json["messages"] if m.get("role") == "tool"]


def test_argv_placeholders_fill_whole_arguments_without_a_shell(thome, provider):
    nasty = "$(touch pwned); rm -rf / `id` | cat"
    provider.script(ToolCalls([("a1", "echo_args", {"word": nasty, "n": 7})]), Text(["done"]))
    out = thome.run("ask", "-c", "argv", "-T", "echo_args", "echo it")
    assert out.returncode == 0, out.stderr
    assert results(provider) == [f"{nasty} | n=7\n"]
    assert not (thome.root / "pwned").exists()


def test_timeout_output_cap_and_failure_are_errors_the_model_sees(thome, provider):
    provider.script(
        ToolCalls([("t1", "sleeper", {}), ("t2", "chatty", {}), ("t3", "failing", {})]),
        Text(["noted"]),
    )
    out = thome.run("ask", "-p", "fakeant", "-c", "limits", "-T", "sleeper", "-T", "chatty", "-T", "failing", "go")
    assert out.returncode == 0, out.stderr
    blocks = [b for m in completions(provider)[-1].json["messages"] if isinstance(m["content"], list)
              for b in m["content"] if b.get("type") == "tool_result"]
    sleeper, chatty, failing = blocks
    assert sleeper["is_error"] is True and sleeper["content"].startswith("error: timed out after 1 s")
    assert "started" in sleeper["content"]
    assert not chatty.get("is_error")
    assert chatty["content"] == "x" * 1024 + "\n[output cut at 1,024 bytes]"
    assert failing["is_error"] is True and failing["content"] == "error: exited with status 3: disk on fire"
    calls = json.loads(thome.run("tools", "calls", "limits", "--json", check=True).stdout)
    assert [c["status"] for c in calls] == ["error", "ok", "error"]
    assert 900 <= calls[0]["duration_ms"] < 5000


def test_mcp_tool_is_offered_and_called_and_its_server_kept_alive(thome, provider):
    provider.script(
        ToolCalls([("m1", "testsrv__shout", {"text": "quiet please"}), ("m2", "testsrv__pid", {})]),
        Text(["LOUD."]),
    )
    out = thome.run("ask", "-c", "mcp", "-T", "testsrv__shout", "-T", "testsrv__pid", "-T", "testsrv__fail",
                    "shout")
    assert out.returncode == 0, out.stderr
    first = completions(provider)[0].json
    offered = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert offered["testsrv__shout"]["description"] == "Return the text in capital letters."
    assert offered["testsrv__shout"]["parameters"]["properties"]["text"]["type"] == "string"
    shout, pid = results(provider)
    assert shout == "QUIET PLEASE"
    assert pid.isdigit()
    # a second ask: the same server process answers (started once, kept alive)
    provider.clear()
    provider.script(ToolCalls([("m3", "testsrv__pid", {}), ("m4", "testsrv__fail", {})]), Text(["same"]))
    out = thome.run("ask", "-c", "mcp", "again")
    assert out.returncode == 0, out.stderr
    new_pid, failed = results(provider)[-2:]
    assert new_pid == pid
    assert failed == "Error executing tool fail"  # the server's own words
    calls = json.loads(thome.run("tools", "calls", "mcp", "--json", check=True).stdout)
    assert [(c["name"], c["status"]) for c in calls] == [
        ("testsrv__shout", "ok"), ("testsrv__pid", "ok"), ("testsrv__pid", "ok"), ("testsrv__fail", "error")]
