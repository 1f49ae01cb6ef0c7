"""LaTeX math → Unicode, inline and display, in replies (display only)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.render import MarkdownStream, Theme, latex_to_unicode, plain_text, render_markdown
from chatthy.render.latex import LatexError

PLAIN = Theme.plain()


@pytest.mark.parametrize("source, expected", [
    (r"\alpha + \beta", "α + β"),
    (r"x^2 + y_i", "x² + yᵢ"),
    (r"\sum_{i=1}^{n} x_i^2 \leq \frac{a+b}{2}", "∑ᵢ₌₁ⁿ xᵢ² ≤ (a+b)/2"),
    (r"\frac12", "½"),
    (r"e^{i\pi} + 1 = 0", "e^(iπ) + 1 = 0"),
    (r"\sqrt{x^2+1}", "√(x²+1)"),
    (r"\sqrt[3]{x}", "∛x"),
    (r"\mathbb{R}^n \to \mathbb{N}", "ℝⁿ → ℕ"),
    (r"\mathcal{O}(n \log n)", "𝒪(n log n)"),
    (r"\hat{x} \cdot \vec{v}", "x̂ · v⃗"),
    (r"\not\in \neq \infty", "∉ ≠ ∞"),
    (r"\text{if } x > 0", "if x > 0"),
    (r"\left( \frac{a}{b} \right)", "( a/b )"),
    (r"\sin\theta + \cos^2 x", "sin θ + cos² x"),
    (r"\binom{n}{k}", "C(n, k)"),
    (r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}", "(a b; c d)"),
    (r"\forall x \in A, \exists y", "∀ x ∈ A, ∃ y"),
    (r"\unknownthing{x}", r"\unknownthing{x}"),
])
def test_inline(source, expected):
    assert latex_to_unicode(source) == expected


def test_display_lays_out_rows():
    assert latex_to_unicode(r"A = \begin{pmatrix}1&22\\333&4\end{pmatrix}", display=True).split("\n") == [
        "A = ⎛ 1    22 ⎞", "    ⎝ 333  4  ⎠"]
    assert latex_to_unicode(r"|x| = \begin{cases} x & x \ge 0 \\ -x & x < 0 \end{cases}",
                            display=True).split("\n") == ["|x| = ⎧ x   x ≥ 0", "      ⎩ −x  x < 0"]
    assert latex_to_unicode(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", display=True) == "a = b\nc = d"


def test_unparseable_math_is_refused_and_shown_as_written():
    with pytest.raises(LatexError):
        latex_to_unicode(r"\frac{a")
    assert plain_text(render_markdown(r"bad $\frac{a$ here", PLAIN)) == r"bad \frac{a here"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("ab12{}^_\\$ &[]") + [r"\frac", r"\alpha", r"\begin{cases}",
                                                            r"\end{cases}", r"\sqrt", r"\\", r"\left(", "%", r"\not"]),
                max_size=40).map("".join))
def test_never_crashes(source):
    try:
        latex_to_unicode(source)
        latex_to_unicode(source, display=True)
    except LatexError:
        pass


@pytest.mark.parametrize("text, shown", [
    (r"Euler: $e^{i\pi} = -1$.", "Euler: e^(iπ) = −1."),
    (r"Also \(x_1\) and \[y^2\] inline.", "Also x₁ and y² inline."),
    (r"Not math: $5 and $10; \$x\$.", r"Not math: $5 and $10; \$x\$."),
    ("$$E = mc^2$$", "    E = mc²"),
    ("\\[\n\\alpha\n\\]", "    α"),
    ("$$\n\\frac{1}{2}\n$$", "    ½"),
    ("\\begin{align}\na &= 1 \\\\\nb &= 2\n\\end{align}", "    a = 1\n    b = 2"),
    ("`$x$` in code stays", "`$x$` in code stays"),
])
def test_in_text_plain(text, shown):
    assert plain_text(render_markdown(text, PLAIN)) == shown


def test_code_is_never_converted_and_latex_can_be_off():
    text = "```\n$x^2$\n```\n$y^2$"
    assert plain_text(render_markdown(text, PLAIN)).split("\n") == ["```", "$x^2$", "```", "y²"]
    assert plain_text(render_markdown(text, PLAIN, latex=False)).split("\n") == ["```", "$x^2$", "```", "$y^2$"]


def test_a_math_block_streams_as_source_then_becomes_unicode():
    md = MarkdownStream(PLAIN)
    assert md.feed("$$\n\\alpha +") == []
    assert [t for row in md.tail() for _, t in row] == ["\\alpha +"]  # shown as written while open
    assert md.feed(" \\beta\n$$\n") == [[("", "    α + β")]]


def test_an_unclosed_math_block_is_shown_as_written():
    md = MarkdownStream(PLAIN)
    rows = md.feed("$$\n\\alpha\nno end") + md.finish()
    assert plain_text(rows) == "$$\n\\alpha\nno end"
