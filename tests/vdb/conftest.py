"""One daemon (local embedder) and one fake provider per test module.

The vector-store tests use distinct files and profiles, so they share a
daemon; each gets a fresh directory of documents (``docs``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import daemon_home
from tests.fakes.provider_server import FakeProviderServer


@pytest.fixture(scope="module")
def provider():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def vhome(provider):
    with daemon_home(provider) as home:
        yield home


@pytest.fixture
def docs(tmp_path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    return root
