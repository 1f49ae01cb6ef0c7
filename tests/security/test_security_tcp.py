"""TCP: a client on another machine, encrypted as well as signed, and the refusals.

The "other machine" is a second chatthy home with its own keys and no daemon,
configured with the daemon's address and public key. Between them sits a TCP
proxy that records every byte: the tap a packet capture would be.
"""

from __future__ import annotations

import json
import socket

import pytest

from chatthy.wire.box import BoxCache, FrameCipher
from chatthy.wire.ed25519 import SigningKey
from chatthy.wire.keys import load_client_keys
from chatthy.wire.signing import Signer, Verifier
from tests.conftest import make_home
from tests.reliability.reliability_support import (
    Proxy, closed_by_peer, log_text, read_frame, remove_home, send_frame, wait_for,
)

DAEMON_ARGS = ("--tcp", "127.0.0.1:0")
SECRET_PROMPT = "the launch code is tangerine-4471"


@pytest.fixture(scope="module")
def daemon_key(mhome, mdaemon) -> str:
    return mhome.run("keys", "show", "--daemon", check=True).stdout.strip()


@pytest.fixture
def remote():
    """Another machine: its own config dir and keys, no daemon of its own."""
    home = make_home(None)
    home.env["CHATTHY_NO_AUTOSTART"] = "1"
    try:
        yield home
    finally:
        remove_home(home)


def client_key_of(home) -> str:
    return home.run("keys", "show", "--client", check=True).stdout.strip()


class RawTcp:
    """A hand-driven encrypted client, to send what a real client never would."""

    def __init__(self, port: int, daemon_key: str, key: SigningKey | None = None) -> None:
        self.key = key or SigningKey.generate()
        self.signer = Signer(self.key)
        self.daemon_key = daemon_key
        self.cipher = FrameCipher.client(self.key, daemon_key)
        self.verifier = Verifier(lambda: (daemon_key,))
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)

    @property
    def public(self) -> str:
        return self.signer.public_key

    def sealed(self, method: str = "daemon.status", rid: str = "r1", **seal_kw) -> bytes:
        return self.cipher.seal(self.signer.seal("request", rid, method=method, params={}, **seal_kw))

    def send(self, frame: bytes) -> None:
        send_frame(self.sock, frame)

    def receive(self):
        frame = read_frame(self.sock)
        if frame is None:
            return None
        return self.verifier.open(self.cipher.open(frame))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def authorised_raw(mhome, mdaemon, daemon_key):
    clients = []

    def make(**kw) -> RawTcp:
        raw = RawTcp(mdaemon.tcp_port, daemon_key, **kw)
        mhome.run("keys", "authorize", raw.public, "--name", f"raw-{raw.public[:8]}", check=True)
        clients.append(raw)
        return raw

    yield make
    for raw in clients:
        raw.close()
        mhome.run("keys", "revoke", raw.public)


