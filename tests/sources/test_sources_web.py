"""URLs fetched from a real local web server: Markdown that keeps headings,
code and tables; redirects, errors, timeouts and size caps."""

from __future__ import annotations

import time

import anyio
import pytest

from chatthy.errors import BadRequest, NotFound, ProviderError, TooLarge
from chatthy.sources import Requester, SourceSettings, fetch_document, is_remote, split_pages_spec
from tests.sources.pdf_maker import make_pdf
from tests.sources.site import ARTICLE, Site


@pytest.fixture(scope="module")
def site():
    with Site() as s:
        s.page("/article", ARTICLE)
        s.redirect("/old", "/moved-once")
        s.redirect("/moved-once", "/article", status=301)
        s.redirect("/loop", "/loop")
        s.page("/slow", ARTICLE, delay=3.0)
        s.page("/big", "x" * (300 * 1024), content_type="text/plain")
        s.page("/endless", "y" * 65536, content_type="text/plain", chunks=64)
        s.page("/report.pdf", make_pdf(["First page text", "Second page text", "Third page text"],
                                       title="Quarterly report"), content_type="application/pdf")
        s.page("/latin1.txt", "Grüße aus Köln, café crème".encode("latin-1"),
               content_type="text/plain; charset=ISO-8859-1")
        s.page("/data.json", '{"a": 1}', content_type="application/json")
        s.page("/picture", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, content_type="image/png")
        s.page("/script-only", "<html><body><script>render()</script></body></html>")
        s.page("/gone", "<h1>Gone</h1>", status=410)
        s.page("/broken", "oops", status=503, content_type="text/plain")
        s.page("/headerless-table", """<html><body><article><h1>Specs</h1>
            <p>The board ships with these settings, which are explained in the manual at length.</p>
            <table><tr><td>voltage</td><td>5 V</td></tr><tr><td>current</td><td>2 A</td></tr></table>
            <p>Everything else is configurable from the web interface after the first boot.</p>
            </article></body></html>""")
        yield s


def fetch(spec: str, **settings):
    options = SourceSettings(**{"timeout": 5.0, **settings})
    # The site is on 127.0.0.1: fetched as the local user's own request (tests/sources_ssrf has the rest).
    return anyio.run(lambda: fetch_document(spec, settings=options, requester=Requester.LOCAL_USER))


def test_article_keeps_headings_code_and_tables(site):
    doc = fetch(site.url("/article"))
    text = doc.text
    assert doc.kind == "url" and doc.source == site.url("/article")
    assert doc.title == "Write-ahead logging in SQLite"
    assert doc.meta["url"] == site.url("/article")
    # headings at their levels
    assert "# Write-ahead logging in SQLite" in text
    assert "\n## Turning it on\n" in text
    assert "\n## Rollback journal or WAL?\n" in text
    assert "\n### Checkpoints\n" in text
    # the code block, verbatim and fenced, braces included
    assert '```\nimport sqlite3\nconn = sqlite3.connect("app.db")\n' in text
    assert 'config = {"retries": 3, "template": "{{not_a_var}}"}\n```' in text
    assert "`PRAGMA wal_checkpoint`" in text
    # the table as a Markdown table with its header row
    assert "| Mode | Readers block the writer | Files |" in text
    assert "| WAL | no | db, -wal, -shm |" in text
    lines = text.splitlines()
    header = lines.index("| Mode | Readers block the writer | Files |")
    assert set(lines[header + 1]) <= set("|-: ")
    # boilerplate is gone
    for junk in ("Privacy", "About us", "Related: backups"):
        assert junk not in text


def test_markdown_blocks_are_separated_by_blank_lines(site):
    text = fetch(site.url("/article")).text
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#") and i > 0:
            assert lines[i - 1] == "", f"no blank line before {line!r}"
    fences = [i for i, line in enumerate(lines) if line.startswith("```")]
    closing = fences[1::2]
    assert closing and all(lines[i + 1] == "" for i in closing if i + 1 < len(lines))


