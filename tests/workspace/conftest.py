"""One daemon, one fake provider and one local web site per test module.

The workspace tests use distinct chat names, so they share a daemon (starting
one costs about a second). ``[sources]`` is tightened so that the timeout and
size-limit paths are quick to reach.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import pytest

from tests.conftest import CHATTHY, make_home
from tests.fakes.provider_server import FakeProviderServer
from tests.sources.pdf_maker import make_pdf
from tests.sources.site import ARTICLE, Site

SOURCES_CONFIG = """
[sources]
timeout = 1.5
max_size_mb = 1
"""


@pytest.fixture(scope="module")
def provider():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def site():
    with Site() as s:
        s.page("/article", ARTICLE)
        s.page("/slow", ARTICLE, delay=5.0)
        s.page("/report.pdf", make_pdf(["Cover page", "Chapter one: ducks", "Chapter two: geese"],
                                       title="Bird Book"), content_type="application/pdf")
        yield s


@pytest.fixture(scope="module")
def wshome(provider):
    home = make_home(provider)
    with open(home.config_dir / "config.toml", "a") as fh:
        fh.write(SOURCES_CONFIG)
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
        yield home
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stderr.close()
        shutil.rmtree(home.root, ignore_errors=True)
