"""LaTeX math to Unicode text, for display only (the stored text stays LaTeX).

pylatexenc knows the symbols (``\\alpha`` → α, ``\\leq`` → ≤, hundreds more);
its own ``latex2text`` flattens structure badly for math (``x^2`` stays
``x^2``, ``\\sum_{i=1}^n`` loses its braces, ``\\alpha + b`` loses a space), so
this module parses the math itself and asks pylatexenc only for symbols:

    latex_to_unicode(r"\\sum_{i=1}^{n} x_i^2 \\leq \\frac{a+b}{2}")
    → "∑ᵢ₌₁ⁿ xᵢ² ≤ (a+b)/2"

Scripts become Unicode super/subscripts when every character has one, else
``^(…)``; matrices and ``cases`` are laid out on rows in display math. Anything
unknown is kept as written rather than dropped: a reader can still read it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["latex_to_unicode", "LatexError"]

ROW = "\x1e"   # markers inside a conversion; control characters are removed from the input
CELL = "\x1f"

SUPERSCRIPT = dict(zip(
    "0123456789+-−=()niabcdefghjklmoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδεθιφχ′'",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱᵃᵇᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᵋᶿᶥᵠᵡ′′"))
SUBSCRIPT = dict(zip(
    "0123456789+-−=()aehijklmnoprstuvxβγρφχ",
    "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ"))

FRACTIONS = {("1", "2"): "½", ("1", "3"): "⅓", ("2", "3"): "⅔", ("1", "4"): "¼", ("3", "4"): "¾",
             ("1", "5"): "⅕", ("1", "6"): "⅙", ("1", "8"): "⅛"}

FUNCTIONS = set("""sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth log ln lg exp
lim liminf limsup max min sup inf det dim ker hom arg deg gcd lcm Pr mod bmod""".split())

EXTRA_SYMBOLS = {
    "neg": "¬", "lnot": "¬", "land": "∧", "lor": "∨", "bot": "⊥", "Re": "ℜ", "Im": "ℑ",
    "iff": "⟺", "implies": "⟹", "impliedby": "⟸", "gets": "←", "ne": "≠", "neq": "≠",
    "colon": ":", "cdotp": "·", "to": "→", "mid": "∣", "dots": "…", "ldots": "…", "cdots": "⋯",
    "lbrace": "{", "rbrace": "}", "vert": "|", "Vert": "‖", "lvert": "|", "rvert": "|",
    "lVert": "‖", "rVert": "‖", "langle": "⟨", "rangle": "⟩", "varnothing": "∅",
    "square": "□", "blacksquare": "■", "checkmark": "✓", "degree": "°", "circ": "∘",
    "leqslant": "⩽", "geqslant": "⩾", "lesssim": "≲", "gtrsim": "≳", "coloneqq": "≔",
    "qed": "∎", "AA": "Å", "varkappa": "ϰ",
}
SPACES = {",": " ", ":": " ", ">": " ", ";": " ", "!": "", " ": " ", "quad": "  ", "qquad": "    ",
          "enspace": " ", "thinspace": " ", "medspace": " ", "thickspace": " ", "negthinspace": ""}
IGNORED = set("""displaystyle textstyle scriptstyle scriptscriptstyle limits nolimits left right
middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr nonumber notag label
tag mathstrut strut phantom hphantom vphantom""".split())
WITH_ARGUMENT_DROPPED = {"label", "tag", "phantom", "hphantom", "vphantom"}
ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "check": "\u030c", "tilde": "\u0303",
           "widetilde": "\u0303", "bar": "\u0304", "overline": "\u0305", "vec": "\u20d7",
           "overrightarrow": "\u20d7", "dot": "\u0307", "ddot": "\u0308", "acute": "\u0301",
           "grave": "\u0300", "breve": "\u0306", "underline": "\u0332", "mathring": "\u030a"}
TEXT_MACROS = {"text", "textrm", "textbf", "textit", "texttt", "textsf", "mbox", "operatorname",
               "mathrm", "mathit", "mathbf", "mathsf", "mathtt", "boldsymbol", "bm", "emph",
               "textnormal", "hbox", "textup"}
PLAIN_TEXT_MACROS = {"text", "textrm", "textbf", "textit", "texttt", "textsf", "mbox", "emph",
                     "textnormal", "hbox", "textup"}

# Unicode mathematical alphabets: (uppercase start, lowercase start, exceptions)
ALPHABETS = {
    "mathbb": (0x1D538, 0x1D552, {"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ", "Z": "ℤ"}),
    "mathcal": (0x1D49C, 0x1D4B6, {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ", "M": "ℳ",
                                   "R": "ℛ", "e": "ℯ", "g": "ℊ", "o": "ℴ"}),
    "mathfrak": (0x1D504, 0x1D51E, {"C": "ℭ", "H": "ℌ", "I": "ℑ", "R": "ℜ", "Z": "ℨ"}),
}
ALPHABETS["mathscr"] = ALPHABETS["mathcal"]
DOUBLE_STRUCK_DIGITS = 0x1D7D8

MATRIX_DELIMITERS = {  # env: (left top, left middle, left bottom, right top, middle, bottom, inline l, r)
    "pmatrix": ("⎛", "⎜", "⎝", "⎞", "⎟", "⎠", "(", ")"),
    "bmatrix": ("⎡", "⎢", "⎣", "⎤", "⎥", "⎦", "[", "]"),
    "Bmatrix": ("⎧", "⎨", "⎩", "⎫", "⎬", "⎭", "{", "}"),
    "vmatrix": ("│", "│", "│", "│", "│", "│", "|", "|"),
    "Vmatrix": ("‖", "‖", "‖", "‖", "‖", "‖", "‖", "‖"),
    "matrix": ("", "", "", "", "", "", "", ""),
    "smallmatrix": ("", "", "", "", "", "", "", ""),
    "array": ("", "", "", "", "", "", "", ""),
}

_SIMPLE = re.compile(r"[\w.′]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class LatexError(ValueError):
    """The math could not be parsed (unbalanced braces, a missing argument)."""


@lru_cache(maxsize=1)
def _pylatexenc_db():
    from pylatexenc.latex2text import get_default_latex_context_db

    return get_default_latex_context_db()


@lru_cache(maxsize=2048)
def symbol(name: str) -> str | None:
    """The Unicode of an argument-less macro, from our table or pylatexenc's."""
    if name in EXTRA_SYMBOLS:
        return EXTRA_SYMBOLS[name]
    spec = _pylatexenc_db().get_macro_spec(name)
    if spec is None or getattr(spec, "macroname", None) != name:
        return None
    repl = getattr(spec, "simplify_repl", None)
    args = getattr(spec, "args_parser", None)
    if not isinstance(repl, str) or "%" in repl or getattr(args, "argspec", ""):
        return None
    return repl


