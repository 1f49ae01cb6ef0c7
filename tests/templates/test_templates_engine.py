"""The template engine: file format, one-pass substitution, clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatthy import templates
from chatthy.errors import BadRequest, ConfigError, Conflict, NotFound

REQUIRED_BUILTINS = {
    "summary-bullets", "summary-paragraph", "summary-topics", "summary-keypoints", "summary-tldr",
    "explain", "review", "translate", "extract-json", "critique", "improve-writing", "rag-answer",
}


def test_every_builtin_parses_and_has_a_description(tmp_path):
    found, problems = templates.list_all(tmp_path)
    assert problems == []
    names = {t.name for t in found}
    assert REQUIRED_BUILTINS <= names
    for t in found:
        assert t.origin == "builtin" and t.description and t.takes_input


def test_header_fields(tmp_path):
    t = templates.parse("x", '+++\ndescription = "Do X"\nsystem = """Line one\nline two"""\n'
                             'model = "m1"\nprovider = "p1"\n[vars]\nn = 3\nstyle = "terse"\n+++\n'
                             "Be {{style}}, {{n}} points:\n{{input}}\n")
    assert (t.description, t.system, t.model, t.provider) == ("Do X", "Line one\nline two", "m1", "p1")
    assert t.defaults == {"n": "3", "style": "terse"}
    assert t.variables == ["style", "n"]
    assert templates.render(t, input="TEXT") == "Be terse, 3 points:\nTEXT\n"
    assert templates.render(t, input="TEXT", variables={"n": "5"}) == "Be terse, 5 points:\nTEXT\n"


def test_a_file_without_header_is_all_body():
    t = templates.parse("plain", "Just {{input}}, please.")
    assert t.description == "" and t.system is None
    assert templates.render(t, input="this") == "Just this, please.\n"


def test_other_braces_are_left_alone():
    body = ('Code: def f(): return {"a": {b}}\nJinja: {{ user.name }} {{ x | upper }} {% if y %}\n'
            "Empty: {{}} and {{ 9lives }}\nInput: {{ input }}")
    t = templates.parse("code", body)
    assert t.variables == []
    out = templates.render(t, input="X")
    assert out == body.replace("{{ input }}", "X") + "\n"


def test_values_are_never_scanned_again():
    t = templates.parse("once", "A={{a}} I={{input}}")
    out = templates.render(t, input="{{a}} and {{input}}", variables={"a": "{{input}}"})
    assert out == "A={{input}} I={{a}} and {{input}}\n"


def test_unknown_and_missing_variables_are_listed():
    t = templates.parse("t", "{{input}} in {{language}} for {{audience}}")
    with pytest.raises(BadRequest) as err:
        templates.render(t, input="x")
    assert str(err.value) == "template 't' needs language, audience: give -v language=… -v audience=…"
    with pytest.raises(BadRequest) as err:
        templates.render(t, input="x", variables={"language": "de", "audience": "kids", "tone": "x", "lang": "y"})
    assert str(err.value) == "template 't' has no variables lang, tone (its variables: language, audience)"


def test_input_required_or_refused():
    with pytest.raises(BadRequest, match="needs input: pipe text on stdin"):
        templates.render(templates.parse("t", "Summarise {{input}}"), input="  \n")
    with pytest.raises(BadRequest, match="takes no input"):
        templates.render(templates.parse("t", "Tell me a joke."), input="extra")
    assert templates.render(templates.parse("t", "Tell me a joke."), input=None) == "Tell me a joke.\n"


@pytest.mark.parametrize("text, message", [
    ("+++\ndescription = 'x'\nBody", "never closed"),
    ("+++\ndescription = \n+++\nBody", "invalid TOML"),
    ("+++\nmodle = 'x'\n+++\nBody", "unknown header field 'modle'"),
    ("+++\nsystem = 3\n+++\nBody", "system must be a string"),
    ("+++\ndescription = 'x'\n+++\n\n", "has no body"),
])
def test_bad_files_name_the_problem(text, message):
    with pytest.raises(ConfigError, match=message):
        templates.parse("bad", text, path="/cfg/templates/bad.md")


def test_user_templates_override_and_add(tmp_path):
    folder = templates.user_dir(tmp_path)
    folder.mkdir()
    (folder / "translate.md").write_text("+++\ndescription = \"Mine\"\n+++\nTo French: {{input}}\n")
    (folder / "haiku.md").write_text("A haiku about {{input}}")
    (folder / "broken.md").write_text("+++\nnope\n")
    (folder / "not a template.txt").write_text("ignored")
    mine = templates.load("translate", tmp_path)
    assert mine.origin == "user" and mine.overrides_builtin and mine.description == "Mine"
    assert templates.load("haiku", tmp_path).origin == "user"
    found, problems = templates.list_all(tmp_path)
    assert {"haiku", "translate", "summary-bullets"} <= {t.name for t in found}
    assert len(problems) == 1 and "broken.md" in problems[0]
    with pytest.raises(NotFound, match="no template named 'nope'"):
        templates.load("nope", tmp_path)


def test_create_refuses_duplicates_and_bad_names(tmp_path):
    path = templates.create("mine", tmp_path, templates.skeleton("Mine", "Be brief."))
    assert templates.load("mine", tmp_path).system == "Be brief."
    assert path == templates.user_dir(tmp_path) / "mine.md"
    with pytest.raises(Conflict, match="already exists"):
        templates.create("mine", tmp_path, "x {{input}}")
    for bad in ("../escape", "a/b", "", ".hidden", "x" * 65):
        with pytest.raises(BadRequest, match="invalid template name"):
            templates.create(bad, tmp_path, "x")


def test_assignments():
    assert templates.parse_assignments(("a=1", "b = x=y", "c=")) == {"a": "1", "b": " x=y", "c": ""}
    for bad in ("noequals", "1a=x", "=x"):
        with pytest.raises(BadRequest, match="use -v name=value"):
            templates.parse_assignments((bad,))
    with pytest.raises(BadRequest, match="'input' is not a variable"):
        templates.parse_assignments(("input=x",))


@given(prefix=st.text(max_size=50), value=st.text(max_size=50), suffix=st.text(max_size=50))
def test_substitution_is_exact_for_any_text(prefix, value, suffix):
    # Whatever the surrounding text (braces included), only the placeholder changes.
    body = prefix.replace("{{", "{ {") + "{{input}}" + suffix.replace("{{", "{ {")
    t = templates.Template(name="p", body=body)
    if not value.strip():
        return
    assert templates.render(t, input=value) == body.replace("{{input}}", value, 1)
