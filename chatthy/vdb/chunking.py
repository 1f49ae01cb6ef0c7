"""Token-aware chunking that respects Markdown structure.

A document is cut into *atoms* (a heading, a line of code, a list item, a
sentence; a run of words or characters only when a sentence alone is too
long), each with the priority of the boundary before it::

    HEADING  a Markdown heading, or a new page: a chunk never runs across one
    BLOCK    a blank line or a code fence: paragraph and code-block edges
    LINE     a list item, a table row, a line inside a code block
    SENTENCE the end of a sentence
    WORD     whitespace inside an over-long sentence (last resort)

Atoms are packed greedily up to ``size`` tokens; when a chunk is full it is cut
at the *strongest* boundary that still leaves it at least half full, so chunks
end at paragraph or code-block edges whenever they can, and mid-paragraph only
when a paragraph is larger than a chunk. Consecutive chunks of one section
share up to ``overlap`` tokens of whole atoms; a heading starts afresh.

Every chunk is an exact slice ``text[start:end]`` of the document (positions
stay true for citations) and is checked with the real tokenizer: none exceeds
``size`` tokens.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass
from typing import Callable, Sequence

__all__ = ["Chunk", "chunk_text", "embedding_input"]

WORD, SENTENCE, LINE, BLOCK, HEADING = range(5)

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_ITEM = re.compile(r"^[ \t]*(?:[-*+][ \t]|\d{1,9}[.)][ \t]|\||>)")
# A sentence ends at . ! ? (or their CJK forms), maybe closed by quotes or brackets.
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"'”’)\]]*\s+")
_WS = re.compile(r"\s+")

Counter = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Chunk:
    seq: int
    start: int  # character offsets into the document text
    end: int
    text: str  # == document[start:end]
    tokens: int
    heading: str | None  # heading path at the chunk's start: "Install › Linux"
    page: int | None  # 1-based page (PDFs), from the document's page offsets

    @property
    def position(self) -> str:
        """Where the chunk is, for a citation: ``p. 3 · Install › Linux``."""
        parts = []
        if self.page is not None:
            parts.append(f"p. {self.page}")
        if self.heading:
            parts.append(self.heading)
        if not parts:
            parts.append(f"chars {self.start}-{self.end}")
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class _Atom:
    start: int
    end: int
    tokens: int
    path: tuple[str, ...]
    heading: bool
    before: int  # priority of the boundary before this atom


def embedding_input(chunk_text: str, heading: str | None, title: str | None) -> str:
    """What is embedded for a chunk: its text, led by where it sits.

    A chunk cut from the middle of a section rarely names its subject; the
    heading path (or the document title) in front of it does.
    """
    context = heading or title
    if context and not chunk_text.lstrip().startswith("#"):
        return f"{context}\n\n{chunk_text}"
    return chunk_text


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_text(
    text: str,
    count: Counter,
    *,
    size: int,
    overlap: int = 0,
    page_offsets: Sequence[tuple[int, int]] = (),
) -> list[Chunk]:
    """Cut ``text`` into chunks of at most ``size`` tokens (as ``count`` counts)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1 token")
    if not 0 <= overlap < size:
        raise ValueError("chunk overlap must be at least 0 and smaller than the chunk size")
    atoms = _atoms(text, count, size)
    if not atoms:
        return []
    pages = sorted(page_offsets, key=lambda p: p[1])
    if len(pages) > 1:
        atoms = _break_at_pages(atoms, [offset for _, offset in pages[1:]])
    prefix = [0]
    for a in atoms:
        prefix.append(prefix[-1] + a.tokens)
    page_starts = [offset for _, offset in pages]

    chunks: list[Chunk] = []
    i, last_end = 0, 0
    while i < len(atoms):
        k = _cut(atoms, prefix, i, max(last_end + 1, i + 1), size)
        body = text[atoms[i].start:atoms[k - 1].end]
        tokens = count(body)
        # Atom counts are summed; the slice's real count can differ by the
        # whitespace between atoms. Step back one boundary at a time until it fits.
        while tokens > size and k - 1 > max(i, last_end):
            k = _cut(atoms, prefix, i, max(last_end + 1, i + 1), prefix[k - 1] - prefix[i])
            body = text[atoms[i].start:atoms[k - 1].end]
            tokens = count(body)
        first = atoms[i]
        page = None
        if pages:
            at = bisect.bisect_right(page_starts, first.start) - 1
            page = pages[max(at, 0)][0]
        chunks.append(Chunk(
            seq=len(chunks), start=first.start, end=atoms[k - 1].end, text=body, tokens=tokens,
            heading=" › ".join(first.path) or None, page=page,
        ))
        if k >= len(atoms):
            break
        last_end = k
        i = _overlap_start(atoms, prefix, i, k, size, overlap)
    return chunks


def _break_at_pages(atoms: list[_Atom], starts: list[int]) -> list[_Atom]:
    """A new page starts a new chunk, so that every chunk cites exactly one page."""
    from dataclasses import replace

    out, at = [], 0
    for atom in atoms:
        crossed = False
        while at < len(starts) and starts[at] <= atom.start:
            at += 1
            crossed = True
        out.append(replace(atom, before=HEADING) if crossed and out else atom)
    return out


def _has_body(atoms: list[_Atom], i: int, j: int) -> bool:
    return any(not atoms[m].heading for m in range(i, j))


