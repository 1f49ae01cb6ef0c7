import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from nacl.signing import SigningKey

import chatthy
from chatthy.wire.errors import KeyFileError
from chatthy.wire.keys import (
    AuthorizedKeys,
    ensure_local_keys,
    load_client_keys,
    load_or_create_signing_key,
    public_hex,
)

REPO = Path(chatthy.__file__).resolve().parent.parent
K1, K2, K3 = ("1" * 64, "2" * 64, "3" * 64)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_key_is_created_0600_and_loaded_again(tmp_path):
    path = tmp_path / "client.key"
    key = load_or_create_signing_key(path)
    assert mode(path) == 0o600
    assert path.read_text() == key.encode().hex() + "\n"
    assert load_or_create_signing_key(path).encode() == key.encode()


def test_key_created_under_a_loose_umask_is_still_0600(tmp_path):
    old = os.umask(0)
    try:
        load_or_create_signing_key(tmp_path / "k.key")
    finally:
        os.umask(old)
    assert mode(tmp_path / "k.key") == 0o600


@pytest.mark.parametrize("loose", [0o640, 0o604, 0o660])
def test_key_readable_by_others_is_refused_with_the_fix(tmp_path, loose):
    path = tmp_path / "client.key"
    load_or_create_signing_key(path)
    path.chmod(loose)
    with pytest.raises(KeyFileError) as info:
        load_or_create_signing_key(path)
    assert f"`chmod 600 {path}`" in str(info.value)
    assert info.value.code == "config_error"


def test_malformed_key_is_refused_at_once(tmp_path):
    path = tmp_path / "client.key"
    path.write_text("not a key\n")
    path.chmod(0o600)
    start = time.monotonic()
    with pytest.raises(KeyFileError, match="64-hex-character"):
        load_or_create_signing_key(path)
    assert time.monotonic() - start < 1


def test_loader_waits_for_a_racing_writer_to_finish(tmp_path):
    path = tmp_path / "client.key"
    seed = SigningKey.generate().encode().hex()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, seed[:10].encode())

    def finish():
        time.sleep(0.1)
        os.write(fd, (seed[10:] + "\n").encode())
        os.close(fd)

    writer = threading.Thread(target=finish)
    writer.start()
    try:
        assert load_or_create_signing_key(path).encode().hex() == seed
    finally:
        writer.join()


def test_public_hex():
    key = SigningKey(b"k" * 32)
    assert public_hex(key) == public_hex(key.verify_key) == key.verify_key.encode().hex()
    assert len(public_hex(key)) == 64


def test_ensure_local_keys_first_run(tmp_path):
    config = tmp_path / "cfg" / "chatthy"
    local = ensure_local_keys(config)
    assert mode(config) == 0o700
    for name in ("client.key", "daemon.key", "authorized_keys"):
        assert mode(config / name) == 0o600
    assert (config / "daemon.pub").read_text() == local.daemon_public + "\n"
    assert local.daemon_public == public_hex(local.daemon)
    assert AuthorizedKeys(config / "authorized_keys").entries() == [(public_hex(local.client), "local")]
    again = ensure_local_keys(config)
    assert again.client.encode() == local.client.encode()
    assert again.daemon.encode() == local.daemon.encode()


def test_revoked_local_key_is_never_re_added(tmp_path):
    local = ensure_local_keys(tmp_path)
    auth = AuthorizedKeys(tmp_path / "authorized_keys")
    assert auth.remove("local")
    ensure_local_keys(tmp_path)
    assert public_hex(local.client) not in auth.keys()


def test_daemon_pub_follows_the_daemon_key(tmp_path):
    ensure_local_keys(tmp_path)
    (tmp_path / "daemon.pub").write_text("stale\n")
    local = ensure_local_keys(tmp_path)
    assert (tmp_path / "daemon.pub").read_text().strip() == local.daemon_public


def test_load_client_keys_creates_what_is_missing(tmp_path):
    key, daemon_public = load_client_keys(tmp_path / "new")
    local = ensure_local_keys(tmp_path / "new")
    assert key.encode() == local.client.encode()
    assert daemon_public == local.daemon_public


def test_load_client_keys_with_a_remote_daemon(tmp_path):
    (tmp_path / "daemon.pub").write_text("AB" * 32 + "\n")
    key, daemon_public = load_client_keys(tmp_path)
    assert daemon_public == "ab" * 32
    assert not (tmp_path / "daemon.key").exists()  # the daemon lives elsewhere
    assert mode(tmp_path / "client.key") == 0o600


