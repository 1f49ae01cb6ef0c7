"""Built-in personas' front matter, and a personality's tools in the export format."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.errors import BadRequest
from chatthy.server.chat_format import ImageLimits, export_json, parse_export
from chatthy.server.personalities import BuiltinPersona, builtin_personas, parse_builtin
from chatthy.store.models import Chat
from chatthy.tools.settings import BUILTIN_NAMES

LIMITS = ImageLimits(1024 * 1024, 4)
CHAT = Chat(1, 1, "c", "researcher", None, None, "2025-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z")


@pytest.mark.parametrize("text,expected", [
    ("Just a prompt.\n", BuiltinPersona("Just a prompt.")),
    ("---\ntools: a, b\n---\nPrompt.\n", BuiltinPersona("Prompt.", ["a", "b"])),
    ("---\ntools: [a, 'b']\n---\n\nPrompt\nover lines.\n", BuiltinPersona("Prompt\nover lines.", ["a", "b"])),
    ("---\n# a comment\ntools: all\n---\nP", BuiltinPersona("P", ["all"])),
    ("---\ntools: []\n---\nP", BuiltinPersona("P", None)),
    ("---\n---\nP", BuiltinPersona("P", None)),
    ("Text with\n---\nrules inside.", BuiltinPersona("Text with\n---\nrules inside.")),
])
def test_front_matter(text, expected):
    assert parse_builtin("x", text) == expected


@pytest.mark.parametrize("text,message", [
    ("---\ntools: a\nPrompt without an end", "not closed"),
    ("---\nmodel: gpt\n---\nP", "unknown front matter line"),
    ("---\njust words\n---\nP", "unknown front matter line"),
])
def test_bad_front_matter_is_a_packaging_error(text, message):
    with pytest.raises(ValueError, match=message):
        parse_builtin("x", text)


def test_every_builtin_parses_and_names_only_builtin_tools():
    personas = builtin_personas()
    assert {"default", "coder", "concise", "editor", "shell", "tutor", "researcher"} <= set(personas)
    for name, persona in personas.items():
        assert not persona.prompt.startswith("---"), name
        for tool in persona.tools or ():
            assert tool in BUILTIN_NAMES or tool in ("all", "none"), (name, tool)
    assert personas["researcher"].tools == ["search_knowledge", "fetch_url"]
    assert personas["coder"].tools is None and personas["default"] == BuiltinPersona("")


def test_export_carries_the_personalitys_tools_only_when_it_has_some():
    with_tools = json.loads(export_json(CHAT, [], ("researcher", "Look it up.", ["fetch_url"])))
    assert with_tools["personality"] == {"name": "researcher", "prompt": "Look it up.", "tools": ["fetch_url"]}
    assert parse_export(json.dumps(with_tools), LIMITS).persona_tools == ["fetch_url"]
    # without tools the export is what it was before personalities had any (and older chatthys read it)
    for persona in (("researcher", "Look it up."), ("researcher", "Look it up.", None)):
        plain = json.loads(export_json(CHAT, [], persona))
        assert plain["personality"] == {"name": "researcher", "prompt": "Look it up."}
        imported = parse_export(json.dumps(plain), LIMITS)
        assert (imported.persona_prompt, imported.persona_tools) == ("Look it up.", None)


@pytest.mark.parametrize("tools", [[], "fetch_url", [1], ["two words"], ["a" * 65]])
def test_bad_personality_tools_in_an_export_are_refused(tools):
    data = json.loads(export_json(CHAT, [], ("researcher", "P", ["fetch_url"])))
    data["personality"]["tools"] = tools
    with pytest.raises(BadRequest, match="personality.tools"):
        parse_export(json.dumps(data), LIMITS)


TOOL = st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.none() | st.lists(TOOL, min_size=1, max_size=4))
def test_persona_tools_round_trip_byte_for_byte(prompt, tools):
    text = export_json(CHAT, [], ("researcher", prompt, tools))
    imported = parse_export(text, LIMITS)
    assert (imported.persona_prompt, imported.persona_tools) == (prompt, tools)
    again = export_json(CHAT, [], (imported.personality, imported.persona_prompt, imported.persona_tools))
    assert again == text