def _cut(atoms: list[_Atom], prefix: list[int], i: int, min_end: int, size: int) -> int:
    """The end (exclusive) of the chunk that starts at atom ``i``."""
    n = len(atoms)
    j = i
    while j < n:
        if j > i and atoms[j].before == HEADING and _has_body(atoms, i, j):
            return max(j, min_end)  # a heading always starts a new chunk
        if j >= min_end and prefix[j + 1] - prefix[i] > size:
            break
        j += 1
    if j >= n:
        return n
    # atoms[i:j] fit. Cut at the strongest boundary that leaves the chunk at
    # least half full; between equals, the latest. Never right after a heading.
    half = size / 2
    best, best_key = j, (_priority(atoms, j), j)
    for k in range(max(min_end, i + 1), j):
        if prefix[k] - prefix[i] < half:
            continue
        key = (_priority(atoms, k), k)
        if key > best_key:
            best, best_key = k, key
    return best


def _priority(atoms: list[_Atom], k: int) -> int:
    if atoms[k - 1].heading:
        return -1
    return atoms[k].before


def _overlap_start(atoms: list[_Atom], prefix: list[int], i: int, k: int, size: int, overlap: int) -> int:
    """Where the next chunk starts: back from ``k`` by at most ``overlap`` tokens of whole atoms."""
    if overlap <= 0 or atoms[k].before == HEADING:
        return k
    m = k
    while m - 1 > i and prefix[k] - prefix[m - 1] <= overlap and not atoms[m - 1].heading:
        m -= 1
    # The next chunk must reach past ``k``: give up overlap rather than stall.
    while m < k and prefix[k + 1] - prefix[m] > size:
        m += 1
    return m


# -- atoms ------------------------------------------------------------------


def _atoms(text: str, count: Counter, size: int) -> list[_Atom]:
    out: list[_Atom] = []
    path: list[tuple[int, str]] = []  # (level, title) of the open headings

    def current_path() -> tuple[str, ...]:
        return tuple(title for _, title in path)

    def add(start: int, end: int, before: int, heading: bool = False) -> bool:
        # Trim whitespace: chunks start and end on content.
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            return False
        tokens = count(text[start:end])
        if tokens <= size:
            out.append(_Atom(start, end, tokens, current_path(), heading, before))
            return True
        for s, e, t in _split_long(text, start, end, count, size):
            out.append(_Atom(s, e, t, current_path(), heading, before))
            before = WORD
        return True

    def flush_paragraph(lines: list[tuple[int, int]]) -> None:
        # A paragraph is cut into segments at list items and table rows, and
        # each segment into sentences.
        segments: list[list] = []
        for s, e in lines:
            if not segments:
                segments.append([s, e, BLOCK])
            elif _ITEM.match(text, s, e):
                segments.append([s, e, LINE])
            else:
                segments[-1][1] = e
        for s, e, before in segments:
            for ss, se in _sentences(text, s, e):
                if add(ss, se, before):
                    before = SENTENCE

    paragraph: list[tuple[int, int]] = []
    fence: str | None = None
    offset = 0
    for line in text.splitlines(keepends=True):
        start, end = offset, offset + len(line)
        offset = end
        body = line.rstrip("\r\n")
        if fence is not None:
            add(start, end, LINE)
            stripped = body.strip()
            if stripped.startswith(fence) and set(stripped) <= set(fence[0]):
                fence = None
            continue
        opening = _FENCE.match(body)
        if opening:
            flush_paragraph(paragraph)
            paragraph = []
            fence = opening.group(1)
            add(start, end, BLOCK)
            continue
        heading = _HEADING.match(body)
        if heading:
            flush_paragraph(paragraph)
            paragraph = []
            level = len(heading.group(1))
            title = _WS.sub(" ", (heading.group(2) or "").strip())
            while path and path[-1][0] >= level:
                path.pop()
            if title:
                path.append((level, title))
            add(start, end, HEADING, heading=True)
            continue
        if not body.strip():
            flush_paragraph(paragraph)
            paragraph = []
            continue
        paragraph.append((start, end))
    flush_paragraph(paragraph)
    return out


def _sentences(text: str, start: int, end: int):
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        yield pos, m.start()
        pos = m.end()
    if pos < end:
        yield pos, end


def _split_long(text: str, start: int, end: int, count: Counter, size: int):
    """Runs of whole words of at most ``size`` tokens; characters if one word is longer."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[start:end])]
    run_start = run_end = None
    for ws, we in words:
        ws, we = ws + start, we + start
        if run_start is None:
            run_start, run_end = ws, we
        elif count(text[run_start:we]) <= size:
            run_end = we
            continue
        else:
            yield from _emit(text, run_start, run_end, count, size)
            run_start, run_end = ws, we
    if run_start is not None:
        yield from _emit(text, run_start, run_end, count, size)


def _emit(text: str, start: int, end: int, count: Counter, size: int):
    tokens = count(text[start:end])
    while tokens > size:
        # One "word" longer than a chunk (a URL, base64): the longest prefix that fits.
        lo, hi = start + 1, end
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(text[start:mid]) <= size:
                lo = mid
            else:
                hi = mid - 1
        yield start, lo, count(text[start:lo])
        start = lo
        tokens = count(text[start:end])
    if start < end:
        yield start, end, tokens
