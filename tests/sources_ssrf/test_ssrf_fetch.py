"""The guarded fetch in process: real sockets, a real HTTP server on 127.0.0.1.

Refusals happen before any connection (the server's request log stays empty);
connections go to the addresses that were checked (pinning), never to a
second DNS answer.
"""

from __future__ import annotations

import socket
import time

import anyio
import pytest

from chatthy.errors import BadRequest, ProviderError
from chatthy.sources import Requester, SourceSettings, fetch_document
from chatthy.sources.address_policy import AddressRefused, FetchPermit
from chatthy.sources.guarded_http import AddressBook, GuardedClient, PinnedBackend
from tests.sources.site import ARTICLE, Site


@pytest.fixture(scope="module")
def site():
    with Site() as s:
        s.page("/article", ARTICLE)
        s.redirect("/hop", "/article")
        s.redirect("/to-ftp", "ftp://127.0.0.1/file")
        yield s


def fetch(url: str, requester: Requester, **settings):
    options = SourceSettings(**{"timeout": 5.0, **settings})
    return anyio.run(lambda: fetch_document(url, settings=options, requester=requester))


def port_of(site) -> int:
    return int(site.url("/").split(":")[2].split("/")[0])


@pytest.mark.parametrize("form", [
    "http://127.0.0.1:{port}/article",
    "http://localhost:{port}/article",
    "http://LOCALHOST:{port}/article",
    "http://127.1:{port}/article",  # inet_aton's short forms
    "http://2130706433:{port}/article",  # 127.0.0.1 as one number
    "http://0x7f000001:{port}/article",
    "http://[::ffff:127.0.0.1]:{port}/article",
    "http://0.0.0.0:{port}/article",  # Linux connects this to localhost
    "http://user@127.0.0.1:{port}/article",
    "http://example.org@127.0.0.1:{port}/article",
])
def test_every_spelling_of_loopback_is_refused_to_the_model(site, form):
    before = len(site.requests)
    url = form.format(port=port_of(site))
    with pytest.raises(AddressRefused, match="^refusing to fetch .*(loopback|unspecified) address "
                                             r"\(the fetch_url tool reaches public addresses only"):
        fetch(url, Requester.MODEL)
    assert len(site.requests) == before


@pytest.mark.parametrize("form", ["http://0177.0.0.1:{port}/article", "http://localhost.:{port}/article",
                                  "http://[::1]:{port}/article", "http://127.0.0.1.nip.invalid:{port}/article"])
def test_other_spellings_fail_one_way_or_another_and_never_connect(site, form):
    """httpx rejects octal IPv4, this resolver knows no ``localhost.``, ``::1`` is refused: none is fetched."""
    before = len(site.requests)
    with pytest.raises(BadRequest):
        try:
            fetch(form.format(port=port_of(site)), Requester.MODEL)
        except ProviderError as exc:  # the name does not resolve here
            assert "cannot resolve" in exc.message
            raise BadRequest(exc.message) from None
    assert len(site.requests) == before


def test_the_metadata_address_is_refused_before_connecting():
    started = time.monotonic()
    with pytest.raises(AddressRefused, match="169.254.169.254 is the cloud metadata service, a link-local address"):
        fetch("http://169.254.169.254/latest/meta-data/iam/security-credentials/", Requester.REMOTE_USER)
    assert time.monotonic() - started < 2  # no connection attempt to wait for


def test_the_local_user_fetches_loopback_and_follows_a_local_redirect(site):
    doc = fetch(site.url("/hop"), Requester.LOCAL_USER)
    assert doc.title == "Write-ahead logging in SQLite" and doc.meta["url"] == site.url("/article")


def test_allow_private_urls_lets_the_model_in(site):
    doc = fetch(site.url("/article"), Requester.MODEL, allow_private_urls=True)
    assert "write-ahead log" in doc.text


def test_a_redirect_to_another_scheme_is_refused(site):
    with pytest.raises(AddressRefused, match=r"^refusing to fetch ftp://127.0.0.1/file \(redirected from "
                                             r"http://127.0.0.1:\d+/to-ftp\): only http and https"):
        fetch(site.url("/to-ftp"), Requester.LOCAL_USER)


def test_a_name_that_does_not_resolve_is_one_clear_provider_error():
    with pytest.raises(ProviderError, match=r"^cannot fetch http://no-such-host.invalid/: cannot resolve "
                                            r"no-such-host.invalid: [^(]*$"):
        fetch("http://no-such-host.invalid/", Requester.MODEL)


# -- pinning: what is dialled is what was checked -------------------------------------------------

def test_the_client_dials_the_checked_address_not_the_name(site):
    async def main():
        async with GuardedClient(FetchPermit(Requester.LOCAL_USER), timeout=5) as client:
            resp = await client.get(f"http://localhost:{port_of(site)}/article")
            return resp.status_code, client.book.allowed, client.backend.connected

    status, allowed, connected = anyio.run(main)
    assert status == 200
    (host, address, port), = connected
    assert host == "localhost" and address in allowed["localhost"] and address in ("127.0.0.1", "::1")


def test_a_connection_uses_the_pinned_answer_and_never_asks_dns_again(site):
    """As after a DNS rebinding: the name no longer resolves (or resolves elsewhere); the check's answer is used."""
    book = AddressBook(FetchPermit(Requester.LOCAL_USER))
    book.allowed["rebound.invalid"] = ["127.0.0.1"]  # what the hop's check resolved and judged
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("rebound.invalid", 80)

    async def main():
        backend = PinnedBackend(book)
        stream = await backend.connect_tcp("rebound.invalid", port_of(site), timeout=5)
        await stream.aclose()
        return backend.connected

    assert anyio.run(main) == [("rebound.invalid", "127.0.0.1", port_of(site))]


def test_the_backend_refuses_an_unchecked_private_host_by_itself(site):
    """Even if the request hook were bypassed, a direct connection is judged at connect time."""
    before = len(site.requests)

    async def main():
        await PinnedBackend(AddressBook(FetchPermit(Requester.MODEL))).connect_tcp("127.0.0.1", port_of(site))

    with pytest.raises(AddressRefused, match="127.0.0.1 is a loopback address"):
        anyio.run(main)
    assert len(site.requests) == before
