"""One daemon, one fake provider and one local web site per test module.

The workspace tests use distinct chat names, so they share a daemon (starting
one costs about a second). ``[sources]`` is tightened so that the timeout and
size-limit paths are quick to reach.
"""

from __future__ import annotations


import pytest

from tests.conftest import daemon_home
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
    with daemon_home(provider, SOURCES_CONFIG) as home:
        yield home
