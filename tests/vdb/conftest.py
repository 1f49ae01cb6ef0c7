"""One daemon (local embedder) and one fake provider per test module.

The vector-store tests use distinct files and profiles, so they share a
daemon; each gets a fresh directory of documents (``docs``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import make_home, running_daemon
from tests.fakes.provider_server import FakeProviderServer


@pytest.fixture(scope="module")
def provider():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def vhome(provider):
    home = make_home(provider)
    try:
        with running_daemon(home):
            yield home
    finally:
        shutil.rmtree(home.root, ignore_errors=True)


@pytest.fixture
def docs(tmp_path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    return root
