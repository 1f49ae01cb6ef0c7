"""Streaming Markdown: text in arbitrary pieces → styled terminal rows.

Markdown is block-structured by lines, so the stream is processed a line at a
time: a complete line is rendered for good (``committed``); the line still
arriving is rendered provisionally (the ``tail``) and re-rendered as it grows.
Prose is word-wrapped to ``width``, which also lets long paragraphs be
committed row by row: a row is final once nothing after it can change it (no
``**``, backtick, ``$`` or ``[`` before its end is still waiting for its
closer). A tail is therefore rarely more than a row or two high, which keeps
redrawing it cheap and safe.

Blocks: fenced code (highlighted per language, even mid-line, see
``highlight``), display math (``$$…$$``, ``\\[…\\]``, ``\\begin{align}…``),
headings, lists, task lists, block quotes, rules, tables (rows styled, not
re-laid out: a table cannot be laid out before its last row arrives).

Every line is neutralised before anything else looks at it: control
characters from the model are shown, never executed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatthy.render.highlight import CodeHighlighter, language_of
from chatthy.render.inline import render_inline
from chatthy.render.sanitise import char_width, display_width, neutralise
from chatthy.render.theme import Theme, join_sgr

Segment = tuple[str, str]
Row = list[Segment]

MAX_MATH_LINES = 60  # a "math block" longer than this was not math: show it as text
TAB = 4

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])[ \t]*(?:\1[ \t]*){2,}$")
_QUOTE = re.compile(r"^ {0,3}>[ ]?(.*)$")
_BULLET = re.compile(r"^(\s*)([-*+])[ \t]+(.*)$")
_ORDERED = re.compile(r"^(\s*)(\d{1,9})([.)])[ \t]+(.*)$")
_TABLE = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?(\s*:?-{3,}:?\s*\|)+\s*(:?-{3,}:?\s*)?\|?\s*$")
_MATH_ENV = re.compile(r"^\s*\\begin\{(equation|align|gather|multline|eqnarray|displaymath)(\*?)\}")


@dataclass
class _Fence:
    char: str
    length: int
    indent: int
    code: CodeHighlighter


@dataclass
class _Math:
    closer: str
    lines: list[str]
    keep_delimiters: bool  # \begin{align}…\end{align} is converted whole


def _width_of(row: Row) -> int:
    return sum(display_width(t) for _, t in row)


def wrap(segments: list[Segment], width: int | None, first: Row, rest: Row) -> tuple[list[Row], list[int]]:
    """Greedy word-wrap of ``segments`` into rows of at most ``width`` cells.

    ``first``/``rest`` are the prefixes of the first and the following rows
    (a bullet and its hanging indent). Returns the rows and, per row, the
    offset in the unprefixed text where the row ends (for deciding which rows
    are final). Spaces at a break are dropped; a word longer than a row is split.
    """
    if width is None:
        return [first + segments], [sum(len(t) for _, t in segments)]
    return _Wrapper(max(8, width), first, rest).run(segments)


class _Wrapper:
    def __init__(self, limit: int, first: Row, rest: Row) -> None:
        self.limit, self.rest = limit, rest
        self.rows: list[Row] = []
        self.ends: list[int] = []
        self.row: Row = list(first)
        self.used = _width_of(first)
        self.has_content = False
        self.spaces: list[Segment] = []
        self.word: list[Segment] = []
        self.word_start = 0

    def put(self, sgr: str, text: str) -> None:
        if self.row and self.row[-1][0] == sgr:
            self.row[-1] = (sgr, self.row[-1][1] + text)
        else:
            self.row.append((sgr, text))
        self.used += display_width(text)
        self.has_content = True

    def break_row(self, at: int) -> None:
        self.rows.append(self.row)
        self.ends.append(at)
        self.row = list(self.rest)
        self.used = _width_of(self.rest)
        self.has_content = False

    def place_word(self) -> None:
        if not self.word:
            return
        w = sum(display_width(t) for _, t in self.word)
        sw = sum(display_width(t) for _, t in self.spaces)
        if self.has_content and self.used + sw + w > self.limit:
            self.break_row(self.word_start)
        elif self.has_content:
            for sgr, text in self.spaces:
                self.put(sgr, text)
        self.spaces = []
        pos = self.word_start
        for sgr, text in self.word:
            if self.used + display_width(text) <= self.limit:
                self.put(sgr, text)
                pos += len(text)
                continue
            for ch in text:
                if self.has_content and self.used + char_width(ch) > self.limit:
                    self.break_row(pos)
                self.put(sgr, ch)
                pos += 1
        self.word = []

    def run(self, segments: list[Segment]) -> tuple[list[Row], list[int]]:
        offset = 0
        for sgr, text in segments:
            for part in re.split(r"(\s+)", text):
                if not part:
                    continue
                if part.isspace():
                    self.place_word()
                    self.spaces.append((sgr, part))
                else:
                    if not self.word:
                        self.word_start = offset
                    self.word.append((sgr, part))
                offset += len(part)
        self.place_word()
        self.rows.append(self.row)
        self.ends.append(offset)
        return self.rows, self.ends


class MarkdownStream:
    """Feed text in any pieces; get committed rows and a provisional tail.

        md = MarkdownStream(theme, latex=True, width=80)
        rows = md.feed("# Title\\nSome **bo")   # committed: the heading row
        md.tail()                               # provisional: "Some **bo"
        rows += md.finish()                     # the rest, final
    """

    def __init__(self, theme: Theme | None = None, *, latex: bool = True, markdown: bool | None = None,
                 width: int | None = None) -> None:
        self.theme = theme or Theme.plain()
        self.latex = latex
        self.markdown = self.theme.color if markdown is None else markdown
        self.width = width
        self.partial = ""
        self._fence: _Fence | None = None
        self._math: _Math | None = None
        self._committed_rows = 0  # rows of the partial line already committed
        self._tail: list[Row] = []

    # -- public ------------------------------------------------------------
    def feed(self, text: str) -> list[Row]:
        """Take more text; return the rows that are now final."""
        if not text:
            return []
        # A "\r" ending the partial line may be half of a "\r\n": it stays until the next piece.
        lines = (self.partial + text).replace("\r\n", "\n").split("\n")
        self.partial = lines.pop()
        out: list[Row] = []
        for line in lines:
            out.extend(self._complete(line))
        out.extend(self._update_tail())
        return out

    def tail(self) -> list[Row]:
        """Provisional rows for text not yet final (the line still arriving)."""
        return self._tail

    def finish(self) -> list[Row]:
        """The end of the text: everything left, final."""
        out: list[Row] = []
        if self.partial:
            out.extend(self._complete(self.partial.rstrip("\r")))
            self.partial = ""
        if self._math is not None:
            out.extend(self._close_math(complete=False))
        self._fence = None
        self._tail = []
        return out

    @property
    def in_code(self) -> bool:
        return self._fence is not None

    # -- lines ----------------------------------------------------------------
    def _prepare(self, line: str) -> str:
        line = neutralise(line.rstrip("\r"))
        return line.expandtabs(TAB) if self.markdown or self.width else line

    def _complete(self, raw: str) -> list[Row]:
        line = self._prepare(raw)
        skip, self._committed_rows = self._committed_rows, 0
        if self._fence is not None:
            return self._code_line(line)[skip:]
        if self._math is not None:
            return self._math_line(line)
        opened = self._open_block(line)
        if opened is not None:
            return opened
        rows, _ = self._text_rows(line)
        return rows[skip:]

    def _update_tail(self) -> list[Row]:
        line = self._prepare(self.partial)
        if self._fence is not None:
            self._tail = [self._fence.code.partial(self._strip_indent(line))] if line else []
            return []
        if self._math is not None:
            self._tail = [[(self.theme.dim, text)] for text in [*self._math.lines, line] if text]
            return []
        if not line:
            self._tail = []
            return []
        if self._looks_like_block_opener(line):
            self._tail = [[(self.theme.fence if self.latex or self.markdown else "", line)]]
            return []
        rows, stable = self._text_rows(line)
        # Rows before the last, and before anything still waiting for a closer, are final.
        final = max(self._committed_rows, min(stable, len(rows) - 1))
        out = rows[self._committed_rows:final]
        self._committed_rows = final
        self._tail = rows[final:]
        return out

    def _looks_like_block_opener(self, line: str) -> bool:
        stripped = line.strip()
        if _FENCE.match(line):
            return True
        return self.latex and (stripped.startswith(("$$", "\\[")) or bool(_MATH_ENV.match(line)))

    # -- blocks -----------------------------------------------------------------
    def _open_block(self, line: str) -> list[Row] | None:
        m = _FENCE.match(line)
        if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
            lang = language_of(m.group(3))
            self._fence = _Fence(m.group(2)[0], len(m.group(2)), len(m.group(1)),
                                 CodeHighlighter(lang, self.theme))
            return [[(self.theme.fence, line)]]
        if not self.latex:
            return None
        stripped = line.strip()
        for opener, closer in (("$$", "$$"), ("\\[", "\\]")):
            if not stripped.startswith(opener):
                continue
            body = stripped[len(opener):]
            end = body.find(closer)
            if end >= 0:
                if not body[:end].strip() or body[end + len(closer):].strip():
                    return None  # "$$$$", or math followed by prose: an ordinary line
                return self._display_math(body[:end], line)
            self._math = _Math(closer, [body] if body.strip() else [], keep_delimiters=False)
            return []
        m = _MATH_ENV.match(line)
        if m:
            closer = f"\\end{{{m.group(1)}{m.group(2)}}}"
            if closer in line:
                return self._display_math(line.strip(), line)
            self._math = _Math(closer, [line], keep_delimiters=True)
            return []
        return None

    def _code_line(self, line: str) -> list[Row]:
        fence = self._fence
        m = _FENCE.match(line)
        if m and m.group(2)[0] == fence.char and len(m.group(2)) >= fence.length and not m.group(3).strip():
            self._fence = None
            return [[(self.theme.fence, line)]]
        return [fence.code.line(self._strip_indent(line))]

    def _strip_indent(self, line: str) -> str:
        indent = self._fence.indent if self._fence else 0
        n = 0
        while n < indent and n < len(line) and line[n] == " ":
            n += 1
        return line[n:]

    def _math_line(self, line: str) -> list[Row]:
        math = self._math
        if math.closer in line:
            head = line[: line.index(math.closer) + (len(math.closer) if math.keep_delimiters else 0)]
            math.lines.append(head)
            return self._close_math(complete=True)
        math.lines.append(line)
        if len(math.lines) > MAX_MATH_LINES:
            return self._close_math(complete=False)
        return []

    def _close_math(self, *, complete: bool) -> list[Row]:
        math, self._math = self._math, None
        source = "\n".join(math.lines)
        if complete:
            return self._display_math(source, None)
        opener = {"$$": "$$", "\\]": "\\["}.get(math.closer, "")
        rows = [[("", opener)]] if opener and not math.keep_delimiters else []
        return rows + [[("", text)] for text in math.lines]

    def _display_math(self, source: str, raw_line: str | None) -> list[Row]:
        from chatthy.render.latex import LatexError, latex_to_unicode

        try:
            text = latex_to_unicode(source, display=True)
        except (LatexError, RecursionError):
            lines = [raw_line] if raw_line is not None else source.split("\n")
            return [[(self.theme.math, line)] for line in lines]
        return [[(self.theme.math, "    " + line)] for line in text.split("\n")] or [[]]

    # -- text lines ----------------------------------------------------------------
    def _inline(self, text: str):
        return render_inline(text, self.theme, markdown=self.markdown, latex=self.latex)

    def _text_rows(self, line: str, width: int | None = -1) -> tuple[list[Row], int]:
        """Rows of a prose line, and how many of them would be final if it were partial."""
        width = self.width if width == -1 else width
        if not line.strip():
            return ([[("", line)]] if line and not self.markdown else [[]]), 0
        if not self.markdown:
            return self._wrapped(line, [], [], width)
        th = self.theme
        m = _HEADING.match(line)
        if m:
            level = len(m.group(1))
            sgr = join_sgr(th.heading, "4" if level == 1 else "")
            result = self._inline(m.group(2) or "")
            segs = [(join_sgr(sgr, s), t) for s, t in result.segments]
            rows, ends = wrap(segs, width, [], [])
            return rows, _stable(ends, result.unresolved)
        if _RULE.match(line):
            return [[(th.rule, "─" * min(width or 40, 80))]], 0
        m = _QUOTE.match(line)
        if m:
            inner_width = None if width is None else width - 2
            inner, stable = self._text_rows(m.group(1), inner_width) if m.group(1).strip() else ([[]], 0)
            bar = (th.quote, "│ ")
            return [[bar, *row] for row in inner], stable
        if _TABLE.match(line):
            if _TABLE_RULE.match(line):
                return [[(th.table, line)]], 0
            return [self._table_row(line)], 0
        m = _BULLET.match(line)
        if m:
            indent, content = m.group(1), m.group(3)
            mark = "•" if len(indent) < 2 else "◦" if len(indent) < 4 else "▪"
            if content[:4] in ("[ ] ", "[x] ", "[X] ") or content in ("[ ]", "[x]", "[X]"):
                mark = "☐" if content[1] == " " else "☑"
                content = content[4:]
            first = [("", indent), (th.bullet, mark + " ")]
            return self._wrapped(content, first, [("", " " * (len(indent) + 2))], width)
        m = _ORDERED.match(line)
        if m:
            indent, number = m.group(1), m.group(2) + m.group(3) + " "
            first = [("", indent), (th.bullet, number)]
            return self._wrapped(m.group(4), first, [("", " " * (len(indent) + len(number)))], width)
        stripped = line.lstrip(" ")
        indent = line[: len(line) - len(stripped)]
        prefix = [("", indent)] if indent else []
        return self._wrapped(stripped, prefix, prefix, width)

    def _wrapped(self, text: str, first: Row, rest: Row, width: int | None) -> tuple[list[Row], int]:
        result = self._inline(text)
        rows, ends = wrap(result.segments, width, first, rest)
        return rows, _stable(ends, result.unresolved)

    def _table_row(self, line: str) -> Row:
        th = self.theme
        row: Row = []
        for k, cell in enumerate(re.split(r"(?<!\\)\|", line)):
            if k:
                row.append((th.table, "│"))
            row.extend(self._inline(cell).segments if cell.strip() else [("", cell)])
        return row


def _stable(ends: list[int], unresolved: int | None) -> int:
    """How many leading rows are final when the text may change from ``unresolved`` on.

    A row's break depends on the word after it (the one that did not fit), so
    a row is final only when the *next* row, too, ends before anything that
    may still change (a link, once closed, renders shorter and could move up).
    """
    if unresolved is None:
        return len(ends)
    return sum(1 for k in range(len(ends) - 1) if ends[k + 1] <= unresolved)


def render_markdown(text: str, theme: Theme | None = None, *, latex: bool = True,
                    width: int | None = None) -> list[Row]:
    """All rows of a complete text (``/chat`` history, ``chat show``)."""
    md = MarkdownStream(theme, latex=latex, width=width)
    return md.feed(text) + md.finish()
