"""chatthy.wire.json_codec gives exactly what the json package gives, without importing it."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.wire import json_codec
from chatthy.wire.envelope import _no_duplicates, _refuse_constant

# Every kind of JSON value, including the awkward ones: control characters,
# lone surrogates, huge ints, floats at the edges, deep nesting.
scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**200, max_value=2**200)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text()
           | st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3000)))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
                      max_leaves=40)
SEPARATORS = [(", ", ": "), (",", ":")]


@settings(max_examples=500, deadline=None)
@given(values, st.sampled_from(SEPARATORS), st.booleans())
def test_dumps_equals_json_dumps(value, separators, ensure_ascii):
    expected = json.dumps(value, separators=separators, ensure_ascii=ensure_ascii, allow_nan=False)
    assert json_codec.dumps(value, separators=separators, ensure_ascii=ensure_ascii, allow_nan=False) == expected


@settings(max_examples=500, deadline=None)
@given(values, st.sampled_from(SEPARATORS), st.booleans(), st.sampled_from(["", " ", "\n\t ", "\r\n"]))
def test_loads_equals_json_loads(value, separators, ensure_ascii, pad):
    text = pad + json.dumps(value, separators=separators, ensure_ascii=ensure_ascii) + pad
    assert json_codec.loads(text) == json.loads(text)
    assert json_codec.loads(text, object_pairs_hook=_no_duplicates,
                            parse_constant=_refuse_constant) == json.loads(text)


def outcome(fn, text, **kw):
    try:
        return ("ok", repr(fn(text, **kw)))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        return (type(exc).__name__, str(exc))


# Near-JSON: valid documents cut, spliced and sprinkled with junk.
broken = st.builds(lambda doc, cut, junk, at: (doc[:cut] + junk + doc[cut:])[: max(at, 0) or None],
                   values.map(json.dumps), st.integers(0, 60), st.sampled_from(["", ",", "]", "}", "x", "\"", "\\",
                   "NaN", "-", "0", "\x00", " 1", "{}", "\ud800", "\x0b", "\x0c", "\xa0", "\u2028"]),
                   st.integers(-1, 80))


@settings(max_examples=1000, deadline=None)
@given(broken | st.text(max_size=30))
def test_every_outcome_and_error_message_equals_json(text):
    assert outcome(json_codec.loads, text) == outcome(json.loads, text)
    hooks = {"object_pairs_hook": _no_duplicates, "parse_constant": _refuse_constant}
    assert outcome(json_codec.loads, text, **hooks) == outcome(json.loads, text, **hooks)


@pytest.mark.parametrize("text, expected", [
    ("", "Expecting value: line 1 column 1 (char 0)"),
    ("  ", "Expecting value: line 1 column 3 (char 2)"),
    ("[1] x", "Extra data: line 1 column 5 (char 4)"),
    ('{"a":1,}', "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"),
    ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    ("[NaN]", "NaN is not valid JSON"),
    ("\x0b1", "Expecting value: line 1 column 1 (char 0)"),  # not JSON whitespace, though str.strip's
    ("1\x0c", "Extra data: line 1 column 2 (char 1)"),
])
def test_the_wire_refusals_read_as_before(text, expected):
    with pytest.raises(ValueError) as err:
        json_codec.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    assert str(err.value) == expected


def test_constants_and_refusals_match_json():
    assert math.isinf(json_codec.loads("-Infinity")) and math.isnan(json_codec.loads("NaN"))
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        json_codec.dumps(float("nan"), allow_nan=False)
    assert json_codec.dumps(float("inf")) == "Infinity"
    with pytest.raises(TypeError, match="Object of type bytes is not JSON serializable"):
        json_codec.dumps({"a": b"x"})
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference detected"):
        json_codec.dumps(loop)


def test_importing_it_imports_neither_json_nor_re():
    code = ("import sys, chatthy.wire.json_codec as j; j.loads(j.dumps({'a': [1, 'é']})); "
            "print(sorted(m for m in ('json', 're', 'enum') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
