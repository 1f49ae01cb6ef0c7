"""One fake provider and one daemon per test module (chat-management tests).

A module may set ``EXTRA_CONFIG`` (appended to config.toml) for its daemon,
e.g. a provider with a tiny window or ``[chat] truncation = "summarise"``.
Tests share the daemon, so each uses its own chat names and clears the
fake's recorded requests (``fresh``) before looking at them.
"""

from __future__ import annotations


import pytest

from tests.conftest import daemon_home
from tests.fakes.provider_server import FakeProviderServer

# A provider with an exactly counted model (o200k_base) and a small window,
# so tests can compute what must be dropped.
TINY = """
[providers.tiny]
kind = "openai"
base_url = "{openai}"
api_key_env = "FAKE_API_KEY"
model = "gpt-4o-mini"
context_length = {context_length}
max_tokens = 100
max_retries = 0
timeout = 10
"""


@pytest.fixture(scope="module")
def mfake():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def mhome(request, mfake):
    extra = getattr(request.module, "EXTRA_CONFIG", "")
    with daemon_home(mfake, extra.replace("{openai}", mfake.openai_base_url)) as home:
        yield home


@pytest.fixture
def fresh(mfake):
    """The module's fake, with no recorded requests and no queued replies."""
    mfake.clear()
    return mfake
