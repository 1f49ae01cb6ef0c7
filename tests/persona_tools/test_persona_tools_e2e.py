"""A personality's tools, end to end: real daemon, real `chatthy`, what the fake provider is offered."""

from __future__ import annotations

import json
import sys

from tests.fakes.replies import Text, ToolCalls
from tests.persona_tools.conftest import completions, offered, on_terminal, persona_json


def test_a_personas_calculator_is_offered_and_its_round_completes(phome, provider):
    code, _, said = on_terminal(phome, "persona", "set", "mathsy", "You compute.", "--tools", "calculator")
    assert code == 0, said
    assert "saved personality 'mathsy' (tools: calculator)" in said
    assert persona_json(phome, "mathsy")["tools"] == ["calculator"]

    provider.script(ToolCalls([("c1", "calculator", {"expression": "6 * 7"})]), Text(["It is 42."]))
    out = phome.run("ask", "-c", "calc", "-P", "mathsy", "six times seven?")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "It is 42.\n"
    first, second = completions(provider)
    assert offered(first) == ["calculator"]  # the persona's, not [tools] default (current_time)
    tool = first.json["tools"][0]["function"]
    assert "expression" in tool["parameters"]["properties"] and tool["description"]
    assert first.json["messages"][0] == {"role": "system", "content": "You compute."}
    results = [m for m in second.json["messages"] if m.get("role") == "tool"]
    assert [r["content"] for r in results] == ["42"]
    calls = json.loads(phome.run("tools", "calls", "calc", "--json", check=True).stdout)
    assert [(c["name"], c["status"], c["result"]) for c in calls] == [("calculator", "ok", "42")]
    # The persona's tools are not copied into the chat: the chat has no choice of its own.
    listed = json.loads(phome.run("tools", "list", "-c", "calc", "--json", check=True).stdout)
    assert listed["choice"] is None and listed["source"] == "personality"
    assert listed["persona"] == "mathsy" and listed["persona_tools"] == ["calculator"]
    assert [t["name"] for t in listed["tools"] if t["enabled"]] == ["calculator"]
    _, _, said = on_terminal(phome, "tools", "list", "-c", "calc")
    assert "chat 'calc': calculator (from personality 'mathsy')" in said
    assert ("a reply's tools: the ask's -T/--tools, else the chat's choice (`tools set`), else its "
            "personality's (`persona set NAME --tools`), else [tools] default") in " ".join(said.split())


def test_the_asks_own_tools_come_first_and_stay_with_the_chat(phome, provider):
    phome.run("persona", "set", "overridden", "Hi.", "--tools", "calculator", check=True)
    phome.run("ask", "-c", "dash-t", "-P", "overridden", "-T", "shout", "one", check=True)
    phome.run("ask", "-c", "dash-t", "two", check=True)  # -T was kept as the chat's choice
    phome.run("ask", "-c", "dash-t", "--tools", "none", "three", check=True)
    assert [offered(r) for r in completions(provider)] == [["shout"], ["shout"], []]


def test_the_chats_choice_beats_its_personality_until_reset(phome, provider):
    phome.run("persona", "set", "pt-set", "Hi.", "--tools", "calculator", check=True)
    phome.run("ask", "-c", "chosen", "-P", "pt-set", "one", check=True)
    out = phome.run("tools", "set", "-c", "chosen", "shout")
    assert out.returncode == 0, out.stderr
    phome.run("ask", "-c", "chosen", "two", check=True)
    listed = json.loads(phome.run("tools", "list", "-c", "chosen", "--json", check=True).stdout)
    assert listed["source"] == "chat" and listed["choice"] == ["shout"]
    assert listed["persona_tools"] == ["calculator"]
    _, _, said = on_terminal(phome, "tools", "set", "-c", "chosen", "--reset")
    assert "as its personality's, else [tools] default" in said
    phome.run("ask", "-c", "chosen", "three", check=True)
    assert [offered(r) for r in completions(provider)] == [["calculator"], ["shout"], ["calculator"]]


