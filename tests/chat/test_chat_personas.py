"""Personalities and profiles, end to end: the system prompt the provider receives."""

from __future__ import annotations

import json
import sys
from importlib.resources import files

from tests.fakes.replies import Text

CODER = (files("chatthy") / "data" / "personas" / "coder.md").read_text(encoding="utf-8").strip()


def sent(fake) -> list[dict]:
    return fake.requests[-1].json["messages"]


def chats_json(home, *args):
    return json.loads(home.run(*args, "chat", "list", "--json", check=True).stdout)


def with_editor(home, text: str) -> dict:
    """An environment whose $EDITOR replaces the edited file's content with ``text``."""
    script = home.root / "editor.py"
    script.write_text(f"import sys\nopen(sys.argv[1], 'w').write({text!r})\n")
    return {**home.env, "EDITOR": f"{sys.executable} {script}"}


def run_env(home, env, *args, input=None):
    saved = home.env
    home.env = env
    try:
        return home.run(*args, input=input)
    finally:
        home.env = saved


def test_builtins_are_listed_and_default_sends_no_system_prompt(mhome, fresh):
    personas = {p["name"]: p for p in json.loads(mhome.run("persona", "list", "--json", check=True).stdout)}
    assert {"default", "coder", "concise", "tutor", "editor", "shell"} <= set(personas)
    assert personas["default"]["prompt"] == "" and personas["default"]["builtin"] is True
    assert personas["coder"]["prompt"] == CODER
    mhome.run("ask", "-c", "plain", "hi", check=True)
    assert sent(fresh) == [{"role": "user", "content": "hi"}]


def test_ask_persona_switches_the_chat_for_good(mhome, fresh):
    mhome.run("ask", "-c", "pc", "-P", "coder", "hi", check=True)
    assert sent(fresh) == [{"role": "system", "content": CODER}, {"role": "user", "content": "hi"}]
    fresh.script(Text(["second"]))
    mhome.run("ask", "-c", "pc", "again", check=True)  # no -P: the chat keeps coder
    assert sent(fresh) == [
        {"role": "system", "content": CODER},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "You said: hi"},
        {"role": "user", "content": "again"},
    ]
    assert [c["personality"] for c in chats_json(mhome) if c["name"] == "pc"] == ["coder"]
    # the Anthropic API gets it as its system field
    mhome.run("ask", "-c", "pa", "-p", "fakeant", "-P", "coder", "hi", check=True)
    body = fresh.requests[-1].json
    assert body["system"] in (CODER, [{"type": "text", "text": CODER}])


def test_own_persona_chat_use_switch_and_list_filter(mhome, fresh):
    mhome.run("persona", "set", "pirate", "Talk like a pirate.", check=True)
    mhome.run("ask", "-c", "pu", "hi", check=True)
    out = mhome.run("chat", "use", "pu", "--persona", "pirate")
    assert out.returncode == 0, out.stderr
    mhome.run("ask", "-c", "pu", "ahoy", check=True)
    assert sent(fresh)[0] == {"role": "system", "content": "Talk like a pirate."}
    assert [c["name"] for c in chats_json(mhome) if c["personality"] == "pirate"] == ["pu"]
    filtered = json.loads(mhome.run("chat", "list", "--persona", "pirate", "--json", check=True).stdout)
    assert [c["name"] for c in filtered] == ["pu"]
    defaults = json.loads(mhome.run("chat", "list", "--persona", "default", "--json", check=True).stdout)
    assert "pu" not in {c["name"] for c in defaults} and "plain" in {c["name"] for c in defaults}
    # -s replaces the personality for one message only
    mhome.run("ask", "-c", "pu", "-s", "One-off.", "x", check=True)
    assert sent(fresh)[0] == {"role": "system", "content": "One-off."}
    mhome.run("ask", "-c", "pu", "y", check=True)
    assert sent(fresh)[0] == {"role": "system", "content": "Talk like a pirate."}
    # back to the default: no system prompt
    mhome.run("chat", "use", "pu", "--persona", "", check=True)
    mhome.run("ask", "-c", "pu", "z", check=True)
    assert sent(fresh)[0]["role"] == "user"


def test_unknown_persona_is_refused_before_anything_is_written(mhome, fresh):
    out = mhome.run("ask", "-c", "ghostly", "-P", "nope", "hi")
    assert out.returncode == 4
    assert "personality 'nope' not found" in out.stderr and "persona set nope" in out.stderr
    assert "ghostly" not in {c["name"] for c in chats_json(mhome)}
    assert fresh.requests == []
    out = mhome.run("chat", "use", "plain", "--persona", "nope")
    assert out.returncode == 4
    out = mhome.run("chat", "use", "plain", "--provider", "nope")
    assert out.returncode == 4 and "unknown provider 'nope'" in out.stderr


