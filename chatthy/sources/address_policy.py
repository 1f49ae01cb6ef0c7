"""Which addresses the daemon may fetch URLs from, and for whom (SSRF guard).

The daemon fetches URLs for its clients and for the model (the ``fetch_url``
tool). Without a policy it is a confused deputy: a TCP client or a prompt
injection could make it read ``http://127.0.0.1:…`` services, the LAN, or the
cloud metadata service at 169.254.169.254. The rule:

* Only ``http`` and ``https`` URLs are fetched.
* Every address a host resolves to must be *public* (:func:`classify`); this is
  checked after DNS resolution and again for every redirect hop, and the
  connection then goes to an address that was checked (never to a second,
  possibly rebound, DNS answer).
* A non-public address is allowed only
  - when ``[sources] allow_private_urls = true`` (then nothing is checked), or
  - for a :attr:`Requester.LOCAL_USER` (an explicit request — ws load,
    ask --file, summarize, vdb ingest — from a client on the daemon's own
    Unix socket, i.e. the same uid) whose *own* URL names a non-public host:
    the user's localhost docs server works, but a public page cannot redirect
    the daemon into the user's network.
* :attr:`Requester.REMOTE_USER` (over TCP) and :attr:`Requester.MODEL` (every
  fetch the model asks for, whatever the transport) never reach non-public
  addresses unless allowed in config.toml.

"Public" is conservative: IANA's special-purpose blocks are all refused, even
the few globally reachable anycast ones. IPv4 addresses embedded in IPv6
(IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``)
are judged by the IPv4 address they carry. Standard library only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum

from chatthy.errors import BadRequest

ALLOWED_SCHEMES = ("http", "https")
METADATA_ADDRESSES = frozenset({"169.254.169.254", "fd00:ec2::254"})  # AWS, GCP, Azure, …; AWS IPv6

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# (network, kind) in the order they are tried; the first match wins.
_IPV4_BLOCKS: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified"),  # "this network"; Linux connects 0.0.0.0 to localhost
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "shared"),  # carrier-grade NAT; Alibaba's metadata is 100.100.100.200
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "reserved"),  # IETF protocol assignments
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("192.88.99.0/24"), "reserved"),  # the retired 6to4 relay anycast
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "broadcast"),
    (_V4("240.0.0.0/4"), "reserved"),
)

_IPV6_EMBEDDING = (
    _V6("::ffff:0:0/96"),  # IPv4-mapped
    _V6("::ffff:0:0:0/96"),  # IPv4-translated (SIIT)
    _V6("64:ff9b::/96"),  # NAT64, well-known prefix
)
_IPV6_BLOCKS: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("64:ff9b:1::/48"), "private"),  # local-use NAT64
    (_V6("2001::/23"), "reserved"),  # IETF protocol assignments, Teredo among them
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("3fff::/20"), "documentation"),
    (_V6("fc00::/7"), "private"),  # unique local
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local"),  # deprecated, still routed on some LANs
    (_V6("ff00::/8"), "multicast"),
)
_IPV6_GLOBAL_UNICAST = _V6("2000::/3")  # everything else is unassigned or special
_SIX_TO_FOUR = _V6("2002::/16")

_DESCRIPTIONS = {
    "public": "a public address",
    "unspecified": "an unspecified address",
    "loopback": "a loopback address",
    "private": "a private address",
    "shared": "a carrier-grade NAT (shared) address",
    "link-local": "a link-local address",
    "metadata": "the cloud metadata service, a link-local address",
    "site-local": "a site-local address",
    "multicast": "a multicast address",
    "broadcast": "the broadcast address",
    "documentation": "a documentation address",
    "benchmarking": "a benchmarking address",
    "reserved": "a reserved address",
}


@dataclass(frozen=True)
class AddressClass:
    """What kind of address one is: ``kind`` is ``"public"`` or why it is not."""

    address: str
    kind: str
    embedded: str | None = None  # the IPv4 address an IPv6 one carries, when judged by it

    @property
    def public(self) -> bool:
        return self.kind == "public"

    @property
    def description(self) -> str:
        """``"a loopback address"``, or ``"an IPv6 address carrying 127.0.0.1, a loopback address"``."""
        what = _DESCRIPTIONS[self.kind]
        if self.embedded is not None:
            return f"an IPv6 address carrying {self.embedded}, {what}"
        return what


def classify(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> AddressClass:
    """The class of one IP address (a string may carry an IPv6 ``%scope``)."""
    if isinstance(address, str):
        address = ipaddress.ip_address(address.split("%", 1)[0])
    text = str(address)
    if isinstance(address, ipaddress.IPv4Address):
        return AddressClass(text, _ipv4_kind(address))
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return AddressClass(text, _ipv4_kind(embedded), str(embedded))
    for network, kind in _IPV6_BLOCKS:
        if address in network:
            return AddressClass(text, "metadata" if text in METADATA_ADDRESSES else kind)
    if address not in _IPV6_GLOBAL_UNICAST:
        return AddressClass(text, "reserved")
    return AddressClass(text, "public")


def _ipv4_kind(address: ipaddress.IPv4Address) -> str:
    for network, kind in _IPV4_BLOCKS:
        if address in network:
            return "metadata" if str(address) in METADATA_ADDRESSES else kind
    return "public"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    for network in _IPV6_EMBEDDING:
        if address in network:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    return None


def is_public(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return classify(address).public


class Requester(Enum):
    """Who asked for a fetch; it decides whether non-public addresses may be reached."""

    LOCAL_USER = "local user"  # an explicit request from a client on the daemon's Unix socket
    REMOTE_USER = "remote user"  # an explicit request from a client over TCP
    MODEL = "model"  # the fetch_url tool (and workflow tool steps), whatever the transport


class AddressRefused(BadRequest):
    """A URL was not fetched: its scheme, or an address its host resolves to, is not allowed."""


_HINTS = {
    Requester.MODEL: "the fetch_url tool reaches public addresses only; "
                     "set [sources] allow_private_urls = true to allow",
    Requester.REMOTE_USER: "only clients on the daemon's own Unix socket may fetch these; "
                           "set [sources] allow_private_urls = true to allow",
}
_REDIRECT_HINT = ("a public page may not redirect into private addresses; "
                  "set [sources] allow_private_urls = true to allow")


@dataclass
class FetchPermit:
    """The address policy for one fetch (its first URL and every redirect hop).

    Call :meth:`check_scheme` and :meth:`judge` for each hop in order; the
    first call to :meth:`judge` is the URL the requester gave.
    """

    requester: Requester = Requester.MODEL
    allow_private: bool = False  # [sources] allow_private_urls
    first_url: str | None = None
    private_chain: bool = False  # the requester's own URL named a non-public host

    @property
    def checks_addresses(self) -> bool:
        return not self.allow_private

    def check_scheme(self, url: str, scheme: str) -> None:
        if scheme.lower() not in ALLOWED_SCHEMES:
            self._refuse(url, f"only http and https URLs are fetched, not {scheme}:")

    def judge(self, url: str, host: str, addresses: list[str]) -> None:
        """Allow or refuse one hop to ``url`` whose ``host`` resolved to ``addresses``."""
        first = self.first_url is None
        if first:
            self.first_url = url
        if not self.checks_addresses:
            return
        bad = next((c for c in map(classify, addresses) if not c.public), None)
        if bad is None:
            return
        if first and self.requester is Requester.LOCAL_USER:
            self.private_chain = True
            return
        if self.private_chain:
            return
        hint = _HINTS.get(self.requester, _REDIRECT_HINT)
        if _same_address(host, bad.address):
            reason = f"{host} is {bad.description}"
        else:
            reason = f"{host} resolves to {bad.address}, {bad.description}"
        self._refuse(url, f"{reason} ({hint})")

    def _refuse(self, url: str, reason: str) -> None:
        where = url if self.first_url in (None, url) else f"{url} (redirected from {self.first_url})"
        raise AddressRefused(f"refusing to fetch {where}: {reason}")


def _same_address(host: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0]) == ipaddress.ip_address(
            address.split("%", 1)[0])
    except ValueError:
        return False