def test_switching_the_personality_switches_the_tools(phome, provider):
    phome.run("persona", "set", "sw-a", "A.", "--tools", "calculator", check=True)
    phome.run("persona", "set", "sw-b", "B.", "--tools", "shout,calculator", check=True)
    phome.run("persona", "set", "sw-c", "C.", check=True)  # names no tools: [tools] default
    phome.run("persona", "set", "sw-d", "D.", "--tools", "none", check=True)
    phome.run("ask", "-c", "switch", "-P", "sw-a", "one", check=True)
    phome.run("ask", "-c", "switch", "-P", "sw-b", "two", check=True)
    phome.run("ask", "-c", "switch", "three", check=True)  # the chat stays on sw-b
    phome.run("ask", "-c", "switch", "-P", "sw-c", "four", check=True)
    phome.run("ask", "-c", "switch", "-P", "sw-d", "five", check=True)
    phome.run("chat", "use", "switch", "--persona", "sw-a", check=True)
    phome.run("ask", "-c", "switch", "six", check=True)
    assert [offered(r) for r in completions(provider)] == [
        ["calculator"], ["shout", "calculator"], ["shout", "calculator"], ["current_time"], [], ["calculator"]]
    systems = [r.json["messages"][0]["content"] for r in completions(provider)]
    assert systems == ["A.", "B.", "B.", "C.", "D.", "A."]


def test_unknown_tool_is_refused_at_set_time_and_nothing_is_written(phome, provider):
    before = phome.run("persona", "list", "--json", check=True).stdout
    out = phome.run("persona", "set", "ghost", "Boo.", "--tools", "calculator,telepathy")
    assert out.returncode == 2
    assert "personality 'ghost': unknown tool 'telepathy'" in out.stderr and "calculator" in out.stderr
    assert "nothing saved" in out.stderr
    assert phome.run("persona", "show", "ghost").returncode == 4
    # An existing personality keeps its prompt, tools and time stamp.
    phome.run("persona", "set", "keeper", "Keep me.", "--tools", "calculator", check=True)
    kept = persona_json(phome, "keeper")
    for bad in (["--tools", "telepathy"], ["--tools", "all,calculator"], ["--tools", ","]):
        out = phome.run("persona", "set", "keeper", "Changed.", *bad)
        assert out.returncode == 2, (bad, out.stderr)
    assert persona_json(phome, "keeper") == kept
    after = {p["name"]: p for p in json.loads(phome.run("persona", "list", "--json", check=True).stdout)}
    assert "ghost" not in after and set(after) == {p["name"] for p in json.loads(before)} | {"keeper"}
    assert completions(provider) == []


def test_tools_alone_change_and_a_prompt_alone_keeps_them(phome, provider):
    phome.run("persona", "set", "tidy", "Be tidy.", check=True)
    assert persona_json(phome, "tidy")["tools"] is None
    out = phome.run("persona", "set", "tidy", "--tools", "calculator", "--tools", "shout")
    assert out.returncode == 0, out.stderr
    shown = persona_json(phome, "tidy")
    assert (shown["prompt"], shown["tools"]) == ("Be tidy.", ["calculator", "shout"])
    phome.run("persona", "set", "tidy", "Be very tidy.", check=True)
    assert persona_json(phome, "tidy")["tools"] == ["calculator", "shout"]
    phome.run("persona", "set", "tidy", "--tools", "all", check=True)
    assert persona_json(phome, "tidy")["tools"] == ["all"]
    phome.run("persona", "set", "tidy", "--tools", "default", check=True)
    assert persona_json(phome, "tidy")["tools"] is None
    assert persona_json(phome, "tidy")["prompt"] == "Be very tidy."
    # tools alone for a personality that does not exist: not found, nothing made
    out = phome.run("persona", "set", "nobody-yet", "--tools", "calculator")
    assert out.returncode == 4 and "give its prompt too" in out.stderr
    assert phome.run("persona", "show", "nobody-yet").returncode == 4


def test_list_and_show_display_the_tools(phome, provider):
    phome.run("persona", "set", "shown", "Shown.", "--tools", "shout,calculator", check=True)
    code, out, said = on_terminal(phome, "persona", "show", "shown")
    assert (code, out) == (0, "Shown.\n")
    assert "[shown · own · tools: shout, calculator · used by 0 chats]" in said
    rows = {line.split("\t")[0]: line.split("\t")
            for line in phome.run("persona", "list", check=True).stdout.splitlines()}
    assert rows["shown"] == ["shown", "own", "Shown.", "shout, calculator"]
    assert rows["researcher"][3] == "search_knowledge, fetch_url" and rows["coder"][3] == "-"


