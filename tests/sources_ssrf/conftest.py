"""Daemons, clients and web servers for the SSRF tests, shared per module.

* ``intranet``: a real HTTP server on 127.0.0.1, the private service an attacker wants.
* ``internet``: a second real HTTP server that plays "the public internet": the
  daemons get it as their HTTP proxy (``HTTP_PROXY``), so a URL naming a public
  address such as ``http://93.184.215.14/…`` is answered by it without any real
  network, and its redirects into ``intranet`` test the per-hop check.
  ``NO_PROXY`` keeps the fake provider and ``intranet`` direct.
* ``guarded``: a daemon with the default policy, listening on its Unix socket
  and on TCP; ``remote``: a client of it over TCP (its own home and key).
* ``open_daemon`` / ``open_remote``: the same with ``[sources] allow_private_urls = true``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest

from tests.conftest import Home, make_home
from tests.fakes.provider_server import FakeProviderServer
from tests.reliability.reliability_support import DaemonProcess
from tests.sources.site import ARTICLE, Site

PUBLIC = "http://93.184.215.14"  # a public address; only ever reached through the `internet` proxy

INTRANET_PAGE = ARTICLE.replace("Write-ahead logging in SQLite", "Intranet secrets: the payroll database")


@pytest.fixture(scope="module")
def provider():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def intranet():
    with Site() as site:
        site.page("/secret", INTRANET_PAGE)
        site.redirect("/hop", "/secret")
        site.redirect("/to-file", "file:///etc/passwd")
        yield site


@pytest.fixture(scope="module")
def internet(intranet):
    with Site() as site:
        site.page("/public", ARTICLE)
        site.redirect("/start", intranet.url("/secret"))
        site.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
        yield site


@dataclass
class Deployment:
    home: Home  # the daemon's machine (its Unix socket)
    daemon: DaemonProcess
    remote: Home  # another machine, over TCP


def _deploy(provider, internet, sources: str):
    home = make_home(provider)
    proxy = internet.url("")
    for name in ("HTTP_PROXY", "http_proxy"):
        home.env[name] = proxy
    for name in ("NO_PROXY", "no_proxy"):
        home.env[name] = "127.0.0.1,localhost"
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        home.env.pop(name, None)
    if sources:
        with open(home.config_dir / "config.toml", "a") as fh:
            fh.write(f"\n[sources]\n{sources}\n")
    remote = make_home(None)
    remote.env["CHATTHY_NO_AUTOSTART"] = "1"
    with DaemonProcess(home, "--tcp", "127.0.0.1:0") as daemon:
        try:
            daemon_key = home.run("keys", "show", "--daemon", check=True).stdout.strip()
            client_key = remote.run("keys", "show", "--client", check=True).stdout.strip()
            home.run("keys", "authorize", client_key, "--name", "remote", check=True)
            remote.config_dir.mkdir(parents=True, exist_ok=True)
            (remote.config_dir / "config.toml").write_text(
                f'[client]\nconnect = "tcp://127.0.0.1:{daemon.tcp_port}"\ndaemon_key = "{daemon_key}"\n')
            yield Deployment(home, daemon, remote)
        finally:
            daemon.stop()
            shutil.rmtree(home.root, ignore_errors=True)
            shutil.rmtree(remote.root, ignore_errors=True)


@pytest.fixture(scope="module")
def guarded(provider, internet):
    yield from _deploy(provider, internet, "")


@pytest.fixture(scope="module")
def opened(provider, internet):
    yield from _deploy(provider, internet, "allow_private_urls = true")


@pytest.fixture(autouse=True)
def _fresh_script(request):
    if "provider" in request.fixturenames:
        request.getfixturevalue("provider").clear()


def tool_results(provider) -> list[str]:
    """What the tools returned in the last completion request the fake provider got."""
    last = [r for r in provider.requests if r.method == "POST"][-1]
    return [m["content"] for m in last.json["messages"] if m.get("role") == "tool"]