def _alphabet(name: str, text: str) -> str:
    upper, lower, exceptions = ALPHABETS[name]
    out = []
    for ch in text:
        if ch in exceptions:
            out.append(exceptions[ch])
        elif "A" <= ch <= "Z":
            out.append(chr(upper + ord(ch) - 65))
        elif "a" <= ch <= "z":
            out.append(chr(lower + ord(ch) - 97))
        elif name == "mathbb" and ch.isdigit() and ch.isascii():
            out.append(chr(DOUBLE_STRUCK_DIGITS + int(ch)))
        else:
            out.append(ch)
    return "".join(out)


def script(kind: str, arg: str) -> str:
    """``^``/``_`` applied to converted text: Unicode scripts when all characters have one."""
    if not arg:
        return ""
    table = SUPERSCRIPT if kind == "^" else SUBSCRIPT
    stripped = arg.strip()
    if stripped and all(ch in table for ch in stripped):
        return "".join(table[ch] for ch in stripped)
    if kind == "^" and stripped in ("′", "′′", "∗", "*", "†", "∘", "°"):
        return stripped
    if len(stripped) == 1:
        return kind + stripped
    return f"{kind}({stripped})"


def _grouped(text: str) -> str:
    """``text`` wrapped in parentheses unless it is a single term."""
    text = text.strip()
    if _SIMPLE.fullmatch(text) or (text.startswith("(") and text.endswith(")") and text.count("(") == 1):
        return text
    return f"({text})"


