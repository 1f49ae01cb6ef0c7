"""A web page's main text as Markdown, keeping headings, code and tables.

trafilatura finds the main content and writes Markdown; a few fixes after it
make that Markdown render as intended: a blank line around headings and code
fences, a header separator for tables that had no ``<th>`` row, no trailing
cell padding, and no permalink markers (``¶``) glued to headings.
"""

from __future__ import annotations

import re

from chatthy.errors import BadRequest

_HEADING = re.compile(r"^#{1,6} ")
_PERMALINK = re.compile(r"\s*[¶§🔗]+\s*$")


def html_to_markdown(html: str | bytes, url: str | None = None) -> tuple[str, str | None, dict]:
    """``(markdown, title, meta)`` for a page; BadRequest if it has no main text."""
    import trafilatura

    options = dict(output_format="markdown", include_tables=True, include_formatting=True,
                   include_links=False, include_images=False, include_comments=False,
                   deduplicate=False, url=url)
    text = trafilatura.extract(html, favor_precision=True, **options)
    if not text or len(text) < 200:
        # Short pages (a README, a one-paragraph post) are easily judged boilerplate
        # by the precise mode; the recall mode keeps more, which is what we want there.
        text = trafilatura.extract(html, favor_recall=True, **options) or text
    if not text or not text.strip():
        raise BadRequest(f"{url or 'the page'}: no readable text found (is it rendered by JavaScript?)")
    meta: dict = {}
    title = None
    try:
        info = trafilatura.extract_metadata(html, default_url=url)
    except Exception:  # metadata is a nicety; never lose the text over it
        info = None
    if info is not None:
        title = _PERMALINK.sub("", (info.title or "").strip()) or None
        # No "date": for pages that carry none, the date guesser invents one.
        for key in ("author", "sitename", "language"):
            value = getattr(info, key, None)
            if value:
                meta[key] = value
    return tidy_markdown(text), title, meta


def tidy_markdown(text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    in_fence = False
    fence = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if in_fence:
            out.append(line)
            if stripped.startswith(fence) and stripped.strip("`~") == "":
                in_fence = False
                _blank_after(lines, i, out)
            i += 1
            continue
        if stripped.startswith(("```", "~~~")):
            in_fence, fence = True, stripped[:3]
            _blank_before(out)
            out.append(line)
            i += 1
            continue
        if _HEADING.match(line):
            _blank_before(out)
            out.append(_PERMALINK.sub("", line.rstrip()))
            _blank_after(lines, i, out)
            i += 1
            continue
        if stripped.startswith("|"):
            block = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append(lines[i].strip())
                i += 1
            _blank_before(out)
            out.extend(_fix_table(block))
            if i < len(lines) and lines[i].strip():
                out.append("")
            continue
        out.append(line.rstrip())
        i += 1
    result = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", result).strip() + "\n"


def _blank_before(out: list[str]) -> None:
    if out and out[-1].strip():
        out.append("")


def _blank_after(lines: list[str], i: int, out: list[str]) -> None:
    if i + 1 < len(lines) and lines[i + 1].strip():
        out.append("")


_SEPARATOR = re.compile(r"^\|(\s*:?-{1,}:?\s*\|)+$")


def _fix_table(rows: list[str]) -> list[str]:
    rows = [re.sub(r"\s+\|$", " |", r.rstrip()) for r in rows]
    rows = [r if r.endswith("|") else r + " |" for r in rows]
    if len(rows) >= 2 and _SEPARATOR.match(rows[1].replace(" ", "")):
        return rows
    # No header row in the HTML: GitHub-style Markdown needs one, so the first
    # row becomes the header rather than the table turning into plain text.
    cells = rows[0].count("|") - 1
    return [rows[0], "|" + "---|" * max(cells, 1), *rows[1:]]
