"""Rendering model output for a terminal: streaming Markdown, code, LaTeX.

    from chatthy.render import StreamRenderer
    r = StreamRenderer(sys.stdout, style="monokai", color=None, latex=True)
    r.feed("Some **Markdown** with `code` and $x^2$"); r.finish()

Modules: ``markdown`` (MarkdownStream: text → final rows + provisional tail),
``inline`` (emphasis, code spans, links, math on one line), ``highlight``
(incremental Pygments highlighting of code fences), ``latex`` (math → Unicode),
``theme`` (a Pygments style → SGR codes), ``sanitise`` (control characters made
visible, display widths), ``stream`` (StreamRenderer: rows onto a terminal).

Client side: imports nothing of the daemon; Pygments and pylatexenc are
imported only when a code block or math is met.
"""

from chatthy.render.latex import LatexError, latex_to_unicode
from chatthy.render.markdown import MarkdownStream, render_markdown
from chatthy.render.sanitise import display_width, neutralise
from chatthy.render.stream import (
    StreamRenderer, color_wanted, plain_text, rows_to_ansi, to_ansi,
)
from chatthy.render.theme import Theme, default_style_name, style_names

__all__ = [
    "LatexError", "MarkdownStream", "StreamRenderer", "Theme", "color_wanted", "default_style_name",
    "display_width", "latex_to_unicode", "neutralise", "plain_text", "render_markdown",
    "rows_to_ansi", "style_names", "to_ansi",
]
