"""Module-scoped fixtures: one fake provider and one daemon per test module.

A module may set ``EXTRA_CONFIG`` (appended to config.toml, or a callable
taking the fake) and ``DAEMON_ARGS``. Tests that kill the daemon make their own.
"""

from __future__ import annotations

import pytest

from tests.fakes.provider_server import FakeProviderServer
from tests.reliability.reliability_support import DaemonProcess, new_home, remove_home


@pytest.fixture(scope="module")
def mfake():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def mhome(mfake, request):
    extra = getattr(request.module, "EXTRA_CONFIG", "")
    if callable(extra):
        extra = extra(mfake)
    home = new_home(mfake, extra)
    try:
        yield home
    finally:
        remove_home(home)


@pytest.fixture(scope="module")
def mdaemon(mhome, request):
    args = getattr(request.module, "DAEMON_ARGS", ())
    with DaemonProcess(mhome, *args) as proc:
        yield proc
