"""The daemon's providers: one per configured name, made on first use, closed together."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from chatthy.errors import ConfigError, NotFound

from .base import Provider, ProviderSettings

KINDS = ("openai", "anthropic")


def make_provider(settings: ProviderSettings) -> Provider:
    """A provider for ``settings.kind`` (its SDK is imported on first request)."""
    if settings.kind == "openai":
        from .openai_chat import OpenAIChatProvider

        return OpenAIChatProvider(settings)
    if settings.kind == "anthropic":
        from .anthropic_messages import AnthropicMessagesProvider

        return AnthropicMessagesProvider(settings)
    raise ConfigError(
        f"provider '{settings.name}' has unknown kind '{settings.kind}' "
        f"(expected one of: {', '.join(KINDS)})"
    )


class ProviderRegistry:
    def __init__(self, settings_by_name: Mapping[str, ProviderSettings],
                 make: Callable[[ProviderSettings], Provider] = make_provider) -> None:
        """``make``: how a provider is made (the daemon's makes one that streams in a worker)."""
        self._settings = dict(settings_by_name)
        self._make = make
        self._providers: dict[str, Provider] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self._settings)

    def __contains__(self, name: object) -> bool:
        return name in self._settings

    def get(self, name: str) -> Provider:
        provider = self._providers.get(name)
        if provider is None:
            settings = self._settings.get(name)
            if settings is None:
                configured = ", ".join(self.names) or "none"
                raise NotFound(f"unknown provider '{name}' (configured: {configured})")
            provider = self._providers[name] = self._make(settings)
        return provider

    async def aclose(self) -> None:
        """Close every SDK client made so far; one failing close does not stop the others."""
        providers, self._providers = list(self._providers.values()), {}
        first_error: BaseException | None = None
        for provider in providers:
            try:
                await provider.aclose()
            except Exception as exc:  # noqa: BLE001 - re-raised after the others close
                first_error = first_error or exc
        if first_error is not None:
            raise first_error