def test_the_builtin_researcher_brings_its_tools_and_an_override_keeps_them(phome, provider):
    shown = persona_json(phome, "researcher")
    assert shown["builtin"] is True and shown["tools"] == ["search_knowledge", "fetch_url"]
    assert "search_knowledge" in shown["prompt"] and not shown["prompt"].startswith("---")
    phome.run("ask", "-c", "research", "-P", "researcher", "what is WAL?", check=True)
    assert offered(completions(provider)[-1]) == ["search_knowledge", "fetch_url"]
    # overriding the prompt keeps the built-in's tools; the tools alone keep the prompt
    phome.run("persona", "set", "researcher", "My own researcher.", check=True)
    assert persona_json(phome, "researcher")["tools"] == ["search_knowledge", "fetch_url"]
    phome.run("persona", "set", "researcher", "--tools", "calculator", check=True)
    shown = persona_json(phome, "researcher")
    assert (shown["prompt"], shown["tools"], shown["overrides_builtin"]) == (
        "My own researcher.", ["calculator"], True)
    phome.run("ask", "-c", "research", "again", check=True)
    assert offered(completions(provider)[-1]) == ["calculator"]
    phome.run("persona", "delete", "researcher", check=True)  # the built-in comes back, tools too
    assert persona_json(phome, "researcher")["tools"] == ["search_knowledge", "fetch_url"]


def test_persona_edit_keeps_the_tools(phome, provider):
    phome.run("persona", "set", "edited", "Before.", "--tools", "calculator", check=True)
    script = phome.root / "editor.py"
    script.write_text("import sys\nopen(sys.argv[1], 'w').write('After.\\n')\n")
    env = {**phome.env, "EDITOR": f"{sys.executable} {script}"}
    saved, phome.env = phome.env, env
    try:
        out = phome.run("persona", "edit", "edited")
    finally:
        phome.env = saved
    assert out.returncode == 0, out.stderr
    shown = persona_json(phome, "edited")
    assert (shown["prompt"], shown["tools"]) == ("After.", ["calculator"])


def test_a_one_off_system_prompt_keeps_the_personalitys_tools(phome, provider):
    phome.run("persona", "set", "sys-kept", "Persona.", "--tools", "calculator", check=True)
    phome.run("ask", "-c", "one-off", "-P", "sys-kept", "-s", "Just this once.", "hi", check=True)
    request = completions(provider)[-1]
    assert request.json["messages"][0] == {"role": "system", "content": "Just this once."}
    assert offered(request) == ["calculator"]


def test_chat_tokens_counts_the_personalitys_tool_definitions(phome, provider):
    phome.run("persona", "set", "counted", "Counted.", "--tools", "calculator", check=True)
    phome.run("ask", "-c", "counted", "-P", "counted", "hi", check=True)
    out = phome.run("chat", "tokens", "counted", "--json", check=True)
    assert "tools: calculator" in out.stdout


def test_export_and_import_carry_the_personalitys_tools(phome, provider):
    phome.run("persona", "set", "porter", "Carry things.", "--tools", "calculator", check=True)
    phome.run("ask", "-c", "moving", "-P", "porter", "hi", check=True)
    exported = phome.run("chat", "export", "moving", check=True).stdout
    data = json.loads(exported)
    assert data["personality"] == {"name": "porter", "prompt": "Carry things.", "tools": ["calculator"]}
    assert data["chat"]["tools"] is None  # the chat has no choice of its own

    phome.run("profile", "create", "elsewhere-pt", check=True)
    out = phome.run("--profile", "elsewhere-pt", "chat", "import", "-", input=exported)
    assert out.returncode == 0, out.stderr
    shown = persona_json(phome, "porter", "--profile", "elsewhere-pt")
    assert (shown["prompt"], shown["tools"]) == ("Carry things.", ["calculator"])
    assert phome.run("--profile", "elsewhere-pt", "chat", "export", "moving", check=True).stdout == exported
    phome.run("--profile", "elsewhere-pt", "ask", "-c", "moving", "again", check=True)
    assert offered(completions(provider)[-1]) == ["calculator"]

    # an export made before personalities had tools still imports: the personality names none
    del data["personality"]["tools"]
    data["personality"]["name"] = data["chat"]["personality"] = "old-porter"
    out = phome.run("--profile", "elsewhere-pt", "chat", "import", "-", "--name", "old-moving", input=json.dumps(data))
    assert out.returncode == 0, out.stderr
    assert persona_json(phome, "old-porter", "--profile", "elsewhere-pt")["tools"] is None
    phome.run("--profile", "elsewhere-pt", "ask", "-c", "old-moving", "and you?", check=True)
    assert offered(completions(provider)[-1]) == ["current_time"]  # [tools] default
