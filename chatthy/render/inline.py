"""Inline Markdown on one line: emphasis, code spans, links, math.

``render_inline`` turns a line's text into ``(sgr, text)`` segments and says
where the first *unresolved opener* is: a ``**``, a backtick, a ``$`` or a
``[`` that could still be closed by text that has not arrived yet. Text before
it will look the same whatever comes next, so a streaming renderer may commit
it; text after it may still change (``**bol`` becomes bold ``bol…`` once the
closing ``**`` arrives).

Emphasis follows CommonMark's delimiter rules in simplified form (flanking,
intraword ``_`` is literal, ``**`` before ``*``). With ``markdown=False`` only
math is converted (the plain, NO_COLOR mode shows Markdown source as is).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from chatthy.render.theme import Theme, join_sgr

Segment = tuple[str, str]

_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^\s<>]+)>")
_LINK_TAIL = re.compile(r"\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(\"[^\"]*\"|'[^']*'))?\s*\)")


def _is_space(ch: str) -> bool:
    return ch == "" or ch.isspace()


def _is_punct(ch: str) -> bool:
    return ch in _PUNCT or (ch != "" and unicodedata.category(ch).startswith("P"))


@dataclass
class _Text:
    text: str
    sgr: str = ""


@dataclass
class _Delim:
    char: str
    count: int
    can_open: bool
    can_close: bool
    source: int  # index in the source line, for reporting unresolved openers
    used_open: int = 0
    used_close: int = 0


@dataclass
class InlineResult:
    segments: list[Segment]
    unresolved: int | None  # rendered offset of the first unresolved opener, or None


def _delimiter_run(s: str, i: int) -> tuple[int, bool, bool]:
    ch = s[i]
    j = i
    while j < len(s) and s[j] == ch:
        j += 1
    before = s[i - 1] if i > 0 else ""
    after = s[j] if j < len(s) else ""
    left = not _is_space(after) and (not _is_punct(after) or _is_space(before) or _is_punct(before))
    right = not _is_space(before) and (not _is_punct(before) or _is_space(after) or _is_punct(after))
    if ch == "_":
        can_open = left and (not right or _is_punct(before))
        can_close = right and (not left or _is_punct(after))
    else:
        can_open, can_close = left, right
    return j - i, can_open, can_close


def _find_math_close(s: str, i: int) -> int:
    """Index of the ``$`` closing inline math opened just before ``i``, or -1 (Pandoc's rules)."""
    j = i
    while True:
        j = s.find("$", j)
        if j < 0:
            return -1
        if s[j - 1] == "\\":
            j += 1
            continue
        if not s[j - 1].isspace() and j > i and not (j + 1 < len(s) and s[j + 1].isdigit()):
            return j
        j += 1


class _Inline:
    def __init__(self, theme: Theme, *, markdown: bool, latex: bool) -> None:
        self.theme = theme
        self.markdown = markdown
        self.latex = latex

    def math(self, source: str, display: bool = False) -> list[Segment]:
        from chatthy.render.latex import LatexError, latex_to_unicode

        try:
            text = latex_to_unicode(source, display=display)
        except (LatexError, RecursionError):
            return [(self.theme.math, source)]
        return [(self.theme.math, text)]

    def tokens(self, s: str) -> tuple[list, list[int]]:
        """Split ``s`` into text/segment tokens and delimiter runs.

        Returns the tokens and the source indexes of unresolvable-yet openers
        that are not delimiters (backticks, ``$``, ``[``, ``\\(``).
        """
        out: list = []
        pending: list[int] = []
        buf: list[str] = []
        i, n = 0, len(s)
        md, tex, th = self.markdown, self.latex, self.theme

        def flush() -> None:
            if buf:
                out.append(_Text("".join(buf)))
                buf.clear()

        while i < n:
            ch = s[i]
            if ch == "\\" and i + 1 < n:
                nxt = s[i + 1]
                if tex and nxt in "([":
                    close = s.find("\\" + (")" if nxt == "(" else "]"), i + 2)
                    if close >= 0:
                        flush()
                        out.extend(_Text(t, g) for g, t in self.math(s[i + 2:close]))
                        i = close + 2
                        continue
                    pending.append(i)
                if md and nxt in _PUNCT:
                    buf.append(nxt)
                    i += 2
                    continue
                if nxt in "$`":  # an escaped dollar or backtick opens nothing
                    buf.append(ch + nxt)
                    i += 2
                    continue
                buf.append(ch)
                i += 1
                continue
            if ch == "`":
                j = i
                while j < n and s[j] == "`":
                    j += 1
                run = s[i:j]
                close = j
                while True:
                    close = s.find(run, close)
                    if close < 0 or (close + len(run) >= n or s[close + len(run)] != "`"):
                        break
                    while close < n and s[close] == "`":
                        close += 1
                if close >= 0 and not md:
                    buf.append(s[i:close + len(run)])  # plain: the span as written, never math
                    i = close + len(run)
                elif close >= 0:
                    flush()
                    body = s[j:close]
                    if body.startswith(" ") and body.endswith(" ") and body.strip():
                        body = body[1:-1]
                    out.append(_Text(body, th.code))
                    i = close + len(run)
                else:
                    pending.append(i)
                    buf.append(run)
                    i = j
                continue
            if tex and ch == "$":
                if s.startswith("$$", i):
                    close = s.find("$$", i + 2)
                    if close > i + 2:
                        flush()
                        out.extend(_Text(t, g) for g, t in self.math(s[i + 2:close]))
                        i = close + 2
                        continue
                    pending.append(i)
                    buf.append("$$")
                    i += 2
                    continue
                if i + 1 < n and not s[i + 1].isspace() and s[i + 1] != "$":
                    close = _find_math_close(s, i + 1)
                    if close > 0:
                        flush()
                        out.extend(_Text(t, g) for g, t in self.math(s[i + 1:close]))
                        i = close + 1
                        continue
                    pending.append(i)
                buf.append(ch)
                i += 1
                continue
            if md and ch in "*_~":
                count, can_open, can_close = _delimiter_run(s, i)
                if ch == "~" and count != 2:
                    buf.append(s[i:i + count])
                    i += count
                    continue
                flush()
                out.append(_Delim(ch, count, can_open, can_close, i))
                i += count
                continue
            if md and ch == "<":
                m = _AUTOLINK.match(s, i)
                if m:
                    flush()
                    out.append(_Text(m.group(1), th.link))
                    i = m.end()
                    continue
            if md and ch == "!" and s.startswith("![", i):
                close = s.find("]", i + 2)
                m = _LINK_TAIL.match(s, close) if close >= 0 else None
                if m:
                    flush()
                    out.append(_Text(f"[image: {s[i + 2:close]}]", th.url))
                    i = m.end()
                    continue
            if md and ch == "[":
                close = s.find("]", i + 1)
                m = _LINK_TAIL.match(s, close) if close >= 0 else None
                if m:
                    flush()
                    label, url = s[i + 1:close], m.group(1).strip("<>")
                    out.append(_Text(label, th.link))
                    if url and url != label:
                        out.append(_Text(f" ({url})", th.url))
                    i = m.end()
                    continue
                if close < 0 or close == n - 1 or s.startswith("](", close):
                    pending.append(i)  # may still become a link
            buf.append(ch)
            i += 1
        flush()
        return out, pending

    def render(self, s: str) -> InlineResult:
        tokens, pending = self.tokens(s)
        spans = self.match_emphasis(tokens)
        # Style of each token from the emphasis spans that enclose it.
        styles = [""] * len(tokens)
        for open_i, close_i, kind in spans:
            sgr = {"strong": self.theme.strong, "em": self.theme.em, "strike": self.theme.strike}[kind]
            for k in range(open_i + 1, close_i):
                styles[k] = join_sgr(styles[k], sgr)
        segments: list[Segment] = []
        unresolved: int | None = None
        offset = 0
        for k, tok in enumerate(tokens):
            if isinstance(tok, _Delim):
                left = tok.count - tok.used_open - tok.used_close
                if left and tok.can_open and tok.used_close == 0 and unresolved is None:
                    unresolved = offset  # an opener that may still be closed
                sgr, text = styles[k], tok.char * left
            else:
                sgr, text = (join_sgr(styles[k], tok.sgr) if tok.sgr else styles[k]), tok.text
            if not text:
                continue
            if segments and segments[-1][0] == sgr:
                segments[-1] = (sgr, segments[-1][1] + text)
            else:
                segments.append((sgr, text))
            offset += len(text)
        if pending:
            # A backtick, $ or [ still waiting sits inside plain text: its rendered
            # offset is the length of what the text before it renders to.
            before = _Inline(self.theme, markdown=self.markdown, latex=self.latex).render(s[:min(pending)])
            at = sum(len(t) for _, t in before.segments)
            unresolved = at if unresolved is None else min(unresolved, at)
        return InlineResult(segments, unresolved)

    @staticmethod
    def match_emphasis(tokens: list) -> list[tuple[int, int, str]]:
        """CommonMark's process_emphasis, simplified; returns (opener, closer, kind) index pairs."""
        spans: list[tuple[int, int, str]] = []
        openers: list[int] = []
        for k, tok in enumerate(tokens):
            if not isinstance(tok, _Delim):
                continue
            while tok.can_close and tok.count - tok.used_close > 0:
                match = None
                for pos in range(len(openers) - 1, -1, -1):
                    op = tokens[openers[pos]]
                    if op.char != tok.char or op.count - op.used_open <= 0:
                        continue
                    # the "rule of 3": a run that can both open and close must not pair
                    # with one whose lengths sum to a multiple of 3 (unless both are)
                    both = (op.can_close or tok.can_open) and tok.char != "~"
                    if both and (op.count + tok.count) % 3 == 0 and not (op.count % 3 == 0 and tok.count % 3 == 0):
                        continue
                    match = pos
                    break
                if match is None:
                    break
                op_index = openers[match]
                op = tokens[op_index]
                avail_open, avail_close = op.count - op.used_open, tok.count - tok.used_close
                if tok.char == "~":
                    use, kind = 2, "strike"
                    if avail_open < 2 or avail_close < 2:
                        break
                else:
                    use = 2 if avail_open >= 2 and avail_close >= 2 else 1
                    kind = "strong" if use == 2 else "em"
                op.used_open += use
                tok.used_close += use
                spans.append((op_index, k, kind))
                del openers[match + 1:]  # openers between can no longer match
                if op.count - op.used_open <= 0:
                    del openers[match]
            if tok.can_open and tok.count - tok.used_close > 0:
                openers.append(k)
        return spans


def render_inline(text: str, theme: Theme, *, markdown: bool = True, latex: bool = True) -> InlineResult:
    return _Inline(theme, markdown=markdown, latex=latex).render(text)
