"""Colours: a Pygments style turned into SGR codes for code and for Markdown.

Markdown elements borrow their colours from the same Pygments style as the
code (headings from ``Keyword``, inline code from ``String``, …), so one
setting (``--style`` / ``CHATTHY_STYLE`` / ``/style``) changes everything
consistently, and a light-background style fits a light terminal.

Segments carry their style as an SGR parameter string (``"1;38;5;81"``); ``""``
is the terminal's default. A plain theme (NO_COLOR, not a TTY) gives ``""``
for everything, so plain output contains no escape sequence at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DARK = "monokai"
DEFAULT_LIGHT = "friendly"

_ANSI_NAMES = {
    "ansiblack": 30, "ansired": 31, "ansigreen": 32, "ansiyellow": 33, "ansiblue": 34,
    "ansimagenta": 35, "ansicyan": 36, "ansigray": 37, "ansibrightblack": 90,
    "ansibrightred": 91, "ansibrightgreen": 92, "ansibrightyellow": 93, "ansibrightblue": 94,
    "ansibrightmagenta": 95, "ansibrightcyan": 96, "ansiwhite": 97,
}


def default_style_name(env: dict | None = None) -> str:
    """``CHATTHY_STYLE``, else a style that suits the terminal's background.

    ``COLORFGBG`` ("15;0" = light text on dark) is set by rxvt, Konsole, iTerm2
    and others; without it, assume a dark background (the common case).
    """
    env = os.environ if env is None else env
    chosen = env.get("CHATTHY_STYLE", "").strip()
    if chosen:
        return chosen
    fgbg = env.get("COLORFGBG", "")
    background = fgbg.rsplit(";", 1)[-1] if fgbg else ""
    if background.isdigit() and int(background) in (7, 15):
        return DEFAULT_LIGHT
    return DEFAULT_DARK


def truecolor_supported(env: dict | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("COLORTERM", "").lower() in ("truecolor", "24bit")


def style_names() -> list[str]:
    from pygments.styles import get_all_styles

    return sorted(get_all_styles())


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[0:2], 16), int(hex_color[2:4], 16), int(hex_color[4:6], 16)


def xterm256(r: int, g: int, b: int) -> int:
    """The nearest of xterm's 256 colours (6×6×6 cube or grey ramp)."""
    steps = (0, 95, 135, 175, 215, 255)

    def nearest(v: int) -> int:
        return min(range(6), key=lambda i: abs(steps[i] - v))

    ci = (nearest(r), nearest(g), nearest(b))
    cube = tuple(steps[i] for i in ci)
    cube_dist = sum((a - b_) ** 2 for a, b_ in zip(cube, (r, g, b)))
    grey_i = max(0, min(23, round((sum((r, g, b)) / 3 - 8) / 10)))
    grey = 8 + grey_i * 10
    grey_dist = sum((grey - v) ** 2 for v in (r, g, b))
    if grey_dist < cube_dist:
        return 232 + grey_i
    return 16 + 36 * ci[0] + 6 * ci[1] + ci[2]


def color_sgr(color: str | None, truecolor: bool) -> str:
    if not color:
        return ""
    if color in _ANSI_NAMES:
        return str(_ANSI_NAMES[color])
    color = color.lstrip("#")
    if len(color) == 3:
        color = "".join(c * 2 for c in color)
    if len(color) != 6:
        return ""
    try:
        r, g, b = _rgb(color)
    except ValueError:
        return ""
    return f"38;2;{r};{g};{b}" if truecolor else f"38;5;{xterm256(r, g, b)}"


def join_sgr(*parts: str) -> str:
    return ";".join(p for p in parts if p)


@dataclass
class Theme:
    """SGR strings for each Markdown element, and a lookup for code tokens."""

    name: str = "plain"
    color: bool = False
    truecolor: bool = False
    heading: str = ""
    strong: str = ""
    em: str = ""
    strike: str = ""
    code: str = ""
    link: str = ""
    url: str = ""
    bullet: str = ""
    quote: str = ""
    rule: str = ""
    fence: str = ""
    math: str = ""
    table: str = ""
    dim: str = ""
    error: str = ""
    _style: object = None
    _token_cache: dict = field(default_factory=dict)

    @classmethod
    def plain(cls) -> Theme:
        return cls()

    @classmethod
    def from_style(cls, name: str | None = None, *, truecolor: bool | None = None) -> Theme:
        """A colour theme from the Pygments style ``name`` (unknown names raise ValueError)."""
        from pygments.styles import get_style_by_name
        from pygments.token import Comment, Keyword, Name, Number, String
        from pygments.util import ClassNotFound

        name = name or default_style_name()
        try:
            style = get_style_by_name(name)
        except ClassNotFound:
            raise ValueError(f"unknown Pygments style {name!r} (try: {', '.join(style_names()[:8])}, …)") from None
        tc = truecolor_supported() if truecolor is None else truecolor

        def fg(token) -> str:
            return color_sgr(style.style_for_token(token).get("color"), tc)

        return cls(
            name=name, color=True, truecolor=tc,
            heading=join_sgr("1", fg(Keyword)),
            strong="1", em="3", strike="9",
            code=fg(String) or "7",
            link=join_sgr("4", fg(Name.Function)),
            url="2",
            bullet=fg(Keyword) or "1",
            quote=fg(Comment) or "2",
            rule=fg(Comment) or "2",
            fence=fg(Comment) or "2",
            math=fg(Number) or "3",
            table=fg(Comment) or "2",
            dim="2",
            error=join_sgr("1", color_sgr("ansired", tc)),
            _style=style,
        )

    def token(self, ttype) -> str:
        """SGR for a Pygments token type (bold/italic/underline and the foreground)."""
        if self._style is None:
            return ""
        sgr = self._token_cache.get(ttype)
        if sgr is None:
            spec = self._style.style_for_token(ttype)
            sgr = join_sgr("1" if spec.get("bold") else "", "3" if spec.get("italic") else "",
                           "4" if spec.get("underline") else "", color_sgr(spec.get("color"), self.truecolor))
            self._token_cache[ttype] = sgr
        return sgr
