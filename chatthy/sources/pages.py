"""Page ranges (``3-7``, ``1,4,9-``, ``-5``): parsing and checking, stdlib only."""

from __future__ import annotations

import re

from chatthy.errors import BadRequest

_PART = re.compile(r"^(\d*)(-?)(\d*)$")


def parse_pages(spec: str, page_count: int, *, name: str = "the PDF") -> list[int]:
    """1-based page numbers selected by ``spec``, in order, without repeats.

    ``3-7`` pages 3 to 7; ``9-`` page 9 to the end; ``-5`` pages 1 to 5;
    ``1,4,9-`` several. A page past the end is an error naming the count.
    """
    pages: list[int] = []
    seen: set[int] = set()
    for raw in spec.replace(" ", "").split(","):
        m = _PART.match(raw)
        if not raw or not m or (not m.group(1) and not m.group(3)):
            raise BadRequest(f"invalid page range {spec!r}: use e.g. 3-7, 9-, -5 or 1,4,9-12")
        first_s, dash, last_s = m.groups()
        first = int(first_s) if first_s else 1
        last = (int(last_s) if last_s else page_count) if dash else first
        if first < 1 or last < 1:
            raise BadRequest(f"invalid page range {spec!r}: pages are numbered from 1")
        if first > last:
            raise BadRequest(f"invalid page range {spec!r}: {first} comes after {last}")
        if last > page_count or first > page_count:
            plural = "s" if page_count != 1 else ""
            raise BadRequest(f"{name} has {page_count} page{plural}; page range {spec!r} is out of range")
        for n in range(first, last + 1):
            if n not in seen:
                seen.add(n)
                pages.append(n)
    return pages


def describe(pages: list[int]) -> str:
    """``[3, 4, 5, 9]`` → ``"3-5,9"`` (for metadata and listings)."""
    out: list[str] = []
    start = prev = None
    for n in pages:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if start != prev else str(start))
    return ",".join(out)
