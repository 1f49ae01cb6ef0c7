"""The address classifier and the per-hop permit, over many addresses (no sockets)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chatthy.errors import BadRequest
from chatthy.sources.address_policy import AddressRefused, FetchPermit, Requester, classify, is_public

NOT_PUBLIC = {
    # IPv4
    "0.0.0.0": "unspecified", "0.1.2.3": "unspecified",
    "127.0.0.1": "loopback", "127.255.255.254": "loopback",
    "10.0.0.1": "private", "10.255.255.255": "private",
    "172.16.0.1": "private", "172.31.255.255": "private",
    "192.168.0.1": "private", "192.168.255.255": "private",
    "100.64.0.1": "shared", "100.100.100.200": "shared", "100.127.255.255": "shared",
    "169.254.0.1": "link-local", "169.254.169.254": "metadata", "169.254.170.2": "link-local",
    "192.0.0.8": "reserved", "192.88.99.1": "reserved", "240.0.0.1": "reserved",
    "192.0.2.1": "documentation", "198.51.100.7": "documentation", "203.0.113.9": "documentation",
    "198.18.0.1": "benchmarking", "198.19.255.255": "benchmarking",
    "224.0.0.1": "multicast", "239.255.255.250": "multicast",
    "255.255.255.255": "broadcast",
    # IPv6
    "::": "unspecified", "::1": "loopback",
    "fc00::1": "private", "fd12:3456::1": "private", "fd00:ec2::254": "metadata",
    "fe80::1": "link-local", "fe80::1%2": "link-local", "febf::1": "link-local",
    "fec0::1": "site-local", "ff02::1": "multicast", "ff0e::1": "multicast",
    "2001:db8::1": "documentation", "3fff::1": "documentation",
    "2001::1": "reserved", "2001:2::1": "reserved", "100::1": "reserved",
    "64:ff9b:1::a": "private", "::2": "reserved", "4000::1": "reserved", "5f00::1": "reserved",
    # IPv6 carrying a non-public IPv4 address
    "::ffff:127.0.0.1": "loopback", "::ffff:10.1.2.3": "private", "::ffff:169.254.169.254": "metadata",
    "::ffff:0:7f00:1": "loopback", "64:ff9b::7f00:1": "loopback", "64:ff9b::a9fe:a9fe": "metadata",
    "2002:7f00:1::1": "loopback", "2002:c0a8:101::1": "private", "2002:a9fe:a9fe::": "metadata",
}
PUBLIC = ["1.1.1.1", "8.8.8.8", "93.184.215.14", "151.101.1.69", "172.15.255.255", "172.32.0.0",
          "192.167.255.255", "192.169.0.0", "100.63.255.255", "100.128.0.0", "169.253.255.255",
          "223.255.255.255", "11.0.0.1", "126.255.255.255", "128.0.0.0",
          "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2620:fe::fe", "2001:4860:4860::8888",
          "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "3ffe::1"]


@pytest.mark.parametrize("address,kind", sorted(NOT_PUBLIC.items()))
def test_non_public_addresses_are_named_by_kind(address, kind):
    got = classify(address)
    assert got.kind == kind and not got.public and not is_public(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address):
    assert classify(address).public, classify(address)


def test_descriptions_read_as_one_phrase():
    assert classify("127.0.0.1").description == "a loopback address"
    assert classify("169.254.169.254").description == "the cloud metadata service, a link-local address"
    assert classify("::ffff:10.0.0.1").description == "an IPv6 address carrying 10.0.0.1, a private address"


ipv4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
ipv6 = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)
# Addresses near the interesting blocks, which uniform sampling would almost never hit.
near_blocks = st.one_of(
    st.sampled_from(["10.0.0.0", "127.0.0.0", "169.254.0.0", "172.16.0.0", "192.168.0.0", "100.64.0.0",
                     "0.0.0.0", "224.0.0.0", "240.0.0.0", "198.18.0.0"]).flatmap(
        lambda base: st.integers(-2**16, 2**24).map(
            lambda d: ipaddress.IPv4Address(min(max(int(ipaddress.IPv4Address(base)) + d, 0), 2**32 - 1)))),
)


@settings(max_examples=3000)
@given(st.one_of(ipv4, near_blocks))
@example(ipaddress.IPv4Address("127.0.0.1"))
def test_ipv4_is_at_least_as_strict_as_the_standard_library(address):
    """Public for us ⇒ global and unicast for Python's ipaddress (whose tables are independent of ours)."""
    if classify(address).public:
        assert address.is_global and not address.is_multicast and not address.is_reserved


