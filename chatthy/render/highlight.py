"""Pygments highlighting of a code block that arrives a line at a time.

Highlighting each new line on its own would lose multi-line context (a line
inside a docstring is a string), and re-lexing the whole block for every line
costs O(n²): a 200-line block would take seconds of CPU while it streams. For
the common case, ``RegexLexer`` subclasses, this lexes incrementally: the
lexer's state stack is recorded at line starts, and each new line resumes from
the last recorded state, so a block costs about what lexing it once costs.
Other lexers re-lex the block (only its last lines when it grows large).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatthy.render.theme import Theme

Segment = tuple[str, str]

WINDOW_LINES = 200  # non-incremental lexers: lex at most this many lines back


@lru_cache(maxsize=64)
def _lexer_class(lang: str):
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return type(get_lexer_by_name(lang))
    except ClassNotFound:
        return None


def language_of(info: str) -> str:
    """The language of a fence's info string: ``python title="x"`` → ``python``, ``{.rust}`` → ``rust``."""
    word = info.strip().split(maxsplit=1)[0] if info.strip() else ""
    word = word.strip("{}").lstrip(".").split(",")[0].lower()
    return {"c++": "cpp", "py3": "python", "shell": "bash", "sh": "bash", "zsh": "bash",
            "console": "shell-session", "jsonc": "json", "dockerfile": "docker"}.get(word, word)


def lexer_for(lang: str):
    """A fresh Pygments lexer for ``lang`` (None when unknown or empty)."""
    if not lang:
        return None
    cls = _lexer_class(lang)
    if cls is None:
        return None
    return cls(stripnl=False, ensurenl=False, stripall=False)


def _resume_mode(lexer) -> str:
    """How a lexer can resume mid-block: ``"own"`` (a plain RegexLexer: our loop
    gives states and tokens), ``"stack"`` (a RegexLexer whose override
    post-processes tokens and takes a start ``stack``, like C's: our loop gives
    the states, the lexer the tokens), or ``"whole"`` (re-lex the block)."""
    import inspect

    from pygments.lexer import ExtendedRegexLexer, RegexLexer

    if not isinstance(lexer, RegexLexer) or isinstance(lexer, ExtendedRegexLexer):
        return "whole"
    method = type(lexer).get_tokens_unprocessed
    if method is RegexLexer.get_tokens_unprocessed:
        return "own"
    try:
        return "stack" if "stack" in inspect.signature(method).parameters else "whole"
    except (TypeError, ValueError):
        return "whole"


def _resumable(lexer) -> bool:
    return _resume_mode(lexer) != "whole"


def _lex_regex(lexer, text: str, pos: int, stack: tuple[str, ...], checkpoints: list | None):
    """``RegexLexer.get_tokens_unprocessed`` from ``pos`` with ``stack``, recording
    ``(pos, stack)`` at every line start a token boundary falls on."""
    from pygments.token import Error, Whitespace, _TokenType

    tokendefs = lexer._tokens
    statestack = list(stack)
    statetokens = tokendefs[statestack[-1]]
    end = len(text)
    while pos < end:
        for rexmatch, action, new_state in statetokens:
            m = rexmatch(text, pos)
            if not m:
                continue
            if action is not None:
                if type(action) is _TokenType:
                    yield pos, action, m.group()
                else:
                    yield from action(lexer, m)
            if m.end() == pos and new_state is None:
                continue  # an empty match that changes nothing would loop
            pos = m.end()
            if new_state is not None:
                if isinstance(new_state, tuple):
                    for state in new_state:
                        if state == "#pop":
                            if len(statestack) > 1:
                                statestack.pop()
                        elif state == "#push":
                            statestack.append(statestack[-1])
                        else:
                            statestack.append(state)
                elif isinstance(new_state, int):
                    if abs(new_state) >= len(statestack):
                        del statestack[1:]
                    else:
                        del statestack[new_state:]
                elif new_state == "#push":
                    statestack.append(statestack[-1])
                statetokens = tokendefs[statestack[-1]]
            break
        else:
            if text[pos] == "\n":
                statestack = ["root"]
                statetokens = tokendefs["root"]
                yield pos, Whitespace, "\n"
                pos += 1
            else:
                yield pos, Error, text[pos]
                pos += 1
        if checkpoints is not None and pos < end and text[pos - 1] == "\n":
            checkpoints.append((pos, tuple(statestack)))


class CodeHighlighter:
    """Highlight one fenced block: ``line(text)`` for each complete line, ``partial(text)``
    for the line still arriving. Rows are lists of ``(sgr, text)`` segments."""

    def __init__(self, lang: str, theme: Theme) -> None:
        self.theme = theme
        self.lexer = lexer_for(lang) if theme.color else None
        self.mode = _resume_mode(self.lexer) if self.lexer is not None else "whole"
        self.text = ""
        self.line_starts: list[int] = []
        self.checkpoints: list[tuple[int, tuple[str, ...]]] = [(0, ("root",))]

    def _sgr(self, ttype) -> str:
        from pygments.token import Error

        if ttype in Error:
            return ""
        return self.theme.token(ttype)

    def _segments(self, tokens, start: int, stop: int) -> list[Segment]:
        out: list[Segment] = []
        for pos, ttype, value in tokens:
            end = pos + len(value)
            if end <= start or pos >= stop:
                continue
            piece = value[max(0, start - pos):stop - pos].replace("\n", "")
            if not piece:
                continue
            sgr = self._sgr(ttype)
            if out and out[-1][0] == sgr:
                out[-1] = (sgr, out[-1][1] + piece)
            else:
                out.append((sgr, piece))
        return out

    def _tokens(self, text: str, start: int, record: bool):
        """Tokens of ``text`` covering ``start`` onwards (resuming where possible)."""
        if self.mode != "whole":
            index = len(self.checkpoints) - 1
            while self.checkpoints[index][0] > start:
                index -= 1
            pos, stack = self.checkpoints[index]
            if record:
                del self.checkpoints[index + 1:]
            tokens = _lex_regex(self.lexer, text, pos, stack, self.checkpoints if record else None)
            if self.mode == "own":
                return list(tokens)
            for _ in tokens:  # only the states matter here; the lexer makes its own tokens
                pass
            return [(p + pos, t, v) for p, t, v in self.lexer.get_tokens_unprocessed(text[pos:], stack)]
        begin = 0
        if len(self.line_starts) > WINDOW_LINES:
            begin = self.line_starts[-WINDOW_LINES]
        return [(pos + begin, t, v) for pos, t, v in self.lexer.get_tokens_unprocessed(text[begin:])]

    def line(self, line: str) -> list[Segment]:
        """Commit a complete line (without its newline) and return its highlighted row."""
        start = len(self.text)
        self.line_starts.append(start)
        self.text += line + "\n"
        if self.lexer is None:
            return [("", line)] if line else []
        tokens = self._tokens(self.text, start, record=True)
        return self._segments(tokens, start, len(self.text))

    def partial(self, line: str) -> list[Segment]:
        """A provisional row for the line still arriving (nothing is recorded)."""
        if self.lexer is None or not line:
            return [("", line)] if line else []
        start = len(self.text)
        text = self.text + line
        return self._segments(self._tokens(text, start, record=False), start, len(text))
