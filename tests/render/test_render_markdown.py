"""Markdown elements as the terminal shows them."""

from __future__ import annotations

from chatthy.render import MarkdownStream, Theme, neutralise, plain_text, render_markdown
from chatthy.render.inline import render_inline
from chatthy.render.theme import default_style_name, xterm256

THEME = Theme.from_style("monokai", truecolor=False)


def shown(text: str, width: int | None = None) -> list[str]:
    return plain_text(render_markdown(text, THEME, width=width)).split("\n")


def test_blocks():
    assert shown("# Title\n## Sub") == ["Title", "Sub"]
    assert shown("- a\n* b\n  + c\n1. one\n2) two") == ["• a", "• b", "  ◦ c", "1. one", "2) two"]
    assert shown("- [ ] todo\n- [x] done") == ["☐ todo", "☑ done"]
    assert shown("> quoted\n> > twice") == ["│ quoted", "│ │ twice"]
    assert shown("---", width=10) == ["─" * 10]
    assert shown("| a | b |\n|---|---|\n| 1 | 2 |") == ["│ a │ b │", "|---|---|", "│ 1 │ 2 │"]


def test_inline_styles():
    segs = render_inline("a **b** *c* `d` ~~e~~ [f](http://g) snake_case_word", THEME).segments
    assert segs == [("", "a "), ("1", "b"), ("", " "), ("3", "c"), ("", " "), (THEME.code, "d"), ("", " "),
                    ("9", "e"), ("", " "), (THEME.link, "f"), ("2", " (http://g)"), ("", " snake_case_word")]
    assert render_inline("2 * 3 * 4 and a_b_c", THEME).segments == [("", "2 * 3 * 4 and a_b_c")]
    assert render_inline(r"\*not\* \`x\`", THEME).segments == [("", "*not* `x`")]


def test_headings_and_emphasis_are_styled():
    rows = render_markdown("# Big **deal**", THEME)
    assert all("1" in sgr.split(";") for sgr, _ in rows[0])  # bold throughout
    assert any("4" in sgr.split(";") for sgr, _ in rows[0])  # h1 underlined


def test_words_wrap_with_hanging_indents():
    assert shown("- one two three four five six", width=12) == ["• one two", "  three four", "  five six"]
    assert shown("> alpha beta gamma delta", width=12) == ["│ alpha beta", "│ gamma", "│ delta"]
    assert shown("averyveryverylongword", width=10) == ["averyveryv", "erylongwor", "d"]
    assert shown("字字字字字字", width=9) == ["字字字字", "字字"]  # wide characters take two cells


def test_unresolved_openers_keep_a_long_line_in_the_tail():
    md = MarkdownStream(THEME, width=20)
    committed = md.feed("one two three four five six seven **eight nine ten eleven twelve")
    # "one two three four" could be final; nothing after the unmatched ** is
    assert plain_text(committed) == "one two three four"
    committed = md.feed(" thirteen**\n")
    assert "**" not in plain_text(committed)


def test_control_characters_are_shown_not_obeyed():
    rows = render_markdown("x\x1b[2J\x07\x9b31m\u202eevil", THEME)
    assert plain_text(rows) == "x^[[2J^G\\x9b31m<U+202E>evil"
    assert neutralise("tab\tand\nnewline") == "tab\tand\nnewline"
    assert plain_text(render_markdown("```\n\x1b]52;c;AAAA\x07\n```", THEME)).split("\n")[1] == "^[]52;c;AAAA^G"


def test_crlf_and_a_split_crlf():
    md = MarkdownStream(Theme.plain())
    rows = md.feed("a\r") + md.feed("\nb\r\n") + md.finish()
    assert plain_text(rows) == "a\nb"


def test_style_choice_follows_the_terminal_background():
    assert default_style_name({"CHATTHY_STYLE": "vim"}) == "vim"
    assert default_style_name({"COLORFGBG": "0;15"}) == "friendly"
    assert default_style_name({"COLORFGBG": "15;0"}) == "monokai"
    assert default_style_name({}) == "monokai"
    assert xterm256(0, 0, 0) == 16 and xterm256(255, 255, 255) == 231 and xterm256(128, 128, 128) == 244
    assert Theme.from_style("monokai", truecolor=True).code.startswith("38;2;")
