"""One fake provider and one daemon (with the local embedder, for ``--rag``) per test module.

Tests use their own chat names and clear the fake's script (``fresh``)
before they start, so they share the daemon.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import daemon_home
from tests.fakes.provider_server import FakeProviderServer

# Small limits, so that tests can cross them with small files.
EXTRA_CONFIG = """
[images]
max_mb = 0.05
max_per_message = 2
"""


@pytest.fixture(scope="module")
def xfake():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def xhome(xfake):
    with daemon_home(xfake, EXTRA_CONFIG) as home:
        yield home


@pytest.fixture
def fresh(xfake):
    xfake.clear()
    return xfake


def show(home, chat: str, *profile: str) -> dict:
    return json.loads(home.run(*profile, "chat", "show", chat, "--json", check=True).stdout)


def export(home, chat: str, *args: str) -> str:
    return home.run("chat", "export", chat, *args, check=True).stdout


def completions(fake) -> list:
    return [r for r in fake.requests if r.method == "POST"]
