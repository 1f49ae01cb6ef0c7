"""One daemon (local embedder) and one fake provider per test module.

The vector-store tests use distinct files and profiles, so they share a
daemon; each gets a fresh directory of documents (``docs``).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import CHATTHY, Home, make_home
from tests.fakes.provider_server import FakeProviderServer


@contextlib.contextmanager
def running_daemon(home: Home):
    """``chatthy serve`` for ``home``, waited for, always stopped."""
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
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stderr.close()


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
