"""Fixtures for the provider tests: a fake provider server and settings for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes import FakeProviderServer

from .harness import FakeSettings


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def settings_for(fake: FakeProviderServer) -> Callable[..., FakeSettings]:
    """settings_for(kind, **overrides): settings pointing at the fake server."""

    def make(kind: str, **overrides: Any) -> FakeSettings:
        base_url = fake.openai_base_url if kind == "openai" else fake.anthropic_base_url
        values: dict[str, Any] = {"name": kind, "kind": kind, "base_url": base_url}
        values.update(overrides)
        return FakeSettings(**values)

    return make
