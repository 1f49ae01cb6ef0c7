"""Fetching a URL (daemon side): httpx2, then HTML → Markdown, PDF or text.

One deadline covers the whole fetch (connect, every redirect, the body), and
the body is counted as it arrives (after content-decoding, so a compressed
bomb is cut off too). Network failures and HTTP errors become chatthy errors
that name the URL: 404/410 → NotFound, too big → TooLarge, a bad URL or an
unreadable content type → BadRequest, anything else the remote side did
(timeouts, refused connections, 5xx) → ProviderError.

Every hop is judged by the address policy (chatthy.sources.address_policy,
enforced by chatthy.sources.guarded_http): a refused scheme or address is an
AddressRefused (a BadRequest) naming the hop, raised before connecting to it.
"""

from __future__ import annotations

import logging
import re

import anyio

from chatthy.errors import BadRequest, NotFound, ProviderError, TooLarge
from chatthy.sources import Document
from chatthy.sources.address_policy import AddressRefused, FetchPermit, Requester
from chatthy.sources.settings import SourceSettings
from chatthy.sources.textfile import binary_kind, check_size, human_size, is_pdf

log = logging.getLogger("chatthy.sources")

ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.9,*/*;q=0.5"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript",
               "application/x-yaml", "application/yaml", "application/toml", "application/x-sh")


class Fetched:
    def __init__(self, url: str, status: int, content_type: str, charset: str | None, body: bytes) -> None:
        self.url = url
        self.status = status
        self.content_type = content_type
        self.charset = charset
        self.body = body


async def fetch_bytes(url: str, settings: SourceSettings, *, requester: Requester = Requester.MODEL) -> Fetched:
    """GET ``url`` following redirects, within the deadline and the size cap.

    ``requester`` (who asked) decides whether non-public addresses may be
    reached; the default is the strictest.
    """
    import httpx2

    from chatthy.sources.guarded_http import client_for

    permit = FetchPermit(requester, allow_private=settings.allow_private_urls)
    headers = {"User-Agent": settings.user_agent, "Accept": ACCEPT}
    timeout = httpx2.Timeout(settings.timeout, connect=settings.connect_timeout)
    try:
        with anyio.fail_after(settings.timeout):
            async with client_for(permit, follow_redirects=True, max_redirects=settings.max_redirects,
                                  timeout=timeout, headers=headers) as client:
                async with client.stream("GET", url) as resp:
                    if resp.status_code >= 400:
                        raise _http_error(url, resp.status_code, resp.reason_phrase)
                    declared = resp.headers.get("content-length", "")
                    if declared.isdigit():
                        check_size(url, int(declared), settings.max_bytes)
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in resp.aiter_bytes():
                        size += len(chunk)
                        if size > settings.max_bytes:
                            raise TooLarge(f"{url} is larger than {human_size(settings.max_bytes)}"
                                           " ([sources] max_size_mb in config.toml)")
                        chunks.append(chunk)
                    content_type, charset = _content_type(resp.headers.get("content-type", ""))
                    return Fetched(str(resp.url), resp.status_code, content_type, charset, b"".join(chunks))
    except AddressRefused as exc:
        log.warning("%s (asked by the %s)", exc.message, requester.value)
        raise
    except TimeoutError:
        raise ProviderError(f"{url}: no complete answer within {settings.timeout:g} s"
                            " ([sources] timeout in config.toml)") from None
    except httpx2.TimeoutException:
        raise ProviderError(f"{url}: timed out ([sources] timeout in config.toml)") from None
    except httpx2.TooManyRedirects:
        raise ProviderError(f"{url}: more than {settings.max_redirects} redirects") from None
    except (httpx2.InvalidURL, httpx2.UnsupportedProtocol) as exc:
        raise BadRequest(f"cannot fetch {url}: {exc}") from None
    except httpx2.HTTPError as exc:
        raise ProviderError(f"cannot fetch {url}: {_reason(exc)}") from None


def _http_error(url: str, status: int, reason: str) -> Exception:
    text = f"{url}: HTTP {status} {reason}".rstrip()
    if status in (404, 410):
        return NotFound(text)
    if status in (401, 403):
        return ProviderError(f"{text} (the site refuses chatthy's request)")
    return ProviderError(text)


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) and str(cause) not in text:
        text += f" ({cause})"
    return text


def _content_type(header: str) -> tuple[str, str | None]:
    main, _, params = header.partition(";")
    m = re.search(r"charset\s*=\s*\"?([\w.:-]+)", params, re.IGNORECASE)
    return main.strip().lower(), (m.group(1) if m else None)


async def fetch_url(url: str, settings: SourceSettings, *, pages: str | None = None,
                    requester: Requester = Requester.MODEL) -> Document:
    """A Document from a web page (Markdown), a PDF, or a text resource."""
    got = await fetch_bytes(url, settings, requester=requester)
    meta = {"url": got.url, "content_type": got.content_type}
    if got.content_type == "application/pdf" or is_pdf(got.body):
        from chatthy.sources.pdf import pdf_document

        return await anyio.to_thread.run_sync(
            lambda: pdf_document(url, got.body, pages=pages, source=url, kind="pdf", meta=meta))
    if pages:
        raise BadRequest(f"{url} is not a PDF ({got.content_type or 'unknown type'}): a page range does not apply")
    if got.content_type in _HTML_TYPES or (not got.content_type and _sniff_html(got.body)):
        from chatthy.sources.html_markdown import html_to_markdown

        html = _decode_html(got)
        text, title, extra = await anyio.to_thread.run_sync(lambda: html_to_markdown(html, got.url))
        meta.update(extra)
        return Document(text, title, url, "url", meta)
    if got.content_type.startswith("text/") or got.content_type in _TEXT_TYPES \
            or got.content_type.endswith(("+json", "+xml")) or not got.content_type:
        text, encoding = _decode_text(url, got)
        meta["encoding"] = encoding
        return Document(text, None, url, "url", meta)
    what = binary_kind(got.body)
    raise BadRequest(f"{url} serves {got.content_type}{f' ({what})' if what else ''}, which chatthy "
                     "cannot read (web pages, PDFs and text are supported)")


def _sniff_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def _decode_html(got: Fetched) -> str | bytes:
    if got.charset:
        try:
            return got.body.decode(got.charset, errors="replace")
        except LookupError:
            pass
    return got.body  # trafilatura reads <meta charset> and guesses the rest


def _decode_text(url: str, got: Fetched) -> tuple[str, str]:
    from chatthy.sources.textfile import decode_text

    if got.charset:
        try:
            text = got.body.decode(got.charset)
            return text.replace("\r\n", "\n").replace("\r", "\n"), got.charset.lower()
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(url, got.body)
