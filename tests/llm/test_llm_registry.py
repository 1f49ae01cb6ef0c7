"""The registry makes each provider once and closes every SDK client it made."""

from __future__ import annotations

import subprocess
import sys

import anyio
import pytest

from chatthy.errors import ConfigError, NotFound
from chatthy.llm import (
    AnthropicMessagesProvider, OpenAIChatProvider, ProviderRegistry, make_provider,
)

from .harness import KINDS, FakeSettings, collect, request


def test_make_provider_by_kind():
    assert isinstance(make_provider(FakeSettings(name="a", kind="openai")), OpenAIChatProvider)
    assert isinstance(make_provider(FakeSettings(name="b", kind="anthropic")), AnthropicMessagesProvider)
    with pytest.raises(ConfigError, match="provider 'c' has unknown kind 'gemini'"):
        make_provider(FakeSettings(name="c", kind="gemini"))


def test_unknown_provider_names_the_configured_ones():
    registry = ProviderRegistry({"openai": FakeSettings(name="openai", kind="openai"),
                                 "tabby": FakeSettings(name="tabby", kind="openai")})
    with pytest.raises(NotFound) as info:
        registry.get("x")
    assert info.value.message == "unknown provider 'x' (configured: openai, tabby)"


def test_registry_caches_providers_and_aclose_closes_their_clients(settings_for):
    registry = ProviderRegistry({kind: settings_for(kind) for kind in KINDS})

    async def main():
        clients = []
        for kind in KINDS:
            provider = registry.get(kind)
            assert registry.get(kind) is provider
            assert provider.name == kind and provider.kind == kind
            events, error = await collect(provider, request())
            assert error is None
            clients.append(provider._client)
        assert all(not c.is_closed() for c in clients)
        await registry.aclose()
        assert all(c.is_closed() for c in clients)
        assert registry.get("openai")._client is None  # a fresh provider after close

    anyio.run(main)


@pytest.mark.parametrize("kind", KINDS)
def test_list_models(fake, settings_for, kind):
    fake.models = ["model-b", "model-a"]

    async def main():
        provider = make_provider(settings_for(kind))
        try:
            return await provider.list_models()
        finally:
            await provider.aclose()

    assert anyio.run(main) == ["model-b", "model-a"]
    [sent] = fake.requests
    assert sent.path.startswith("/v1/models")
    assert ("anthropic-version" in sent.headers) == (kind == "anthropic")


def test_importing_chatthy_llm_does_not_import_the_sdks():
    code = ("import sys, chatthy.llm; "
            "print(sorted(m for m in ('openai', 'anthropic', 'httpx2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