def test_override_and_delete_builtin(mhome, fresh):
    mhome.run("persona", "set", "concise", "Shorter.", check=True)
    shown = json.loads(mhome.run("persona", "show", "concise", "--json", check=True).stdout)
    assert shown["prompt"] == "Shorter." and shown["builtin"] is False and shown["overrides_builtin"] is True
    mhome.run("ask", "-c", "pov", "-P", "concise", "hi", check=True)
    assert sent(fresh)[0] == {"role": "system", "content": "Shorter."}
    mhome.run("persona", "delete", "concise", check=True)  # the override goes, the built-in comes back
    shown = json.loads(mhome.run("persona", "show", "concise", "--json", check=True).stdout)
    assert shown["builtin"] is True and shown["prompt"].startswith("Answer as briefly")
    assert shown["chats"] == ["pov"]
    out = mhome.run("persona", "delete", "concise")
    assert out.returncode == 2 and "built in" in out.stderr


def test_delete_a_persona_in_use_needs_force(mhome, fresh):
    mhome.run("persona", "set", "temp", "Temporary.", check=True)
    mhome.run("ask", "-c", "pdel", "-P", "temp", "hi", check=True)
    out = mhome.run("persona", "delete", "temp")
    assert out.returncode == 8 and "'pdel'" in out.stderr and "--force" in out.stderr
    mhome.run("persona", "delete", "temp", "--force", check=True)
    assert [c["personality"] for c in chats_json(mhome) if c["name"] == "pdel"] == ["default"]
    mhome.run("ask", "-c", "pdel", "again", check=True)
    assert sent(fresh)[0]["role"] == "user"
    assert mhome.run("persona", "show", "temp").returncode == 4


def test_set_from_stdin_show_and_edit_in_editor(mhome, fresh):
    mhome.run("persona", "set", "piped", "-", input="From a pipe.\n", check=True)
    assert mhome.run("persona", "show", "piped", check=True).stdout == "From a pipe.\n"
    out = run_env(mhome, with_editor(mhome, "Edited in the editor.\n"), "persona", "edit", "piped")
    assert out.returncode == 0, out.stderr
    assert mhome.run("persona", "show", "piped", check=True).stdout == "Edited in the editor.\n"
    # a new personality can be written in the editor from scratch
    out = run_env(mhome, with_editor(mhome, "Brand new.\n"), "persona", "edit", "fresh-one")
    assert out.returncode == 0, out.stderr
    mhome.run("ask", "-c", "pedit", "-P", "fresh-one", "hi", check=True)
    assert sent(fresh)[0] == {"role": "system", "content": "Brand new."}


def test_profiles_separate_chats_and_personas(mhome, fresh):
    mhome.run("profile", "create", "work", check=True)
    out = mhome.run("profile", "create", "work")
    assert out.returncode == 8
    mhome.run("--profile", "work", "persona", "set", "default", "Answer in French.", check=True)
    mhome.run("--profile", "work", "ask", "-c", "w1", "hello", check=True)
    assert sent(fresh)[0] == {"role": "system", "content": "Answer in French."}
    # the default profile is untouched: its default personality is still empty
    mhome.run("ask", "-c", "d1", "hello", check=True)
    assert sent(fresh) == [{"role": "user", "content": "hello"}]
    assert "w1" not in {c["name"] for c in chats_json(mhome)}
    assert [c["name"] for c in chats_json(mhome, "--profile", "work")] == ["w1"]

    profiles = json.loads(mhome.run("profile", "list", "--json", check=True).stdout)
    by_name = {p["name"]: p for p in profiles}
    assert by_name["work"]["chats"] == 1 and by_name["work"]["personalities"] == 1
    assert by_name["default"]["current"] is True and by_name["work"]["current"] is False

    mhome.run("chat", "use", "d1", check=True)
    mhome.run("profile", "use", "work", check=True)
    assert [c["name"] for c in chats_json(mhome)] == ["w1"]  # remembered as current
    state = json.loads((mhome.state_dir / "client.json").read_text())
    assert state == {"profile": "work", "chat": None}  # the chat belonged to the other profile

    out = mhome.run("profile", "delete", "work")  # not a terminal: needs --yes
    assert out.returncode == 2 and "--yes" in out.stderr
    mhome.run("profile", "delete", "work", "--yes", check=True)
    assert json.loads((mhome.state_dir / "client.json").read_text())["profile"] == "default"
    assert "work" not in {p["name"] for p in json.loads(mhome.run("profile", "list", "--json").stdout)}
    out = mhome.run("--profile", "work", "chat", "list")
    assert out.returncode == 4 and "profile create work" in out.stderr
    assert mhome.run("profile", "delete", "default", "--yes").returncode == 2
