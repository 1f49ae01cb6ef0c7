"""Files a client sends: text in any encoding, binary refused, size limits, PDFs."""

from __future__ import annotations

import codecs
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.errors import BadRequest, NotFound, TooLarge
from chatthy.sources import Document, document_from_bytes, format_document
from chatthy.sources.local import read_spec
from chatthy.sources.pages import describe, parse_pages
from chatthy.sources.textfile import binary_kind, decode_text
from tests.sources.pdf_maker import make_pdf


def test_utf8_text(tmp_path):
    doc = document_from_bytes("notes.md", "# Notizen\r\nÄrger über Öl\r\n".encode())
    assert doc == Document("# Notizen\nÄrger über Öl\n", None, "notes.md", "file", {"encoding": "utf-8"})


@pytest.mark.parametrize("encoding, text", [
    ("cp1252", "Café crème brûlée — “quoted” for €5, naïve façade, déjà vu, and so on. " * 4),
    ("cp1251", "Привет, мир! Это проверка кодировки, и текст должен читаться правильно. " * 4),
    ("koi8-r", "Привет, мир! Это проверка кодировки, и текст должен читаться правильно. " * 4),
    ("cp1250", "Zażółć gęślą jaźń, to jest polski tekst do sprawdzenia kodowania znaków. " * 4),
    ("shift_jis", "これは日本語のテキストです。文字コードの判定を確認します。" * 4),
    ("latin-1", "Hola, ¿qué tal? El año nuevo empieza pronto, señor. " * 4),
])
def test_legacy_encodings_are_detected(encoding, text):
    doc = document_from_bytes("old.txt", text.encode(encoding))
    assert doc.text == text  # not mojibake
    assert doc.meta["encoding"] != "utf-8"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_byte_order_marks(encoding):
    text = "BOM text: naïve ☕ 𝄞\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    assert decode_text("x.txt", data)[0] == text


@pytest.mark.parametrize("data, what", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
    (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64, "an ELF executable"),
    (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive"),
    (b"SQLite format 3\x00" + b"\x00" * 50, "an SQLite database"),
    (b"plain start then \x00\x01\x02 binary", "binary data"),
    (bytes(range(1, 8)) * 100, "binary data"),
])
def test_binary_files_are_refused_with_what_they_are(data, what):
    with pytest.raises(BadRequest) as err:
        document_from_bytes("thing.bin", data)
    assert str(err.value).startswith("thing.bin is a binary file (")
    assert what in str(err.value)


def test_a_real_binary_file_from_disk_is_refused(tmp_path):
    path = tmp_path / "random.dat"
    path.write_bytes(os.urandom(4096))
    upload = read_spec(str(path))
    with pytest.raises(BadRequest, match="random.dat is a binary file"):
        document_from_bytes(upload.name, upload.data)


def test_escape_sequences_in_a_terminal_log_are_text():
    log = "\x1b[32mok\x1b[0m build passed\n" * 20
    assert binary_kind(log.encode()) is None


def test_size_limit_names_both_sizes():
    with pytest.raises(TooLarge, match=r"big.txt is 2.0 MiB; the limit is 1.0 MiB"):
        document_from_bytes("big.txt", b"a" * (2 * 1024 * 1024), max_bytes=1024 * 1024)


def test_page_range_on_a_text_file_is_refused():
    with pytest.raises(BadRequest, match="only applies to PDF"):
        document_from_bytes("a.txt", b"text", pages="1-2")


def test_local_reading(tmp_path):
    (tmp_path / "a#b.md").write_text("hash in the name")
    (tmp_path / "r.pdf").write_bytes(make_pdf(["one", "two"]))
    up = read_spec(str(tmp_path / "a#b.md"))
    assert (up.name, up.data, up.pages) == ("a#b.md", b"hash in the name", None)
    up = read_spec(str(tmp_path / "r.pdf") + "#pages=2")
    assert up.name == "r.pdf" and up.pages == "2" and up.source == str(tmp_path / "r.pdf")
    assert document_from_bytes(up.name, up.data, pages=up.pages).text == "two"
    with pytest.raises(NotFound, match="no such file"):
        read_spec(str(tmp_path / "missing.txt"))
    with pytest.raises(BadRequest, match="is a directory"):
        read_spec(str(tmp_path))
    big = tmp_path / "big.log"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(TooLarge, match="big.log is 2.0 KiB"):
        read_spec(str(big), max_bytes=1024)
    url = read_spec("https://example.org/x.pdf#pages=1-2")
    assert url.remote and url.params() == {"source": "https://example.org/x.pdf", "pages": "1-2",
                                           "url": "https://example.org/x.pdf"}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=400))