@settings(max_examples=3000)
@given(ipv6)
def test_ipv6_is_at_least_as_strict_as_the_standard_library(address):
    got = classify(address)
    if got.public:
        assert not (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                    or address.is_site_local or address.is_unspecified or address.is_reserved)
        assert address in ipaddress.IPv6Network("2000::/3")


@settings(max_examples=2000)
@given(st.one_of(ipv4, near_blocks))
def test_an_ipv6_wrapping_of_an_ipv4_address_is_judged_like_it(v4):
    """IPv4-mapped, NAT64 and 6to4 forms cannot smuggle a private IPv4 address past the check."""
    kind = classify(v4).kind
    n = int(v4)
    for wrapped in (ipaddress.IPv6Address((0xFFFF << 32) | n),  # ::ffff:a.b.c.d
                    ipaddress.IPv6Address((0x64FF9B << 96) | n),  # 64:ff9b::a.b.c.d
                    ipaddress.IPv6Address((0x2002 << 112) | (n << 80))):  # 2002:AABB:CCDD::
        got = classify(wrapped)
        assert got.kind == kind and got.embedded == str(v4)


@given(st.one_of(ipv4, ipv6))
def test_a_string_and_an_address_object_agree(address):
    assert classify(str(address)) == classify(address)


# -- the permit: who may reach what, hop by hop -------------------------------------------------

def test_the_local_user_may_start_private_and_stay_private():
    permit = FetchPermit(Requester.LOCAL_USER)
    permit.judge("http://127.0.0.1:8080/", "127.0.0.1", ["127.0.0.1"])
    permit.judge("http://10.0.0.5/next", "10.0.0.5", ["10.0.0.5"])  # a redirect within the user's network
    permit.judge("https://example.org/", "example.org", ["93.184.215.14"])


def test_the_local_user_is_not_redirected_from_public_into_private():
    permit = FetchPermit(Requester.LOCAL_USER)
    permit.judge("https://example.org/", "example.org", ["93.184.215.14"])
    with pytest.raises(AddressRefused) as caught:
        permit.judge("http://127.0.0.1:631/admin", "127.0.0.1", ["127.0.0.1"])
    assert str(caught.value) == (
        "refusing to fetch http://127.0.0.1:631/admin (redirected from https://example.org/): 127.0.0.1 is "
        "a loopback address (a public page may not redirect into private addresses; "
        "set [sources] allow_private_urls = true to allow)")


@pytest.mark.parametrize("requester", [Requester.MODEL, Requester.REMOTE_USER])
def test_the_model_and_remote_clients_never_reach_private_addresses(requester):
    permit = FetchPermit(requester)
    with pytest.raises(AddressRefused, match="^refusing to fetch http://metadata.internal/: metadata.internal "
                                             "resolves to 169.254.169.254, the cloud metadata service"):
        permit.judge("http://metadata.internal/", "metadata.internal", ["169.254.169.254"])


def test_one_bad_address_among_several_is_enough():
    permit = FetchPermit(Requester.MODEL)
    with pytest.raises(AddressRefused, match="resolves to 10.0.0.1, a private address"):
        permit.judge("http://both.example/", "both.example", ["93.184.215.14", "10.0.0.1"])


def test_allow_private_urls_allows_everything_and_checks_nothing():
    permit = FetchPermit(Requester.MODEL, allow_private=True)
    assert not permit.checks_addresses
    permit.judge("http://127.0.0.1/", "127.0.0.1", ["127.0.0.1"])


def test_only_http_and_https():
    permit = FetchPermit(Requester.LOCAL_USER)
    permit.check_scheme("https://x.org/", "https")
    permit.judge("https://x.org/", "x.org", ["93.184.215.14"])
    with pytest.raises(AddressRefused, match=r"file:///etc/passwd \(redirected from https://x.org/\): "
                                             "only http and https URLs are fetched, not file:"):
        permit.check_scheme("file:///etc/passwd", "file")


def test_a_refusal_is_a_bad_request():
    assert issubclass(AddressRefused, BadRequest) and AddressRefused.exit_code == 2
