"""Module-scoped fixtures: one fake provider and one daemon per test module.

The tests here attack the daemon; they share it because surviving all of them
in a row is part of the point (each test also checks the daemon still serves).
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
