"""Chunking: exact slices, never over size, nothing lost, Markdown respected."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.vdb.chunking import chunk_text, embedding_input


def words(text: str) -> int:
    return len(text.split())


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
SENTENCE = st.lists(WORD, min_size=1, max_size=25).map(lambda ws: " ".join(ws).capitalize() + ".")
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=8).map(" ".join)
HEADING = st.tuples(st.integers(1, 4), st.lists(WORD, min_size=1, max_size=4)).map(
    lambda t: "#" * t[0] + " " + " ".join(t[1]))
CODE = st.lists(st.lists(WORD, min_size=1, max_size=6).map(" ".join), min_size=1, max_size=12).map(
    lambda lines: "```\n" + "\n".join(lines) + "\n```")
ITEMS = st.lists(st.lists(WORD, min_size=1, max_size=10).map(" ".join), min_size=1, max_size=6).map(
    lambda items: "\n".join("- " + i for i in items))
LONG_WORD = st.text(alphabet="xyz", min_size=30, max_size=90)  # a "word" longer than a chunk (char counter)
BLOCK = st.one_of(PARAGRAPH, PARAGRAPH, HEADING, CODE, ITEMS)
DOCUMENT = st.lists(BLOCK, min_size=1, max_size=14).map("\n\n".join)


def heading_lines(text: str) -> list[int]:
    """Start offsets of heading lines outside code fences."""
    out, offset, fenced = [], 0, False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            out.append(offset)
        offset += len(line)
    return out


@settings(max_examples=150, deadline=None)
@given(DOCUMENT, st.integers(8, 80), st.data())
def test_chunks_are_exact_slices_within_size_covering_everything(text, size, data):
    overlap = data.draw(st.integers(0, size // 2))
    chunks = chunk_text(text, words, size=size, overlap=overlap)
    covered = bytearray(len(text))
    for i, c in enumerate(chunks):
        assert c.seq == i
        assert c.text == text[c.start:c.end]
        assert c.text == c.text.strip()
        assert 0 < c.tokens == words(c.text) <= size
        covered[c.start:c.end] = b"\x01" * (c.end - c.start)
    assert all(covered[i] or text[i].isspace() for i in range(len(text)))
    for a, b in zip(chunks, chunks[1:]):
        assert a.start < b.start and a.end < b.end
        if b.start < a.end:  # overlap: only whole atoms, at most `overlap` tokens
            assert words(text[b.start:a.end]) <= overlap


@settings(max_examples=150, deadline=None)
@given(DOCUMENT, st.integers(8, 80))
def test_a_heading_only_ever_starts_a_chunk(text, size):
    chunks = chunk_text(text, words, size=size, overlap=size // 4)
    for h in heading_lines(text):
        for c in chunks:
            if c.start < h < c.end:
                # Only headings may come before it in the chunk (a heading and its subheading).
                before = text[c.start:h]
                assert all(line.startswith("#") or not line.strip() for line in before.splitlines()), (before, c)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(PARAGRAPH, CODE), min_size=2, max_size=10).map("\n\n".join), st.integers(20, 80))
def test_a_code_block_of_at_most_half_a_chunk_is_never_split(text, size):
    chunks = chunk_text(text, words, size=size, overlap=0)
    for m in re.finditer(r"```\n.*?\n```", text, re.S):
        if words(m.group()) * 2 > size:
            continue
        assert any(c.start <= m.start() and m.end() <= c.end for c in chunks), m.group()


@given(st.lists(LONG_WORD, min_size=1, max_size=4).map(" ".join))
def test_words_longer_than_a_chunk_are_cut_by_characters(text):
    chunks = chunk_text(text, len, size=20, overlap=0)
    assert all(c.tokens <= 20 and c.text == text[c.start:c.end] for c in chunks)
    assert "".join(c.text for c in chunks) == text.replace(" ", "")


def test_sections_paragraphs_and_positions():
    text = (
        "# Guide\n\nIntro sentence one. Intro sentence two.\n\n"
        "## Install\n\nRun pip install. Then start it.\n\n```sh\npip install chatthy\n```\n\n"
        "## Use\n\nAsk a question. " + " ".join(f"Sentence {i} is here." for i in range(20))
    )
    chunks = chunk_text(text, words, size=30, overlap=6)
    assert [c.heading for c in chunks[:3]] == ["Guide", "Guide › Install", "Guide › Use"]
    assert chunks[1].text.startswith("## Install") and chunks[1].text.endswith("```")
    assert all(c.heading == "Guide › Use" for c in chunks[2:])
    # Long sections continue with overlap, cut at sentence ends.
    assert all(c.text.endswith(".") for c in chunks[2:])
    assert chunks[3].start < chunks[2].end
    assert chunks[1].position == "Guide › Install"


def test_page_numbers_come_from_page_offsets():
    pages = ["Cover page text.", "Chapter one is about ducks.", "Chapter two is about geese."]
    text = "\n\n".join(pages)
    offsets = [(1, 0), (2, len(pages[0]) + 2), (3, len(pages[0]) + len(pages[1]) + 4)]
    chunks = chunk_text(text, words, size=5, overlap=0, page_offsets=offsets)
    assert [(c.page, c.text) for c in chunks] == [(1, pages[0]), (2, pages[1]), (3, pages[2])]
    assert chunks[1].position == "p. 2"


def test_empty_and_blank_documents_have_no_chunks():
    assert chunk_text("", words, size=10) == []
    assert chunk_text("  \n\n\t ", words, size=10) == []


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        chunk_text("x", words, size=0)
    with pytest.raises(ValueError):
        chunk_text("x", words, size=10, overlap=10)


def test_real_tokenizer_limit_holds():
    from chatthy.vdb.local_embedder import LocalEmbedder

    count = LocalEmbedder().count_tokens
    text = ("# Notes\n\n" + " ".join(f"Überprüfung {i}: naïve café, 北京 and emoji 🎉 tokens." for i in range(200))
            + "\n\n```python\n" + "\n".join(f"x_{i} = call({i}, 'ünïcode')" for i in range(80)) + "\n```\n")
    chunks = chunk_text(text, count, size=120, overlap=20)
    assert len(chunks) > 5
    assert all(0 < c.tokens == count(c.text) <= 120 for c in chunks)


def test_embedding_input_leads_with_the_heading_or_title():
    assert embedding_input("body", "A › B", "Title") == "A › B\n\nbody"
    assert embedding_input("body", None, "Title") == "Title\n\nbody"
    assert embedding_input("## B\n\nbody", "A › B", None) == "## B\n\nbody"
    assert embedding_input("body", None, None) == "body"


def test_a_chunk_is_cut_early_at_a_paragraph_end_only_when_half_full():
    text = "Short intro.\n\n" + " ".join(f"Sentence number {i} goes on." for i in range(30))
    chunks = chunk_text(text, words, size=40, overlap=0)
    # Cutting after "Short intro." would leave a 2-token chunk: the sentence boundary later wins.
    assert chunks[0].tokens >= 20
    text = " ".join(f"First part {i}." for i in range(8)) + "\n\n" + " ".join(f"Second bit {i}." for i in range(20))
    chunks = chunk_text(text, words, size=40, overlap=0)
    assert chunks[0].text.endswith("First part 7.")  # 24 tokens, then the paragraph break