def test_load_client_keys_refuses_a_malformed_daemon_pub(tmp_path):
    (tmp_path / "daemon.pub").write_text("nonsense\n")
    with pytest.raises(KeyFileError, match="daemon's public key"):
        load_client_keys(tmp_path)


RACER = """
import sys, time
from chatthy.wire.keys import ensure_local_keys, public_hex
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
local = ensure_local_keys(sys.argv[1])
print(public_hex(local.client), local.daemon_public)
"""


def test_processes_racing_to_create_keys_agree(tmp_path):
    config = tmp_path / "race"
    start = time.time() + 0.8
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(config), str(start)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for _ in range(6)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        results.append(out.strip())
    assert len(set(results)) == 1
    client_public, daemon_public = results[0].split()
    assert AuthorizedKeys(config / "authorized_keys").entries() == [(client_public, "local")]
    assert (config / "daemon.pub").read_text().strip() == daemon_public
    assert sorted(p.name for p in config.iterdir()) == [
        "authorized_keys", "client.key", "daemon.key", "daemon.pub",
    ]


def test_authorized_keys_add_remove(tmp_path):
    auth = AuthorizedKeys(tmp_path / "authorized_keys")
    assert auth.keys() == [] and auth.problems == []
    auth.add(K1.upper(), "laptop")
    auth.add(K2, "phone@home")
    assert auth.entries() == [(K1, "laptop"), (K2, "phone@home")]
    assert mode(tmp_path / "authorized_keys") == 0o600
    assert auth.remove("laptop") is True
    assert auth.remove(K2.upper()) is True
    assert auth.remove("laptop") is False
    assert auth.keys() == []
    assert (tmp_path / "authorized_keys").read_text().startswith("#")


@pytest.mark.parametrize(
    ("key", "name", "reason"),
    [
        (K1, "laptop", "already authorised as 'laptop'"),
        (K2, "laptop", "already used by key"),
        ("12345", "x", "64 hex characters"),
        ("g" * 64, "x", "64 hex characters"),
        (K2, "has space", "must be 1-64"),
        (K2, "", "must be 1-64"),
        (K2, "n" * 65, "must be 1-64"),
    ],
)
def test_authorized_keys_add_refuses(tmp_path, key, name, reason):
    auth = AuthorizedKeys(tmp_path / "authorized_keys")
    auth.add(K1, "laptop")
    with pytest.raises(ValueError, match=reason):
        auth.add(key, name)
    assert auth.entries() == [(K1, "laptop")]


def test_edits_by_hand_are_picked_up_and_problems_reported(tmp_path):
    path = tmp_path / "authorized_keys"
    path.write_text(f"# comment\n\ned25519 {K1} one\n")
    path.chmod(0o600)
    auth = AuthorizedKeys(path)
    assert auth.keys() == [K1]
    path.write_text(
        f"ed25519 {K1} one\n"
        f"rsa {K2} two\n"
        f"ed25519 {K2[:-2]} short\n"
        f"ed25519 {K2}\n"
        f"ed25519 {K2} bad/name\n"
        f"ed25519 {K1} again\n"
        f"  ed25519 {K3} three  \n"
    )
    assert auth.keys() == [K1, K3]
    assert [p.split(": ", 1)[0] for p in auth.problems] == [f"{path}:{n}" for n in (2, 3, 4, 5, 6)]
    assert "unsupported key type 'rsa'" in auth.problems[0]
    assert "already listed on line 1" in auth.problems[4]
    # Removing keeps comments and the lines it could not parse.
    assert auth.remove("three")
    assert f"rsa {K2} two" in path.read_text()


def test_keys_are_not_re_read_while_the_file_is_unchanged(tmp_path, monkeypatch):
    auth = AuthorizedKeys(tmp_path / "authorized_keys")
    auth.add(K1, "one")
    assert auth.keys() == [K1]
    reads = []
    original = AuthorizedKeys._read
    monkeypatch.setattr(AuthorizedKeys, "_read", lambda self: reads.append(1) or original(self))
    for _ in range(100):
        assert auth.keys() == [K1]
    assert reads == []
    auth.add(K2, "two")
    assert auth.keys() == [K1, K2]
    assert len(reads) == 2  # one to update the file, one to reload it


def test_authorized_keys_writable_by_others_authorise_nobody(tmp_path):
    auth = AuthorizedKeys(tmp_path / "authorized_keys")
    auth.add(K1, "one")
    (tmp_path / "authorized_keys").chmod(0o662)
    assert auth.keys() == []
    assert "chmod 600" in auth.problems[0]
    with pytest.raises(KeyFileError):
        auth.add(K2, "two")
    (tmp_path / "authorized_keys").chmod(0o600)
    assert auth.keys() == [K1]
