"""One daemon for the module: the ecosystem tests mostly read, so they can share it."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import make_home, start_daemon, stop_daemon
from tests.fakes.provider_server import FakeProviderServer


@pytest.fixture(scope="module")
def shared_fake():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def shared_home(shared_fake):
    home = make_home(shared_fake)
    try:
        yield home
    finally:
        home.stop_daemon()
        shutil.rmtree(home.root, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_daemon(shared_home):
    proc = start_daemon(shared_home)
    try:
        yield proc
    finally:
        stop_daemon(proc)
