"""Fakes for tests and benchmarks: a real HTTP server speaking both provider APIs."""

from typing import Any

from .replies import (
    Chunks, HttpError, Malformed, RecordedRequest, Reply, Reset, Stall, StreamError, Text,
    ToolCalls, Truncated,
)

__all__ = [
    "DEFAULT_MODELS",
    "Chunks",
    "FakeProviderServer",
    "HttpError",
    "Malformed",
    "RecordedRequest",
    "Reply",
    "Reset",
    "Stall",
    "StreamError",
    "Text",
    "ToolCalls",
    "Truncated",
]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `python -m tests.fakes.provider_server` does not
    # find its own module already imported by the package (runpy warns then).
    if name in ("FakeProviderServer", "DEFAULT_MODELS"):
        from . import provider_server

        return getattr(provider_server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
