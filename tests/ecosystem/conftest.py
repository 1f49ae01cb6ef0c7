"""One daemon for the module: the ecosystem tests mostly read, so they can share it."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import pytest

from tests.conftest import CHATTHY, Home, make_home
from tests.fakes.provider_server import FakeProviderServer


def start_daemon(home: Home) -> subprocess.Popen:
    proc = subprocess.Popen([CHATTHY, "serve", "--no-log-stderr"], env=home.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not home.socket.exists():
        if proc.poll() is not None:
            raise AssertionError(f"daemon exited: {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("daemon did not create its socket in 30 s")
        time.sleep(0.02)
    return proc


def stop_daemon(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stderr.close()


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
