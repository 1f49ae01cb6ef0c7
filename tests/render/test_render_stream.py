"""Streaming equals rendering at once, whatever the split points; and the
terminal ends up showing exactly that (redraws included)."""

from __future__ import annotations

import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatthy.render import MarkdownStream, StreamRenderer, Theme, plain_text
from chatthy.render.markdown import render_markdown
from chatthy.render.stream import rows_to_ansi
from tests.render.vt import Screen

THEME = Theme.from_style("monokai", truecolor=False)

DOC = r"""# A heading with **bold**

Intro paragraph with `inline code`, *emphasis*, a [link](https://example.com/x) and math $\alpha^2 + \beta_i$,
which is long enough to be word-wrapped at narrow widths, and **a bold phrase that crosses a wrap point** too.

- a bullet with ~~strike~~
- [x] a done task
  1. nested and numbered

> a quote that is long enough to wrap around the narrow terminal at least once

```python
def add(a: int, b: int) -> int:
    '''Add two numbers.
    Over two lines.'''
    return a + b  # the sum
```

~~~rust
fn main() { println!("{}", 1 + 2); }
~~~

$$
\sum_{i=1}^{n} i = \frac{n(n+1)}{2}
$$

Price: $5 and $10 and \$20, never math.

| col | other |
|-----|-------|
| 1   | 2     |

---
"""


def stream_rows(text: str, cuts: list[int], **kw) -> list:
    md = MarkdownStream(THEME, **kw)
    rows, last = [], 0
    for cut in sorted(set(cuts)) + [len(text)]:
        rows += md.feed(text[last:cut])
        last = cut
    return rows + md.finish()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(DOC)), max_size=60),
       width=st.sampled_from([None, 24, 41, 80]))
def test_any_split_gives_the_same_rows(cuts, width):
    assert stream_rows(DOC, cuts, width=width) == render_markdown(DOC, THEME, width=width)


@settings(max_examples=60, deadline=None)
@given(text=st.lists(st.sampled_from(list("ab *_`$[]()#>-|\\\n x1é字") + ["```py\n", "$$\n", "**", "\\alpha"]),
                    max_size=80).map("".join),
       cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=30),
       width=st.sampled_from([None, 12, 30]))
def test_any_text_any_split_gives_the_same_rows(text, cuts, width):
    cuts = [c for c in cuts if c <= len(text)]
    assert stream_rows(text, cuts, width=width) == render_markdown(text, THEME, width=width)


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@settings(max_examples=80, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(DOC)), max_size=80),
       width=st.sampled_from([20, 33, 60]))
def test_the_terminal_shows_what_rendering_at_once_shows(cuts, width):
    out = FakeTTY()
    renderer = StreamRenderer(out, theme=THEME, width=width)
    last = 0
    for cut in sorted(set(cuts)) + [len(DOC)]:
        renderer.feed(DOC[last:cut])
        last = cut
    renderer.finish()
    screen = Screen(width)
    screen.feed(out.getvalue())
    expected = Screen(width)
    expected.feed(rows_to_ansi(render_markdown(DOC, THEME, width=width)) + "\n")
    assert screen.lines() == expected.lines()


def test_a_partial_line_is_redrawn_in_place():
    out = FakeTTY()
    r = StreamRenderer(out, theme=THEME, width=40)
    r.feed("some **bo")
    r.feed("ld** text")
    first = out.getvalue()
    assert "\r" in first and "\x1b[J" in first  # the "**bo" tail was redrawn once bold
    r.finish()
    screen = Screen(40)
    screen.feed(out.getvalue())
    assert screen.lines() == ["some bold text"]


def test_not_a_terminal_gets_final_rows_only():
    out = io.StringIO()
    r = StreamRenderer(out, color=False, latex=True)
    for piece in ["The area is $\\pi r", "^2$.\nNext", " line"]:
        r.feed(piece)
    assert out.getvalue() == "The area is π r².\n"
    r.finish()
    assert out.getvalue() == "The area is π r².\nNext line\n"
    assert "\x1b" not in out.getvalue()


def test_raw_writes_text_untouched_and_ends_the_line():
    out = io.StringIO()
    r = StreamRenderer(out, raw=True)
    r.feed("**not** $\\alpha$")
    r.finish()
    assert out.getvalue() == "**not** $\\alpha$\n"


def test_raw_on_a_terminal_still_neutralises():
    out = FakeTTY()
    r = StreamRenderer(out, raw=True)
    r.feed("evil \x1b]52;c;ZXZpbA==\x07 done")
    r.finish()
    assert "\x1b" not in out.getvalue() and "^[]52;c;ZXZpbA==^G" in out.getvalue()


_OUR_SGR = re.compile(r"\x1b\[[0-9;]*m")


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=300))
def test_model_text_never_drives_the_terminal(text):
    """Whatever the model sends, the only escape sequences written are our colours."""
    for width in (None, 30):
        out = rows_to_ansi(render_markdown(text, THEME, width=width))
        assert "\x1b" not in _OUR_SGR.sub("", out)
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]", _OUR_SGR.sub("", out).replace("\n", ""))


_NO_MARKUP = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\u2028\u2029\x85"),
                     max_size=200)


@settings(max_examples=100, deadline=None)
@given(text=st.lists(_NO_MARKUP, max_size=6).map("\n".join))
def test_plain_without_latex_is_the_text_itself(text):
    """NO_COLOR / not a TTY: no escape sequence at all, and the text as written."""
    rows = render_markdown(text, Theme.plain(), latex=False)
    from chatthy.render.sanitise import neutralise

    expected = neutralise(text)
    if expected and not expected.endswith("\n"):
        expected += "\n"  # the renderer ends the last line
    assert "".join(plain_text([row]) + "\n" for row in rows) == expected
    assert "\x1b" not in rows_to_ansi(rows)
