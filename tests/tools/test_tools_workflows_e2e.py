"""Workflows end to end: chained steps, a loop that stops on its condition, one that hits its max,
a tool step, and a run that outlives its client and is watched from another."""

from __future__ import annotations

import json
import signal
import time

from tests.fakes.replies import Text
from tests.tools.conftest import completions


def prompts(provider) -> list[str]:
    return [r.json["messages"][-1]["content"] for r in completions(provider)]


def test_loop_stops_when_the_condition_is_met(thome, provider):
    provider.script(Text(["D1"]), Text(["needs ", "work"]), Text(["D2"]), Text(["APPROVED"]))
    out = thome.run("run", "loop", "--chat", "wf-stop", "--verbose", "a", "haiku")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "D2\n"
    assert prompts(provider) == ["Draft: a haiku", "Critique round 1: D1", "Revise D1 per needs work",
                                 "Critique round 2: D2"]
    assert "▶ critique (round 2/3)" in out.stderr and "✓ critique (round 2/3)" in out.stderr
    assert "stopped after" not in out.stderr
    # every prompt and reply is in the chat, each step a fresh exchange (no history by default)
    messages = json.loads(thome.run("chat", "show", "wf-stop", "--json", check=True).stdout)["messages"]
    assert [m["content"] for m in messages if m["role"] == "assistant"] == ["D1", "needs work", "D2", "APPROVED"]
    assert all(len(r.json["messages"]) == 1 for r in completions(provider))
    runs = json.loads(thome.run("run", "list", "--json", check=True).stdout)
    mine = next(r for r in runs if r["chat"] == "wf-stop")
    assert mine["status"] == "complete" and mine["workflow"] == "loop"


def test_loop_that_hits_its_max_says_so_and_goes_on(thome, provider):
    provider.script(Text(["D1"]), Text(["no"]), Text(["D2"]), Text(["still no"]), Text(["D3"]))
    out = thome.run("run", "loop2", "--chat", "wf-max", "--input", "-", input="a limerick")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "D3\n"
    assert "polish: stopped after 2 rounds without 'APPROVED' in the output" in out.stderr
    assert len(completions(provider)) == 5
    assert provider.pending_replies == 0


def test_tool_step_feeds_a_prompt_step(thome, provider):
    provider.script(Text(["Because multiplication."]))
    out = thome.run("run", "compute", "-c", "wf-tool", "-v", "unit=pears", "3 * 4")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Because multiplication.\n"
    assert prompts(provider) == ["Explain why 3 * 4 = 12 pears"]
    messages = json.loads(thome.run("chat", "show", "wf-tool", "--json", check=True).stdout)["messages"]
    assert messages[0]["role"] == "assistant" and messages[0]["content"] == "12"
    assert messages[0]["meta"]["workflow"]["tool"] == "calculator"


def test_bad_runs_are_refused_clearly(thome, provider):
    out = thome.run("run", "nosuch", "x")
    assert out.returncode == 4 and "no workflow named 'nosuch'" in out.stderr and "loop" in out.stderr
    out = thome.run("run", "compute", "-v", "colour=red", "1+1")
    assert out.returncode == 2 and "has no variable 'colour'" in out.stderr
    out = thome.run("run", "loop", input="")
    assert out.returncode == 2 and "uses {{input}}" in out.stderr
    assert completions(provider) == []


def test_listing_workflows(thome, provider):
    data = json.loads(thome.run("run", "--json", check=True).stdout)
    names = {w["name"]: w for w in data["workflows"]}
    assert {"loop", "loop2", "compute", "refine", "summarize-url", "answer-from-knowledge"} <= set(names)
    assert names["loop"]["origin"] == "user" and names["refine"]["origin"] == "builtin"
    assert names["refine"]["variables"] == ["audience"]
    assert [s["name"] for s in names["loop"]["steps"]] == ["draft", "polish"]


def test_a_run_survives_its_client_and_is_watched_from_another(thome, provider):
    provider.script(Text([f"w{i} " for i in range(12)], delay=0.2), Text(["APPROVED"]))
    first = thome.popen("run", "loop", "-c", "wf-attach", "survive", stdout=-1, stderr=-1)
    run_id = None
    deadline = time.monotonic() + 20
    while run_id is None and time.monotonic() < deadline:
        runs = json.loads(thome.run("run", "list", "--json", check=True).stdout)
        run_id = next((r["run"] for r in runs if r["chat"] == "wf-attach"), None)
        time.sleep(0.05)
    assert run_id, "the run never showed up in run list"
    first.send_signal(signal.SIGKILL)
    first.wait()
    first.stdout.close()
    first.stderr.close()
    out = thome.run("run", "--attach", run_id)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "".join(f"w{i} " for i in range(12)).strip()
    runs = json.loads(thome.run("run", "list", "--json", check=True).stdout)
    assert next(r for r in runs if r["run"] == run_id)["status"] == "complete"
    # a finished run can still be looked at
    again = thome.run("run", "--attach", run_id)
    assert again.returncode == 0 and again.stdout == out.stdout


def test_a_run_can_be_cancelled_from_another_client(thome, provider):
    provider.script(Text([f"slow{i} " for i in range(60)], delay=0.1))
    first = thome.popen("run", "loop", "-c", "wf-cancel", "stop me", stdout=-1, stderr=-1)
    run_id = None
    deadline = time.monotonic() + 20
    while run_id is None and time.monotonic() < deadline:
        runs = json.loads(thome.run("run", "list", "--json", check=True).stdout)
        run_id = next((r["run"] for r in runs if r["chat"] == "wf-cancel"), None)
        time.sleep(0.05)
    assert run_id
    out = thome.run("run", "cancel", run_id)
    assert out.returncode == 0, out.stderr
    _, err = first.communicate(timeout=15)
    assert first.returncode == 130, err
    runs = json.loads(thome.run("run", "list", "--json", check=True).stdout)
    assert next(r for r in runs if r["run"] == run_id)["status"] == "cancelled"
    reply = json.loads(thome.run("chat", "show", "wf-cancel", "--json", check=True).stdout)["messages"][1]
    assert reply["status"] == "cancelled" and reply["content"].startswith("slow0")
    assert thome.run("run", "cancel", run_id).returncode == 8  # not running any more
