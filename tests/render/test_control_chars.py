"""One neutraliser for the CLI and the renderer, equal to its regex specification."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.cli.output import neutralise as cli_neutralise
from chatthy.control_chars import _visible, has_controls, neutralise
from chatthy.render.sanitise import neutralise as render_neutralise

# The specification, as it was written with a regex before start-up time mattered.
SPEC = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def spec_visible(match: re.Match) -> str:
    # How each is shown is pinned by the example test below; this one pins which.
    return _visible(ord(match.group()))


near_controls = st.characters(min_codepoint=0, max_codepoint=0x2100) | st.sampled_from(
    [chr(c) for c in range(0x2020, 0x2070)])


@settings(max_examples=2000, deadline=None)
@given(st.text(near_controls, max_size=40) | st.text(max_size=40))
def test_neutralise_matches_the_specification(text):
    expected = SPEC.sub(spec_visible, text)
    assert neutralise(text) == expected
    assert has_controls(text) == (SPEC.search(text) is not None)
    assert not has_controls(neutralise(text))  # what it prints can never act


def test_the_cli_and_the_renderer_share_it():
    assert cli_neutralise is neutralise and render_neutralise is neutralise
    assert neutralise("a\tb\nc\x1b[2J\x07\x7f\x9b\u202eevil\x00\u2069") == "a\tb\nc^[[2J^G^?\\x9b<U+202E>evil^@<U+2069>"
