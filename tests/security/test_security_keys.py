"""`chatthy keys`: show, list, authorize, revoke, rotate, against a running daemon.

The daemon re-reads authorized_keys when it changes, so every change here is
checked by what the daemon does next, not by reading the file.
"""

from __future__ import annotations

import json
import re

from tests.reliability.reliability_support import wait_for

HEX64 = re.compile(r"[0-9a-f]{64}")


def keys_json(home) -> dict:
    return json.loads(home.run("keys", "show", "--json", check=True).stdout)


def test_show_prints_this_clients_key_and_the_daemons(mhome, mdaemon):
    shown = keys_json(mhome)
    assert HEX64.fullmatch(shown["client"]) and HEX64.fullmatch(shown["daemon"])
    assert shown["client_name"] == "local"
    assert mhome.run("keys", "show", "--client", check=True).stdout.strip() == shown["client"]
    assert mhome.run("keys", "show", "--daemon", check=True).stdout.strip() == shown["daemon"]
    plain = mhome.run("keys", "show", check=True).stdout
    assert f"client  {shown['client']}" in plain and f"daemon  {shown['daemon']}" in plain


def test_authorize_list_and_revoke(mhome, mdaemon):
    other = "ab" * 32
    out = mhome.run("keys", "authorize", other.upper(), "--name", "desktop")
    assert out.returncode == 0, out.stderr
    listed = json.loads(mhome.run("keys", "list", "--json", check=True).stdout)
    assert {"name": "desktop", "key": other, "this_client": False} in listed
    assert any(e["name"] == "local" and e["this_client"] for e in listed)
    assert mhome.run("keys", "authorize", other, "--name", "again").returncode == 2  # already authorised
    assert mhome.run("keys", "authorize", "cd" * 32, "--name", "desktop").returncode == 2  # name taken
    bad = mhome.run("keys", "authorize", "not-a-key")
    assert bad.returncode == 2 and "64 hex" in bad.stderr
    bad = mhome.run("keys", "authorize", "ef" * 32, "--name", "../evil")
    assert bad.returncode == 2 and "name" in bad.stderr
    assert mhome.run("keys", "revoke", "desktop", check=True).stdout.startswith("revoked desktop")
    missing = mhome.run("keys", "revoke", "desktop")
    assert missing.returncode == 4 and "local" in missing.stderr


def test_revoking_this_client_locks_it_out_at_once_and_authorizing_lets_it_back(mhome, mdaemon):
    me = keys_json(mhome)["client"]
    out = mhome.run("keys", "revoke", "local")
    assert out.returncode == 0 and "this client's own key" in out.stderr
    refused = mhome.run("chat", "list")
    assert refused.returncode == 6 and "authorised" in refused.stderr
    assert mhome.run("keys", "authorize", me, "--name", "local").returncode == 0
    assert mhome.run("chat", "list").returncode == 0


def test_rotate_replaces_the_client_key_and_keeps_the_client_working(mhome, mdaemon):
    before = keys_json(mhome)
    out = mhome.run("keys", "rotate")
    assert out.returncode == 0, out.stderr
    new = out.stdout.strip()
    assert HEX64.fullmatch(new) and new != before["client"]
    after = keys_json(mhome)
    assert after["client"] == new and after["client_name"] == "local" and after["daemon"] == before["daemon"]
    listed = json.loads(mhome.run("keys", "list", "--json", check=True).stdout)
    assert before["client"] not in [e["key"] for e in listed]  # the old key is revoked
    out = mhome.run("ask", "-c", "after-rotate", "still me?")
    assert out.returncode == 0 and out.stdout == "You said: still me?\n", out.stderr
    key_file = mhome.config_dir / "client.key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_rotate_the_daemon_key(home, fake, daemon):
    old = json.loads(home.run("keys", "show", "--json", check=True).stdout)["daemon"]
    home.run("ask", "-c", "before", "hi", check=True)
    out = home.run("keys", "rotate", "--daemon")
    assert out.returncode == 0, out.stderr
    new = out.stdout.strip()
    assert HEX64.fullmatch(new) and new != old
    assert "daemon_key" in out.stderr  # remote clients are told what to change
    daemon.wait(15)  # the old daemon stopped: it must not go on signing with the old key
    # The next command starts a daemon with the new key, and the client trusts it.
    out = home.run("ask", "-c", "before", "and now?")
    assert out.returncode == 0, out.stderr
    status = json.loads(home.run("daemon", "status", "--json", check=True).stdout)
    assert status["pid"] != daemon.pid
    wait_for(lambda: (home.config_dir / "daemon.pub").read_text().strip() == new, 5, what="daemon.pub")
    hello = home.run("keys", "show", "--daemon", check=True).stdout.strip()
    assert hello == new


def test_a_key_file_readable_by_others_is_refused_with_the_fix(mhome, mdaemon):
    key_file = mhome.config_dir / "client.key"
    key_file.chmod(0o644)
    try:
        out = mhome.run("chat", "list")
        assert out.returncode == 10, out.stderr
        assert "Traceback" not in out.stderr
        assert "chmod 600" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    finally:
        key_file.chmod(0o600)
    assert mhome.run("chat", "list").returncode == 0
