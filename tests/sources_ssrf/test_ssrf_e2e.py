"""The daemon is not a confused deputy: who may make it fetch what, end to end.

Real daemons, the real `chatthy` command on the Unix socket and over TCP, the
fake provider's tool calls, real HTTP servers (see conftest.py).
"""

from __future__ import annotations

import json
import re

from tests.conftest import Home
from tests.fakes.replies import Text, ToolCalls
from tests.reliability.reliability_support import log_text
from tests.sources_ssrf.conftest import PUBLIC, tool_results

TOOL_HINT = ("(the fetch_url tool reaches public addresses only; "
             "set [sources] allow_private_urls = true to allow)")
TCP_HINT = ("(only clients on the daemon's own Unix socket may fetch these; "
            "set [sources] allow_private_urls = true to allow)")


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def ask_with_tool_calls(home: Home, provider, chat: str, *urls: str) -> list[str]:
    provider.script(ToolCalls([(f"f{i}", "fetch_url", {"url": url}) for i, url in enumerate(urls)]),
                    Text(["done"]))
    out = home.run("ask", "-c", chat, "-T", "fetch_url", "read these")
    assert out.returncode == 0, out.stderr
    return tool_results(provider)


# -- the default policy ----------------------------------------------------------------------

def test_the_local_user_fetches_their_own_localhost_pages_by_default(guarded, intranet, provider):
    home = guarded.home
    out = home.run("ws", "load", intranet.url("/hop"), "-c", "local-docs", "--json")
    assert out.returncode == 0, out.stderr
    loaded, = json.loads(out.stdout)
    assert loaded["title"] == "Intranet secrets: the payroll database"
    provider.script(Text(["ok"]))
    out = home.run("ask", "-c", "local-ask", "--file", intranet.url("/secret"), "what is this?")
    assert out.returncode == 0, out.stderr
    sent = json.dumps(provider.requests[-1].json)
    assert "Intranet secrets: the payroll database" in sent


def test_the_model_may_not_fetch_loopback_even_for_the_local_user(guarded, intranet, provider):
    before = len(intranet.requests)
    port = intranet.url("/").split(":")[2].split("/")[0]
    urls = [intranet.url("/secret"), f"http://localhost:{port}/secret", f"http://2130706433:{port}/secret",
            f"http://[::ffff:127.0.0.1]:{port}/secret"]
    results = ask_with_tool_calls(guarded.home, provider, "tool-loopback", *urls)
    assert results[0] == f"error: refusing to fetch {urls[0]}: 127.0.0.1 is a loopback address {TOOL_HINT}"
    assert results[1] == (f"error: refusing to fetch {urls[1]}: localhost resolves to 127.0.0.1, "
                          f"a loopback address {TOOL_HINT}") or "resolves to ::1" in results[1]
    assert results[2] == (f"error: refusing to fetch http://2130706433:{port}/secret: 2130706433 resolves "
                          f"to 127.0.0.1, a loopback address {TOOL_HINT}")
    assert results[3].startswith(f"error: refusing to fetch {urls[3]}: ::ffff:127.0.0.1 is an IPv6 address "
                                 "carrying 127.0.0.1, a loopback address")
    assert len(intranet.requests) == before  # refused before connecting
    assert "(asked by the model)" in log_text(guarded.home)


def test_the_model_may_not_reach_the_cloud_metadata_service(guarded, provider):
    url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    results = ask_with_tool_calls(guarded.home, provider, "tool-metadata", url)
    assert results == [f"error: refusing to fetch {url}: 169.254.169.254 is the cloud metadata service, "
                       f"a link-local address {TOOL_HINT}"]


def test_the_model_fetches_public_pages(guarded, internet, provider):
    results = ask_with_tool_calls(guarded.home, provider, "tool-public", f"{PUBLIC}/public")
    assert results[0].startswith(f"Source: {PUBLIC}/public") and "Write-ahead logging in SQLite" in results[0]
    assert internet.requests[-1][1] == f"{PUBLIC}/public"  # through the proxy, as a public site