def test_a_table_without_header_row_gets_one(site):
    text = fetch(site.url("/headerless-table")).text
    assert "| voltage | 5 V |\n|---|---|\n| current | 2 A |" in text


def test_redirects_are_followed(site):
    doc = fetch(site.url("/old"))
    assert doc.meta["url"] == site.url("/article")
    assert doc.source == site.url("/old")
    assert "## Turning it on" in doc.text


def test_redirect_loop_is_cut_short(site):
    with pytest.raises(ProviderError, match="more than 3 redirects"):
        fetch(site.url("/loop"), max_redirects=3)


def test_not_found_and_gone(site):
    with pytest.raises(NotFound, match=r"/nothing-here: HTTP 404"):
        fetch(site.url("/nothing-here"))
    with pytest.raises(NotFound, match="HTTP 410"):
        fetch(site.url("/gone"))


def test_server_error_is_a_provider_error_naming_the_url(site):
    with pytest.raises(ProviderError, match=r"/broken: HTTP 503"):
        fetch(site.url("/broken"))


def test_slow_server_hits_the_timeout(site):
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"timeout"):
        fetch(site.url("/slow"), timeout=0.5)
    assert time.monotonic() - started < 2.5


def test_size_cap_by_content_length_and_while_streaming(site):
    with pytest.raises(TooLarge, match="limit is 100.0 KiB"):
        fetch(site.url("/big"), max_bytes=100 * 1024)
    started = time.monotonic()
    with pytest.raises(TooLarge, match="larger than 1.0 MiB"):
        fetch(site.url("/endless"), max_bytes=1024 * 1024)  # 4 MiB offered, no length
    assert time.monotonic() - started < 3


def test_pdf_over_http_with_a_page_range(site):
    doc = fetch(site.url("/report.pdf") + "#pages=2-3")
    assert doc.kind == "pdf" and doc.title == "Quarterly report"
    assert doc.text == "Second page text\n\nThird page text"
    assert doc.meta["pages"] == "2-3" and doc.meta["page_offsets"] == [(2, 0), (3, 18)]
    assert doc.source == site.url("/report.pdf")


def test_page_range_on_a_web_page_is_refused(site):
    with pytest.raises(BadRequest, match="not a PDF"):
        fetch(site.url("/article") + "#pages=1")


def test_text_in_the_declared_charset(site):
    doc = fetch(site.url("/latin1.txt"))
    assert doc.text == "Grüße aus Köln, café crème"
    assert doc.meta["encoding"] == "iso-8859-1"
    assert fetch(site.url("/data.json")).text == '{"a": 1}'


def test_binary_content_is_refused(site):
    with pytest.raises(BadRequest, match=r"serves image/png \(a PNG image\)"):
        fetch(site.url("/picture"))


def test_page_without_text(site):
    with pytest.raises(BadRequest, match="no readable text"):
        fetch(site.url("/script-only"))


def test_unreachable_host_and_bad_urls():
    with pytest.raises(ProviderError, match="cannot fetch http://127.0.0.1:9/"):
        fetch("http://127.0.0.1:9/")  # the discard port: nothing listens
    with pytest.raises(BadRequest, match="not a URL"):
        fetch("ftp://example.org/file")


def test_the_user_agent_is_sent(site):
    fetch(site.url("/article"), user_agent="chatthy-test/1.0")
    assert site.requests[-1][2].get("User-Agent") == "chatthy-test/1.0"


def test_spec_helpers():
    assert is_remote("https://x.org") and is_remote("HTTP://x.org") and not is_remote("notes.md")
    assert split_pages_spec("a.pdf#pages=3-7") == ("a.pdf", "3-7")
    assert split_pages_spec("https://x/a.pdf#page=2") == ("https://x/a.pdf", "2")
    assert split_pages_spec("a#b.md") == ("a#b.md", None)
