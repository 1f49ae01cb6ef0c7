"""Running providers against the fake server in tests: settings and stream collectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio

from chatthy.errors import ChatthyError
from chatthy.llm import ChatRequest, Event, Provider, make_provider

KINDS = ("openai", "anthropic")


@dataclass
class FakeSettings:
    """Stands in for chatthy.config's provider settings (same attributes)."""

    name: str
    kind: str
    base_url: str | None = None
    api_key_env: str | None = None
    api_key_cmd: str | None = None
    model: str = "fake-model-large"
    context_length: int = 8192
    max_tokens: int = 512
    params: dict = field(default_factory=dict)
    timeout: float = 10.0
    connect_timeout: float = 5.0
    max_retries: int = 0
    key_required: bool = False


def request(text: str = "hello there", **kwargs: Any) -> ChatRequest:
    kwargs.setdefault("model", "fake-model-large")
    kwargs.setdefault("messages", [{"role": "user", "content": text}])
    return ChatRequest(**kwargs)


async def collect(provider: Provider, req: ChatRequest) -> tuple[list[Event], ChatthyError | None]:
    """Every event until the stream ends, and the error that ended it, if any."""
    events: list[Event] = []
    try:
        async for event in provider.stream(req):
            events.append(event)
    except ChatthyError as exc:
        return events, exc
    return events, None


def stream_once(settings: Any, req: ChatRequest) -> tuple[list[Event], ChatthyError | None]:
    """Stream ``req`` through a fresh provider, closed afterwards."""

    async def main() -> tuple[list[Event], ChatthyError | None]:
        provider = make_provider(settings)
        try:
            return await collect(provider, req)
        finally:
            await provider.aclose()

    return anyio.run(main)