def test_a_public_page_redirecting_into_loopback_is_refused_at_that_hop(guarded, internet, intranet, provider):
    before = len(intranet.requests)
    results = ask_with_tool_calls(guarded.home, provider, "tool-redirect", f"{PUBLIC}/start")
    assert results == [f"error: refusing to fetch {intranet.url('/secret')} (redirected from {PUBLIC}/start): "
                       f"127.0.0.1 is a loopback address {TOOL_HINT}"]
    assert internet.requests[-1][1] == f"{PUBLIC}/start"  # the first hop was fetched…
    # … and the local user is not bounced into their own network by a public page either.
    out = guarded.home.run("ws", "load", f"{PUBLIC}/start", "-c", "local-redirect")
    assert out.returncode == 2
    assert one_line(out.stderr).endswith(
        f"refusing to fetch {intranet.url('/secret')} (redirected from {PUBLIC}/start): 127.0.0.1 is a loopback "
        "address (a public page may not redirect into private addresses; "
        "set [sources] allow_private_urls = true to allow)")
    out = guarded.home.run("ws", "load", f"{PUBLIC}/to-metadata", "-c", "local-redirect")
    assert out.returncode == 2 and "169.254.169.254 is the cloud metadata service" in out.stderr
    assert len(intranet.requests) == before
    assert "local-redirect" not in guarded.home.run("chat", "list").stdout  # a failed fetch leaves nothing


def test_a_redirect_to_a_file_url_is_refused(guarded, intranet):
    out = guarded.home.run("ws", "load", intranet.url("/to-file"), "-c", "local-file")
    assert out.returncode == 2
    # httpx fills the host of a host-less absolute Location from the request: file://127.0.0.1/etc/passwd
    assert re.search(r"refusing to fetch file://(127\.0\.0\.1)?/etc/passwd \(redirected from "
                     + re.escape(intranet.url("/to-file")) + r"\): only http and https URLs are fetched, not file:$",
                     one_line(out.stderr)), out.stderr


def test_a_tcp_client_may_not_fetch_private_addresses(guarded, intranet, provider):
    remote = guarded.remote
    before = len(intranet.requests)
    url = intranet.url("/secret")
    refused = f"refusing to fetch {url}: 127.0.0.1 is a loopback address {TCP_HINT}"
    out = remote.run("ws", "load", url, "-c", "remote-ws")
    assert out.returncode == 2 and one_line(out.stderr).endswith(refused), out.stderr
    out = remote.run("ask", "-c", "remote-ask", "--file", url, "what is this?")
    assert out.returncode == 2 and one_line(out.stderr).endswith(refused), out.stderr
    out = remote.run("summarize", url, "-c", "remote-summary")
    assert out.returncode == 2 and one_line(out.stderr).endswith(refused), out.stderr
    metadata = "http://169.254.169.254/latest/meta-data/"
    out = remote.run("ws", "load", metadata, "-c", "remote-ws")
    assert out.returncode == 2 and one_line(out.stderr).endswith(
        f"refusing to fetch {metadata}: 169.254.169.254 is the cloud metadata service, "
        f"a link-local address {TCP_HINT}")
    assert len(intranet.requests) == before
    assert not [r for r in provider.requests if r.method == "POST"]  # nothing was asked either
    assert "(asked by the remote user)" in log_text(guarded.home)


def test_a_tcp_client_may_not_ingest_private_urls(guarded, intranet):
    before = len(intranet.requests)
    url = intranet.url("/secret")
    out = guarded.remote.run("vdb", "ingest", "--json", url, timeout=120)
    assert out.returncode == 2, out.stderr
    report = json.loads(out.stdout)
    assert report["failed"] == 1 and report["added"] == 0
    assert report["documents"][0]["error"] == f"refusing to fetch {url}: 127.0.0.1 is a loopback address {TCP_HINT}"
    assert len(intranet.requests) == before


def test_a_tcp_client_may_refresh_a_local_users_url_only_from_the_socket(guarded, intranet):
    """ws refresh re-fetches a stored URL: as whoever asks for the refresh."""
    home = guarded.home
    url = intranet.url("/secret")
    assert home.run("ws", "load", url, "-c", "shared-ws", "--name", "payroll").returncode == 0
    before = len(intranet.requests)
    out = guarded.remote.run("ws", "refresh", "payroll", "-c", "shared-ws")
    assert out.returncode != 0 and "127.0.0.1 is a loopback address" in out.stderr, out.stderr
    assert len(intranet.requests) == before
    out = home.run("ws", "refresh", "payroll", "-c", "shared-ws")
    assert out.returncode == 0, out.stderr
    assert len(intranet.requests) == before + 1


# -- allow_private_urls = true ----------------------------------------------------------------

def test_allow_private_urls_lets_the_model_and_tcp_clients_in(opened, intranet, internet, provider):
    results = ask_with_tool_calls(opened.home, provider, "open-tool", intranet.url("/secret"), f"{PUBLIC}/start")
    assert all(r.startswith("Source: ") and "Intranet secrets" in r for r in results), results
    out = opened.remote.run("ws", "load", intranet.url("/secret"), "-c", "open-remote", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["title"] == "Intranet secrets: the payroll database"