def test_a_remote_client_talks_over_tcp_and_the_tap_sees_no_plaintext(mhome, mfake, mdaemon, daemon_key, remote):
    assert mhome.run("keys", "authorize", client_key_of(remote), "--name", "laptop").returncode == 0
    with Proxy.tcp(mdaemon.tcp_port) as tap:
        remote.config_dir.mkdir(parents=True, exist_ok=True)
        (remote.config_dir / "config.toml").write_text(
            f'[client]\nconnect = "tcp://127.0.0.1:{tap.port}"\ndaemon_key = "{daemon_key}"\n')
        out = remote.run("ask", "-c", "over-the-wire", SECRET_PROMPT)
        assert out.returncode == 0, out.stderr
        assert out.stdout == f"You said: {SECRET_PROMPT}\n"
        listed = remote.run("chat", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert "over-the-wire" in [c["name"] for c in json.loads(listed.stdout)]
    # The daemon really received it: the chat is in its database.
    assert "over-the-wire" in mhome.run("chat", "list", check=True).stdout
    wire = bytes(tap.to_daemon) + bytes(tap.to_client)
    assert len(tap.to_daemon) > 200 and len(tap.to_client) > 200
    laptop_key = client_key_of(remote)
    for plaintext in (SECRET_PROMPT, "tangerine", "You said", "over-the-wire", "chat.list", '"method"',
                      '"request"', '"nonce"', '"type"', '"seq"', "fake-model", laptop_key, daemon_key):
        assert plaintext.encode() not in wire, plaintext
    mhome.run("keys", "revoke", "laptop", check=True)


def test_connect_from_the_environment_and_an_unknown_key_is_refused_and_logged(mhome, mdaemon, daemon_key, remote):
    remote.env.update(CHATTHY_CONNECT=f"tcp://127.0.0.1:{mdaemon.tcp_port}", CHATTHY_DAEMON_KEY=daemon_key)
    out = remote.run("ask", "let me in")
    assert out.returncode == 3
    assert "authorise" in out.stderr and "chatthy keys" in out.stderr
    assert "refused frame (unauthorised): frame is not encrypted by an authorised key" in log_text(mhome)
    mhome.run("keys", "authorize", client_key_of(remote), "--name", "envclient", check=True)
    try:
        out = remote.run("ask", "let me in")
        assert out.returncode == 0, out.stderr
        assert out.stdout == "You said: let me in\n"
    finally:
        mhome.run("keys", "revoke", "envclient", check=True)
    assert remote.run("ask", "again").returncode == 3  # revoked: refused at once


def test_a_wrong_daemon_key_is_refused_by_the_client(mdaemon, remote):
    impostor = Signer(SigningKey.generate()).public_key
    remote.env.update(CHATTHY_CONNECT=f"tcp://127.0.0.1:{mdaemon.tcp_port}", CHATTHY_DAEMON_KEY=impostor)
    out = remote.run("ask", "hello?")
    # The daemon cannot open a box addressed to another key: it closes without a word.
    assert out.returncode == 3 and "closed the connection" in out.stderr


def test_revoking_cuts_an_open_tcp_connection_at_its_next_frame(mhome, authorised_raw):
    raw = authorised_raw()
    raw.send(raw.sealed(rid="one"))
    assert raw.receive().type == "end"
    mhome.run("keys", "revoke", raw.public, check=True)
    raw.send(raw.sealed(rid="two"))
    reply = raw.receive()
    assert reply.type == "error" and reply.data["code"] == "unauthorised" and "revoked" in reply.data["message"]
    assert closed_by_peer(raw.sock)


def test_a_tampered_ciphertext_is_refused(mhome, authorised_raw):
    raw = authorised_raw()
    raw.send(raw.sealed(rid="ok"))
    assert raw.receive().type == "end"
    frame = bytearray(raw.sealed(rid="bad"))
    frame[-5] ^= 0x20
    raw.send(bytes(frame))
    reply = raw.receive()
    assert reply.type == "error" and reply.data["code"] == "unauthorised"
    assert "does not authenticate" in reply.data["message"]
    assert closed_by_peer(raw.sock)
    assert "does not authenticate with this connection's key" in log_text(mhome)


def test_a_frame_replayed_on_the_same_connection_is_refused(authorised_raw):
    raw = authorised_raw()
    frame = raw.sealed(rid="once")
    raw.send(frame)
    assert raw.receive().type == "end"
    raw.send(frame)
    reply = raw.receive()
    assert reply.type == "error" and "replayed" in reply.data["message"]
    assert closed_by_peer(raw.sock)


def test_a_captured_connection_replayed_on_a_new_one_is_refused(mhome, mdaemon, authorised_raw, daemon_key):
    raw = authorised_raw()
    first = raw.sealed(rid="captured")
    raw.send(first)
    assert raw.receive().type == "end"
    # An eavesdropper replays the bytes on a fresh connection: the box opens,
    # but the signed payload's nonce was already used.
    sock = socket.create_connection(("127.0.0.1", mdaemon.tcp_port), timeout=10)
    send_frame(sock, first)
    reply = read_frame(sock)  # encrypted to the real client: the eavesdropper learns nothing
    assert reply is not None
    env = Verifier(lambda: (daemon_key,)).open(
        FrameCipher(BoxCache(raw.key), send_direction=0x01, peer_key=daemon_key).open(reply))
    assert env.type == "error" and env.data["code"] == "unauthorised" and "replayed" in env.data["message"]
    assert closed_by_peer(sock)
    sock.close()


def test_a_reflected_daemon_frame_is_refused(authorised_raw):
    raw = authorised_raw()
    raw.send(raw.sealed(rid="hello"))
    daemon_frame = read_frame(raw.sock)
    raw.send(daemon_frame)  # the daemon's own frame, sent back to it
    frame = read_frame(raw.sock)
    env = raw.verifier.open(raw.cipher.open(daemon_frame))
    assert env.type == "end"
    reply = raw.verifier.open(raw.cipher.open(frame))
    assert reply.type == "error" and "reflected" in reply.data["message"]


def test_signed_but_unencrypted_frames_are_refused_on_tcp(mhome, mdaemon):
    key, _ = load_client_keys(mhome.config_dir)  # the local key: authorised, but not encrypting
    sock = socket.create_connection(("127.0.0.1", mdaemon.tcp_port), timeout=10)
    send_frame(sock, Signer(key).seal("request", "plain", method="daemon.status", params={}))
    assert closed_by_peer(sock)
    sock.close()


def test_an_oversized_frame_on_tcp_is_refused_before_its_body(mhome, mdaemon):
    sock = socket.create_connection(("127.0.0.1", mdaemon.tcp_port), timeout=10)
    sock.sendall((2**32 - 1).to_bytes(4, "big"))
    assert closed_by_peer(sock, timeout=5)
    sock.close()
    wait_for(lambda: "refused frame (too_large)" in log_text(mhome), 5, what="the refusal in the log")


def test_the_daemon_still_serves_after_all_that(mhome, mdaemon):
    out = mhome.run("ask", "still standing?")
    assert out.returncode == 0 and out.stdout == "You said: still standing?\n"


def test_serve_listens_on_tcp_from_the_config_file(mfake, remote):
    """`chatthy serve` with `[daemon] tcp` (the usual way), then `serve --tcp ''` turns it off."""
    import subprocess

    from tests.conftest import CHATTHY
    from tests.reliability.reliability_support import new_home, unix_answers

    home = new_home(mfake, '\n[daemon]\ntcp = "127.0.0.1:0"\n')
    try:
        for args, listens in ((), True), (("--tcp", ""), False):
            before = log_text(home).count("listening on tcp")
            proc = subprocess.Popen([CHATTHY, "serve", "--no-log-stderr", *args], env=home.env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for(lambda: unix_answers(home.socket) and f"daemon ready (pid {proc.pid})" in log_text(home),
                         30, what="the daemon")
                lines = [l for l in log_text(home).splitlines() if "listening on tcp" in l]
                assert len(lines) - before == (1 if listens else 0)
                if listens:
                    port = int(lines[-1].split("listening on tcp 127.0.0.1:")[1].split()[0])
                    mkey = home.run("keys", "show", "--daemon", check=True).stdout.strip()
                    home.run("keys", "authorize", client_key_of(remote), "--name", "viaconfig", check=True)
                    remote.env.update(CHATTHY_CONNECT=f"tcp://127.0.0.1:{port}", CHATTHY_DAEMON_KEY=mkey)
                    out = remote.run("ask", "configured?")
                    assert out.returncode == 0 and out.stdout == "You said: configured?\n", out.stderr
            finally:
                proc.terminate()
                proc.wait(15)
    finally:
        remove_home(home)


def test_a_flood_of_tcp_connections_does_not_lock_out_local_clients(mfake):
    from tests.reliability.reliability_support import DaemonProcess, new_home

    home = new_home(mfake, "\n[daemon]\nmax_connections = 4\n")
    held = []
    try:
        with DaemonProcess(home, "--tcp", "127.0.0.1:0") as daemon:
            for _ in range(4):  # idle, unauthenticated: what a flood looks like
                held.append(socket.create_connection(("127.0.0.1", daemon.tcp_port), timeout=10))
            wait_for(lambda: home.run("daemon", "status", "--json").returncode == 0, 10, what="a local answer")
            extra = socket.create_connection(("127.0.0.1", daemon.tcp_port), timeout=10)
            assert closed_by_peer(extra, timeout=5)
            extra.close()
            assert "connections open (max_connections)" in log_text(home)
            out = home.run("ask", "local clients still get in")
            assert out.returncode == 0, out.stderr
    finally:
        for s in held:
            s.close()
        remove_home(home)
