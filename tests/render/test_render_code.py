"""Code fences: highlighted per language, also while a line is still arriving,
and line-at-a-time lexing agrees with lexing the whole block."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.lexers import get_lexer_by_name
from pygments.token import Keyword

from chatthy.render import MarkdownStream, Theme
from chatthy.render.highlight import CodeHighlighter, _resumable, language_of, lexer_for

THEME = Theme.from_style("monokai", truecolor=False)
KEYWORD = THEME.token(Keyword)

SAMPLES = {
    "python": 'import os\n\ndef f(x):\n    """Doc\n    string."""\n    return x + 1  # c\n\nclass A: pass\n',
    "rust": 'fn main() {\n    /* a\n       block */\n    let s = "multi\nline";\n    println!("{}", s);\n}\n',
    "c": '#include <stdio.h>\n/* comment\n   more */\nint main(void) { return 0; }\n',
    "javascript": 'const a = `tmpl\n${x}`;\nfunction f() { return /re/g; }\n',
    "bash": 'for i in 1 2; do\n  echo "$i" # c\ndone\n',
    "sql": "SELECT a, b\nFROM t -- c\nWHERE x = 'y';\n",
    "ruby": "def f\n  puts <<~EOS\n    here\n  EOS\nend\n",
    "json": '{\n  "a": [1, 2.5, true, null],\n  "b": "c"\n}\n',
}


def reference_rows(lang: str, code: str) -> list[list[tuple[str, str]]]:
    """What Pygments gives for the whole block at once, cut into lines."""
    lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    rows: list[list[tuple[str, str]]] = [[]]
    for _, ttype, value in lexer.get_tokens_unprocessed(code):
        for n, piece in enumerate(value.split("\n")):
            if n:
                rows.append([])
            if piece:
                sgr = THEME.token(ttype) if "Error" not in str(ttype) else ""
                row = rows[-1]
                if row and row[-1][0] == sgr:
                    row[-1] = (sgr, row[-1][1] + piece)
                else:
                    row.append((sgr, piece))
    return rows[:-1] if code.endswith("\n") else rows


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_line_at_a_time_matches_lexing_the_block_so_far(lang):
    """Each line looks as Pygments colours it knowing the block up to that line
    (a streamed line cannot know what follows: a heredoc's end, say)."""
    code = SAMPLES[lang]
    lines = code.split("\n")[:-1]
    hl = CodeHighlighter(lang, THEME)
    for n, line in enumerate(lines):
        so_far = "\n".join(lines[: n + 1]) + "\n"
        assert hl.line(line) == reference_rows(lang, so_far)[n], (lang, n, line)


@pytest.mark.parametrize("lang", sorted(set(SAMPLES) - {"ruby"}))
def test_and_mostly_like_the_whole_block(lang):
    code = SAMPLES[lang]
    hl = CodeHighlighter(lang, THEME)
    assert [hl.line(line) for line in code.split("\n")[:-1]] == reference_rows(lang, code)


def test_most_languages_are_lexed_incrementally():
    for lang in ("python", "rust", "c", "cpp", "javascript", "bash", "sql", "go", "java", "html"):
        assert _resumable(lexer_for(lang)), lang
    assert not _resumable(lexer_for("ruby"))  # ExtendedRegexLexer: re-lexed, still right (above)


@settings(max_examples=60, deadline=None)
@given(lang=st.sampled_from(sorted(SAMPLES)), cuts=st.lists(st.integers(0, 200), max_size=25))
def test_fences_stream_to_the_same_highlighting_at_any_split(lang, cuts):
    doc = f"text\n```{lang}\n{SAMPLES[lang]}```\nafter\n"
    whole = MarkdownStream(THEME)
    expected = whole.feed(doc) + whole.finish()
    md = MarkdownStream(THEME)
    rows, last = [], 0
    for cut in sorted({c for c in cuts if c <= len(doc)}) + [len(doc)]:
        rows += md.feed(doc[last:cut])
        last = cut
    assert rows + md.finish() == expected
    assert any(sgr for row in expected for sgr, _ in row if sgr != THEME.fence)  # really highlighted


def test_each_language_gets_its_own_highlighting():
    md = MarkdownStream(THEME)
    rows = md.feed("```python\ndef f(): pass\n```\n```rust\nfn f() {}\n```\n```\ndef fn\n```\n") + md.finish()
    flat = [seg for row in rows for seg in row]
    assert (KEYWORD, "def") in flat  # python's def
    assert (KEYWORD, "fn") in flat   # rust's fn
    assert ("", "def fn") in flat    # no language: not highlighted


def test_a_line_still_arriving_is_highlighted_already():
    md = MarkdownStream(THEME)
    committed = md.feed("```python\nimport os\n    return")
    assert [t for _, t in committed[1]] == ["import", " os"] and committed[1][0][0] != ""
    assert (KEYWORD, "return") in md.tail()[0]  # before its line is complete


def test_fence_info_strings():
    assert language_of("python title='x.py'") == "python"
    assert language_of("{.rust}") == "rust"
    assert language_of("c++") == "cpp"
    assert language_of("") == ""
    assert lexer_for("no-such-language") is None


def test_unknown_language_and_plain_theme_are_not_coloured():
    md = MarkdownStream(Theme.plain(), width=None)
    rows = md.feed("```python\ndef f(): pass\n```\n") + md.finish()
    assert all(sgr == "" for row in rows for sgr, _ in row)
    assert [t for row in rows for _, t in row] == ["```python", "def f(): pass", "```"]


def test_indented_fence_in_a_list_strips_its_indent():
    md = MarkdownStream(THEME)
    rows = md.feed("- item\n\n   ```python\n   x = 1\n   ```\n") + md.finish()
    code = "".join(t for t in (seg[1] for seg in rows[3]))
    assert code == "x = 1"