class _Parser:
    def __init__(self, source: str, display: bool) -> None:
        self.s = _CONTROL.sub("", source)
        self.i = 0
        self.display = display
        self.depth = 0  # environments nest; only the outermost lays out rows

    # -- reading -------------------------------------------------------------
    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def skip_spaces(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\n":
            self.i += 1

    def macro_name(self) -> str:
        start = self.i
        while self.i < len(self.s) and self.s[self.i].isascii() and self.s[self.i].isalpha():
            self.i += 1
        if self.i == start and self.i < len(self.s):
            self.i += 1  # a one-character macro: \, \{ \\ …
        return self.s[start:self.i]

    def raw_group(self) -> str:
        """The verbatim text of the next ``{…}`` (or one character), for text macros."""
        self.skip_spaces()
        if self.peek() != "{":
            ch = self.peek()
            self.i += len(ch)
            return ch
        depth, start = 0, self.i
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch == "\\":
                self.i += 2
                continue
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    self.i += 1
                    return self.s[start + 1:self.i - 1]
            self.i += 1
        raise LatexError("unbalanced braces")

    def optional(self) -> str | None:
        self.skip_spaces()
        if self.peek() != "[":
            return None
        end = self.s.find("]", self.i)
        if end < 0:
            raise LatexError("unclosed [")
        inner = self.s[self.i + 1:end]
        self.i = end + 1
        return _Parser(inner, False).convert()

    def argument(self) -> str:
        self.skip_spaces()
        ch = self.peek()
        if not ch:
            raise LatexError("missing argument")
        if ch == "{":
            self.i += 1
            return self.convert(stop="}")
        if ch == "\\":
            self.i += 1
            return self.macro()
        self.i += 1
        return self.char(ch)

    # -- converting ------------------------------------------------------------
    def char(self, ch: str) -> str:
        if ch == "-":
            return "−"
        if ch == "'":
            return "′"
        if ch == "~":
            return " "
        if ch == "&":
            return CELL
        return ch

    def convert(self, stop: str | None = None) -> str:
        out: list[str] = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch == "}":
                self.i += 1
                if stop == "}":
                    return "".join(out)
                continue  # a stray closing brace: ignore it
            self.i += 1
            if ch == "{":
                out.append(self.convert(stop="}"))
            elif ch == "\\":
                if stop == "env" and self.s.startswith("end", self.i):
                    self.i -= 1
                    return "".join(out)
                text = self.macro()
                if self.display and self.depth == 0 and ROW in text:
                    # A laid-out environment after text on its row: indent its other rows.
                    from chatthy.render.sanitise import display_width

                    before = "".join(out).rsplit(ROW, 1)[-1]
                    text = text.replace(ROW, ROW + " " * display_width(before))
                out.append(text)
            elif ch in "^_":
                out.append(script(ch, self.argument()))
            elif ch == "%":
                end = self.s.find("\n", self.i)
                self.i = len(self.s) if end < 0 else end
            else:
                out.append(self.char(ch))
        if stop == "}":
            raise LatexError("unbalanced braces")
        return "".join(out)

    def macro(self) -> str:
        name = self.macro_name()
        if not name:
            return "\\"
        if name == "\\":
            self.optional()
            return ROW
        if name in SPACES:
            return SPACES[name]
        if name in "{}$%&#_|" and len(name) == 1:
            return "‖" if name == "|" else name
        if name in IGNORED:
            if name in WITH_ARGUMENT_DROPPED:
                self.raw_group()
            elif name in ("left", "right", "middle") or name.startswith(("big", "Big")):
                self.skip_spaces()
                if self.peek() == ".":
                    self.i += 1
            return ""
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            top, bottom = self.argument().strip(), self.argument().strip()
            if (top, bottom) in FRACTIONS:
                return FRACTIONS[(top, bottom)]
            return f"{_grouped(top)}/{_grouped(bottom)}"
        if name in ("binom", "dbinom", "tbinom", "choose"):
            top, bottom = self.argument().strip(), self.argument().strip()
            return f"C({top}, {bottom})"
        if name == "sqrt":
            index = self.optional()
            body = self.argument().strip()
            root = {None: "√", "2": "√", "3": "∛", "4": "∜"}.get(index)
            if root is None:
                root = script("^", index) + "√"
            return root + (body if _SIMPLE.fullmatch(body) and len(body) <= 3 else f"({body})")
        if name in ACCENTS:
            body = self.argument()
            mark = ACCENTS[name]
            if name in ("overline", "underline", "widehat", "widetilde", "overrightarrow") or len(body) > 1:
                return "".join(ch + mark for ch in body)
            return body + mark
        if name in ALPHABETS:
            return _alphabet(name, self.argument())
        if name in TEXT_MACROS:
            if name in PLAIN_TEXT_MACROS:
                text = self.raw_group()
                return re.sub(r"\\([{}$%&#_ ])", r"\1", text)
            return self.argument()
        if name == "not":
            self.skip_spaces()
            following = self.argument()
            return unicodedata.normalize("NFC", following + "\u0338") if following else ""
        if name == "begin":
            return self.environment(self.raw_group().strip())
        if name == "end":
            self.raw_group()
            return ""
        if name in FUNCTIONS:
            nxt = self.peek()
            return name + (" " if nxt and (nxt.isalnum() or nxt == "\\") else "")
        sym = symbol(name)
        if sym is not None:
            return sym
        # Unknown: keep it readable, with its arguments in braces.
        text = "\\" + name
        while self.peek() == "{":
            self.i += 1
            text += "{" + self.convert(stop="}") + "}"
        return text

    def environment(self, env: str) -> str:
        if env == "array":
            self.raw_group()  # column spec
        self.depth += 1
        outer_display, self.display = self.display, self.display and self.depth == 1
        try:
            return self._environment(env)
        finally:
            self.depth -= 1
            self.display = outer_display

    def _environment(self, env: str) -> str:
        body = self.convert(stop="env")
        if self.s.startswith("\\end", self.i):
            self.i += 4
            self.raw_group()
        rows = [[cell.strip() for cell in row.split(CELL)] for row in body.split(ROW)]
        rows = [r for r in rows if any(r)]
        base = env.rstrip("*")
        if base in MATRIX_DELIMITERS:
            return self.matrix(rows, MATRIX_DELIMITERS[base])
        if base in ("cases", "dcases", "rcases"):
            return self.cases(rows)
        # align, aligned, gather, split, equation, …: one line per row, cells joined
        lines = ["".join(c if i == 0 else " " + c if not c.startswith(("=", "<", ">", "≤", "≥", "≈", "≡", "→"))
                         else " " + c for i, c in enumerate(r)).strip() for r in rows]
        return (ROW if self.display else "; ").join(lines)

    def matrix(self, rows: list[list[str]], delims: tuple[str, ...]) -> str:
        if not rows:
            return ""
        if not self.display or len(rows) == 1:
            inner = "; ".join("  ".join(r) for r in rows)
            return f"{delims[6]}{inner}{delims[7]}"
        from chatthy.render.sanitise import display_width

        ncols = max(len(r) for r in rows)
        widths = [max(display_width(r[c]) if c < len(r) else 0 for r in rows) for c in range(ncols)]
        lines = []
        for n, r in enumerate(rows):
            cells = [(r[c] if c < len(r) else "") for c in range(ncols)]
            text = "  ".join(cell + " " * (widths[c] - display_width(cell)) for c, cell in enumerate(cells))
            pos = 0 if n == 0 else 2 if n == len(rows) - 1 else 1
            left, right = delims[pos], delims[3 + pos]
            lines.append(f"{left} {text} {right}" if left else text)
        return ROW.join(lines)

    def cases(self, rows: list[list[str]]) -> str:
        if not self.display or len(rows) == 1:
            return "{ " + "; ".join("  ".join(c for c in r if c) for r in rows)
        lines = self.matrix(rows, MATRIX_DELIMITERS["matrix"]).split(ROW)
        middle = len(lines) // 2
        out = []
        for n, text in enumerate(lines):
            brace = "⎧" if n == 0 else "⎩" if n == len(lines) - 1 else "⎨" if n == middle else "⎪"
            out.append(f"{brace} {text}".rstrip())
        return ROW.join(out)


def latex_to_unicode(source: str, *, display: bool = False) -> str:
    """Unicode for the math ``source`` (without its ``$`` delimiters).

    ``display`` lays rows (``\\\\``, matrices, cases) out on separate lines;
    inline math keeps one line. Raises LatexError when the math cannot be
    parsed; callers then show the source as written.
    """
    parser = _Parser(source, display)
    text = parser.convert()
    text = unicodedata.normalize("NFC", text)
    if display:
        lines = [line.rstrip() for line in text.split(ROW)]
        return "\n".join(line for line in lines if line.strip()).strip("\n")
    return re.sub(r"\s+", " ", text.replace(ROW, "; ").replace(CELL, " ")).strip()
