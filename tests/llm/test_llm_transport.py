"""The SDK clients speak HTTP through aiohttp, and still honour the timeouts and report failures truly."""

from __future__ import annotations

import time
from types import SimpleNamespace

import anyio
import pytest

from chatthy.llm import make_provider
from chatthy.llm.base import aiohttp_client
from tests.fakes.blackhole import blackhole_port

from .harness import KINDS, collect, request, stream_once


@pytest.mark.parametrize("kind", KINDS)
def test_each_sdk_client_is_on_aiohttp(settings_for, fake, kind):
    import anthropic
    import openai

    sdk = openai if kind == "openai" else anthropic

    async def main():
        provider = make_provider(settings_for(kind))
        try:
            events, error = await collect(provider, request("are you there"))
            client = await provider._client_once()
            return events, error, client._client
        finally:
            await provider.aclose()

    events, error, http = anyio.run(main)
    assert error is None and events
    assert isinstance(http, sdk.DefaultAioHttpClient)
    assert "are you there" in str([r.json["messages"] for r in fake.requests if r.method == "POST"])


def test_without_the_extra_the_sdk_default_is_used():
    assert aiohttp_client(SimpleNamespace(), 10.0) is None  # an SDK too old to have it

    def missing(**kwargs):  # what the SDKs give when aiohttp is not installed
        raise RuntimeError("To use the aiohttp client you must have installed the package with the `aiohttp` extra")

    assert aiohttp_client(SimpleNamespace(DefaultAioHttpClient=missing), 10.0) is None


@pytest.mark.parametrize("kind", KINDS)
def test_a_connect_that_hangs_is_a_connect_timeout(settings_for, kind):
    """A listener that never accepts (its queue full) makes the connect itself hang."""
    held: list = []
    try:
        port = blackhole_port(held)
        started = time.monotonic()
        events, error = stream_once(settings_for(kind, base_url=f"http://127.0.0.1:{port}/", connect_timeout=0.5,
                                                 timeout=5.0), request())
        took = time.monotonic() - started
    finally:
        for s in held:
            s.close()
    assert events == [] and error is not None
    if "timed out" not in error.message:
        pytest.skip(f"this kernel completed the connect anyway: {error.message}")
    assert error.message == f"{kind}: cannot connect to http://127.0.0.1:{port}/: timed out after 0.5 s"
    assert error.data["timeout"] == "connect"
    assert took < 4
