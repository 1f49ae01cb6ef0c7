"""An httpx2 client that enforces the address policy on every hop (daemon side).

Two checkpoints, one DNS answer:

1. A request hook runs before each request is sent — the first one and each
   redirect hop, as httpx2 calls request hooks per hop. It checks the scheme,
   resolves the host once and lets :class:`FetchPermit` judge every address.
   This is also what guards requests that go through an HTTP proxy from the
   environment (``HTTPS_PROXY``…): the proxy connects, so the host is resolved
   here only to be judged.
2. Direct connections go through :class:`PinnedBackend`, which connects to
   the addresses judged in step 1 (the IP itself, so TLS still verifies the
   host name) and to nothing else: a DNS server that answers with a public
   address for the check and a private one for the connection (DNS
   rebinding) never gets the second question.

httpx2 has no parameter for the network backend, so :class:`GuardedClient`
builds its default transport itself (``_init_transport``, the constructor's
own hook) around a connection pool that uses :class:`PinnedBackend`; proxies
from the environment are still mounted by httpx2 as usual.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore2
import httpx2

from chatthy.sources.address_policy import FetchPermit

log = logging.getLogger("chatthy.sources")


class AddressBook:
    """The addresses each host resolved to and were allowed, for one fetch."""

    def __init__(self, permit: FetchPermit) -> None:
        self.permit = permit
        self.allowed: dict[str, list[str]] = {}

    async def on_request(self, request: httpx2.Request) -> None:
        """The request hook: judge this hop before anything is sent."""
        url = str(request.url)
        self.permit.check_scheme(url, request.url.scheme)
        host = request.url.raw_host.decode("ascii")
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        addresses = await resolve(host, port)
        self.permit.judge(url, host, addresses)
        self.allowed[host] = addresses

    async def addresses_for(self, host: str, port: int) -> list[str]:
        """What a direct connection to ``host`` may use: the addresses judged for it."""
        found = self.allowed.get(host)
        if found is None:  # not seen by the hook (it always runs first): judge it now
            found = await resolve(host, port)
            self.permit.judge(f"//{host}:{port}", host, found)
            self.allowed[host] = found
        return found


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for TCP, in the resolver's order, without repeats."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) and exc.strerror else str(exc)
        infos = []
    else:
        reason = "no address"
    out: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if len(sockaddr) == 4 and sockaddr[3] and "%" not in address:  # IPv6 with a scope id
            address = f"{address}%{sockaddr[3]}"
        if address not in out:
            out.append(address)
    if not out:  # raised outside the except block: the message says it all, no cause appended
        raise httpx2.ConnectError(f"cannot resolve {host}: {reason}")
    return out


class PinnedBackend(httpcore2.AsyncNetworkBackend):
    """Connects to the judged addresses of a host, one after the other, never re-resolving."""

    def __init__(self, book: AddressBook) -> None:
        self.book = book
        self.inner = httpcore2.AnyIOBackend()
        self.connected: list[tuple[str, str, int]] = []  # (host, address, port): what was really dialled

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore2.AsyncNetworkStream:
        addresses = await self.book.addresses_for(host, port)
        last: Exception | None = None
        for address in addresses:
            try:
                stream = await self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                      socket_options=socket_options)
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                last = exc
                continue
            self.connected.append((host, address, port))
            return stream
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("fetching over a Unix socket is not allowed")

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class PinnedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's transport with a connection pool that dials through a PinnedBackend."""

    def __init__(self, backend: PinnedBackend, *, verify: Any = True, cert: Any = None, trust_env: bool = True,
                 http1: bool = True, http2: bool = False, limits: httpx2.Limits = httpx2.Limits()) -> None:
        super().__init__(verify=verify, cert=cert, trust_env=trust_env, http1=http1, http2=http2, limits=limits)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=http1, http2=http2, network_backend=backend)


class GuardedClient(httpx2.AsyncClient):
    """An AsyncClient whose every hop is judged by ``permit`` (see the module docstring)."""

    def __init__(self, permit: FetchPermit, **kw: Any) -> None:
        self.book = AddressBook(permit)
        self.backend = PinnedBackend(self.book)
        hooks = dict(kw.pop("event_hooks", None) or {})
        hooks["request"] = [self.book.on_request, *hooks.get("request", [])]
        super().__init__(event_hooks=hooks, **kw)

    def _init_transport(self, verify: Any = True, cert: Any = None, trust_env: bool = True, http1: bool = True,
                        http2: bool = False, limits: httpx2.Limits = httpx2.Limits(),
                        transport: Any = None) -> httpx2.AsyncBaseTransport:
        if transport is not None:
            raise TypeError("GuardedClient builds its own transport")
        return PinnedTransport(self.backend, verify=verify, cert=cert, trust_env=trust_env, http1=http1,
                               http2=http2, limits=limits)


def client_for(permit: FetchPermit, **kw: Any) -> httpx2.AsyncClient:
    """A guarded client, or a plain one when the permit checks nothing (allow_private_urls)."""
    if not permit.checks_addresses:
        return httpx2.AsyncClient(**kw)
    return GuardedClient(permit, **kw)
