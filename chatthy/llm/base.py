"""The provider interface, the settings it reads, and what both SDK providers share.

A provider turns a ``ChatRequest`` into one streamed API call and yields
provider-neutral events (see ``events``). It owns one SDK client, made on first
use (resolving the key may run a command) and reused for every request, since
each client holds a connection pool. Consumers should close a stream they stop
early (``contextlib.aclosing``) so its HTTP response is released at once.

The SDK clients speak HTTP through aiohttp (the SDKs' ``aiohttp`` extra)
rather than their default httpx/httpcore/h11, which parse every streamed
chunk in Python: with replies arriving at a model's pace that was half the
daemon's CPU, and aiohttp's C parser cut the daemon's CPU per reply by about
a fifth. Where the extra is missing (an SDK too old to have it), the SDK's
default is used.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

from chatthy.errors import ProviderError

from .events import Event
from .request import ChatRequest

# One stop-reason vocabulary for every provider (documented in ``events``).
_STOP_REASONS = {
    "stop": "stop", "end_turn": "stop", "stop_sequence": "stop",
    "length": "length", "max_tokens": "length", "model_context_window_exceeded": "length",
    "tool_calls": "tool_calls", "tool_use": "tool_calls", "function_call": "tool_calls",
    "content_filter": "content_filter", "refusal": "content_filter",
}


class ProviderSettings(Protocol):
    """One ``[providers.NAME]`` table of config.toml (read-only here)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...  # "openai" | "anthropic"
    @property
    def base_url(self) -> str | None: ...
    @property
    def api_key_env(self) -> str | None: ...
    @property
    def api_key_cmd(self) -> str | None: ...
    @property
    def model(self) -> str: ...
    @property
    def context_length(self) -> int: ...
    @property
    def max_tokens(self) -> int: ...
    @property
    def params(self) -> dict: ...
    @property
    def timeout(self) -> float: ...  # read timeout, seconds
    @property
    def connect_timeout(self) -> float: ...
    @property
    def max_retries(self) -> int: ...
    @property
    def key_required(self) -> bool: ...


class Provider(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def settings(self) -> ProviderSettings: ...

    def stream(self, req: ChatRequest) -> AsyncIterator[Event]:
        """TextDelta*, ToolCall*, Usage?, then exactly one Done; raises ProviderError."""
        ...

    async def list_models(self) -> list[str]: ...

    async def load(self) -> None:
        """Make the first request not wait for the SDK's import."""
        ...

    async def aclose(self) -> None: ...


class _End:
    """Marks the end of an SDK stream (``None`` could be a real item)."""


END = _End()


def aiohttp_client(sdk: Any, timeout: Any) -> Any:
    """``sdk.DefaultAioHttpClient`` with the SDK's defaults and ``timeout``, or
    None (use the SDK's default httpx client) where it is not available."""
    factory = getattr(sdk, "DefaultAioHttpClient", None)
    if factory is None:
        return None
    try:
        return factory(timeout=timeout)
    except RuntimeError:  # the SDK has it, but aiohttp is not installed
        return None


class SDKProvider:
    """A provider backed by one official-SDK client, made on first use."""

    kind = ""
    default_base_url = ""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self._client: Any = None

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def base_url(self) -> str:
        return self.settings.base_url or self.default_base_url

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.base_url}>"

    def _make_client(self, api_key: str) -> Any:
        raise NotImplementedError

    async def _client_once(self) -> Any:
        if self._client is None:
            from .credentials import resolve_api_key

            if self.settings.api_key_cmd:
                import anyio.to_thread

                # The key command may take seconds (a password manager): keep the loop free.
                key = await anyio.to_thread.run_sync(resolve_api_key, self.settings)
            else:
                key = resolve_api_key(self.settings)
            if self._client is None:  # another task may have made it meanwhile
                self._client = self._make_client(key)
        return self._client

    async def load(self) -> None:
        """Import the SDK (up to ~2 s the first time), off the event loop."""
        import importlib

        import anyio.to_thread

        await anyio.to_thread.run_sync(importlib.import_module, self.kind)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    def _params(self, req: ChatRequest) -> dict:
        return {**(self.settings.params or {}), **(req.params or {})}

    def _model(self, req: ChatRequest) -> str:
        return req.model or self.settings.model

    def _error(self, exc: BaseException, model: str | None = None) -> ProviderError:
        from .sdk_errors import to_provider_error

        return to_provider_error(
            exc, provider=self.name, model=model, base_url=self.base_url,
            timeout=self.settings.timeout, connect_timeout=self.settings.connect_timeout,
        )

    async def _next(self, iterator: Any, model: str) -> Any:
        """The next item of an SDK stream, or END; SDK failures become ProviderError.

        They are marked ``during_stream``: the SDK's own retries cover only
        what fails before the response starts, so the caller may try again.
        """
        try:
            return await iterator.__anext__()
        except StopAsyncIteration:
            return END
        except Exception as exc:
            error = self._error(exc, model)
            error.data.setdefault("during_stream", True)
            raise error from exc

    async def _close_stream(self, sdk_stream: Any, iterator: Any) -> None:
        """Release a stream's HTTP response at once, even when the consumer was cancelled."""
        import anyio

        with anyio.CancelScope(shield=True):
            # A failure to tidy up a connection that is already broken must not
            # hide the error that broke it.
            with contextlib.suppress(Exception):
                await iterator.aclose()
            with contextlib.suppress(Exception):
                await sdk_stream.close()

    def _incomplete(self, model: str, why: str) -> ProviderError:
        return ProviderError(
            f"{self.name} ({model}): {why}; the reply is incomplete",
            data={"provider": self.name, "model": model, "status": None, "retry_after": None,
                  "during_stream": True},
        )

    def _tool_call_arguments(self, raw: str | None, *, name: str, model: str) -> dict:
        """Parse a tool call's assembled JSON arguments (empty means no arguments)."""
        if raw is None or not raw.strip():
            return {}
        data = {"provider": self.name, "model": model, "status": None, "retry_after": None}
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise ProviderError(
                f"{self.name} ({model}): tool call '{name}' has arguments that are not valid JSON: {exc}",
                data=data,
            ) from exc
        if not isinstance(value, dict):
            raise ProviderError(
                f"{self.name} ({model}): tool call '{name}' arguments are not a JSON object",
                data=data,
            )
        return value


def neutral_stop_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    return _STOP_REASONS.get(reason, reason)