def test_any_printable_text_round_trips_as_utf8(text):
    assert decode_text("t", text.encode("utf-8")) == (text, "utf-8")


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=200))
def test_utf16_with_bom_round_trips(text):
    if text.startswith("\x00"):
        return  # FF FE 00 00 is also the UTF-32 BOM: see the test below
    got, encoding = decode_text("t", text.encode("utf-16"))
    assert encoding == "utf-16"
    assert got == text.replace("\r\n", "\n").replace("\r", "\n")


def test_utf16_starting_with_nul_is_not_taken_for_utf32():
    # FF FE 00 00 61 00 62 00: the UTF-32 reading is invalid, the UTF-16 one is not.
    assert decode_text("t", b"\xff\xfe" + "\x00ab".encode("utf-16-le")) == ("\x00ab", "utf-16")


# -- PDFs ----------------------------------------------------------------------

REPORT = make_pdf(["Introduction\nThe first page.", "Methods are described here.", None,
                   "Results: 42 percent."], title="Annual Report")


def test_pdf_text_title_and_page_offsets():
    doc = document_from_bytes("report.pdf", REPORT)
    assert doc.kind == "pdf" and doc.title == "Annual Report"
    assert doc.text == "Introduction\nThe first page.\n\nMethods are described here.\n\nResults: 42 percent."
    assert doc.meta["page_count"] == 4
    for page, offset in doc.meta["page_offsets"]:
        if page in (1, 2, 4):
            expected = {1: "Introduction", 2: "Methods", 4: "Results"}[page]
            assert doc.text[offset:].startswith(expected)


def test_pdf_page_ranges():
    assert document_from_bytes("r.pdf", REPORT, pages="2").text == "Methods are described here."
    doc = document_from_bytes("r.pdf", REPORT, pages="4,1")
    assert doc.text == "Results: 42 percent.\n\nIntroduction\nThe first page."
    assert doc.meta["pages"] == "4,1"
    assert document_from_bytes("r.pdf", REPORT, pages="3-").text == "Results: 42 percent."
    with pytest.raises(BadRequest, match="r.pdf has 4 pages; page range '3-9' is out of range"):
        document_from_bytes("r.pdf", REPORT, pages="3-9")


def test_encrypted_pdf_is_refused_clearly():
    with pytest.raises(BadRequest, match=r"secret.pdf is an encrypted \(password-protected\) PDF"):
        document_from_bytes("secret.pdf", make_pdf(["hidden"], password="hunter2"))


def test_pdf_with_an_empty_user_password_opens():
    assert document_from_bytes("open.pdf", make_pdf(["readable"], password="")).text == "readable"


def test_image_only_pdf_is_refused_clearly():
    with pytest.raises(BadRequest, match="scan.pdf has no text layer .*OCR"):
        document_from_bytes("scan.pdf", make_pdf([None, None]))
    with pytest.raises(BadRequest, match="pages 3 of r.pdf have no text layer"):
        document_from_bytes("r.pdf", REPORT, pages="3")


def test_corrupt_pdf():
    with pytest.raises(BadRequest, match="broken.pdf is not a readable PDF"):
        document_from_bytes("broken.pdf", b"%PDF-1.7\n" + os.urandom(300))


# -- page ranges -----------------------------------------------------------------

@pytest.mark.parametrize("spec, pages", [
    ("3-5", [3, 4, 5]), ("7", [7]), ("8-", [8, 9, 10]), ("-2", [1, 2]), ("1,3,2-4", [1, 3, 2, 4]), (" 1 , 2 ", [1, 2]),
])
def test_parse_pages(spec, pages):
    assert parse_pages(spec, 10) == pages


@pytest.mark.parametrize("spec, message", [
    ("0", "numbered from 1"), ("5-3", "5 comes after 3"), ("11", "has 10 pages"), ("a", "invalid page range"),
    ("", "invalid page range"), ("-", "invalid page range"), ("1,,2", "invalid page range"),
])
def test_bad_page_ranges(spec, message):
    with pytest.raises(BadRequest, match=message):
        parse_pages(spec, 10)


@given(st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=30, unique=True).map(sorted))
def test_describe_round_trips_through_parse(pages):
    assert parse_pages(describe(pages), 60) == pages


def test_format_document_escapes_attributes_and_shows_only_urls_as_sources():
    text = format_document("body\n\n", name="a.md", source="/home/me/private/a.md", title='Say "hi" <now>')
    assert text == '<document name="a.md" title="Say &quot;hi&quot; &lt;now&gt;">\nbody\n</document>'
    assert format_document("x", name="stdin", source="-") == '<document name="stdin">\nx\n</document>'
    assert format_document("x", source="https://x.org/a?b=1&c=2", pages="2") == (
        '<document source="https://x.org/a?b=1&amp;c=2" pages="2">\nx\n</document>')
