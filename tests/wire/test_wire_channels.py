import os
import shutil
import socket
import struct
import tempfile
import threading
import time

import anyio
import pytest
from nacl.signing import SigningKey

from chatthy.wire.channel_async import AsyncChannel
from chatthy.wire.channel_sync import SyncChannel
from chatthy.wire.errors import ConnectionClosed, FrameTooLarge, IncompleteFrame, UnknownKey
from chatthy.wire.framing import encode_frame
from chatthy.wire.limits import DEFAULT_LIMITS, Limits
from chatthy.wire.signing import Signer, Verifier

CLIENT = Signer(SigningKey(b"c" * 32))
DAEMON = Signer(SigningKey(b"d" * 32))
STRANGER = Signer(SigningKey(b"s" * 32))
PREAUTH_OVERSIZE = 100 * 1024


def client_channel(sock, limits=DEFAULT_LIMITS, signer=CLIENT):
    return SyncChannel(sock, signer, Verifier(lambda: [DAEMON.public_key], limits=limits), limits)


def daemon_sync_channel(sock, limits=DEFAULT_LIMITS):
    return SyncChannel(sock, DAEMON, Verifier(lambda: [CLIENT.public_key], limits=limits), limits)


def in_thread(fn):
    thread = threading.Thread(target=fn)
    thread.start()
    return thread


def send_ignoring_reset(sock, data):
    # The receiving end may refuse and close mid-send: that is the point of the test.
    try:
        sock.sendall(data)
    except OSError:
        pass


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    with client_channel(a) as client, daemon_sync_channel(b) as daemon:
        yield client, daemon


def test_sync_round_trip(pair):
    client, daemon = pair
    client.send("request", "r1", method="chat.send", params={"text": "hi"})
    env = daemon.receive(timeout=5)
    assert (env.method, env.params, daemon.peer_key) == ("chat.send", {"text": "hi"}, CLIENT.public_key)
    for seq in range(3):
        daemon.send("chunk", "r1", seq=seq, data={"text": str(seq)})
    daemon.send("end", "r1", data={"count": 3, "sha256": "x"})
    got = [client.receive(timeout=5) for _ in range(4)]
    assert [e.type for e in got] == ["chunk", "chunk", "chunk", "end"]
    assert [e.seq for e in got[:3]] == [0, 1, 2]
    assert client.peer_key == DAEMON.public_key


def test_sync_large_frame_after_authentication(pair):
    client, daemon = pair
    big = "x" * (2 * 1024 * 1024)

    def send():
        client.send("request", "r1", method="hello")
        client.send("request", "r2", method="upload", params={"blob": big})

    sender = in_thread(send)
    try:
        assert daemon.receive(timeout=5).method == "hello"
        assert daemon.receive(timeout=5).params["blob"] == big
    finally:
        sender.join()


def test_sync_frames_pipelined_behind_the_first_get_the_full_limit(pair):
    client, daemon = pair
    big = "y" * PREAUTH_OVERSIZE
    # Both frames are in flight before the daemon verifies the first one.
    sender = in_thread(lambda: (client.send("request", "r1", method="a"),
                                client.send("request", "r2", method="b", params={"p": big})))
    try:
        time.sleep(0.05)
        assert daemon.receive(timeout=5).method == "a"
        assert daemon.receive(timeout=5).params == {"p": big}
    finally:
        sender.join()


def test_sync_unauthenticated_peer_cannot_send_a_big_frame():
    a, b = socket.socketpair()
    with client_channel(a) as client, b:
        sender = in_thread(lambda: send_ignoring_reset(b, encode_frame(b"z" * PREAUTH_OVERSIZE, 2**32)))
        try:
            with pytest.raises(FrameTooLarge, match=str(PREAUTH_OVERSIZE)):
                client.receive(timeout=5)
        finally:
            client.close()
            sender.join()


def test_sync_stranger_is_refused():
    a, b = socket.socketpair()
    with client_channel(a, signer=STRANGER) as stranger, daemon_sync_channel(b) as daemon:
        stranger.send("request", "r1", method="x")
        with pytest.raises(UnknownKey):
            daemon.receive(timeout=5)


def test_sync_timeout(pair):
    client, _ = pair
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        client.receive(timeout=0.05)
    assert time.monotonic() - start < 2


def test_sync_clean_close_and_partial_frame():
    a, b = socket.socketpair()
    with client_channel(a) as client:
        b.close()
        with pytest.raises(ConnectionClosed):
            client.receive(timeout=5)
    a, b = socket.socketpair()
    with client_channel(a) as client, b:
        b.sendall(struct.pack(">I", 100) + b"only part")
        b.shutdown(socket.SHUT_WR)
        with pytest.raises(IncompleteFrame):
            client.receive(timeout=5)


# --- daemon side: AsyncChannel on a real Unix socket ---------------------------


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def socket_path():
    # Unix socket paths are limited to ~104 bytes: pytest's tmp_path can be longer.
    directory = tempfile.mkdtemp(prefix="chw", dir="/tmp")
    yield os.path.join(directory, "s")
    shutil.rmtree(directory)


class Connection:
    """A daemon-side AsyncChannel and a client-side blocking socket, connected."""

    def __init__(self, path, limits):
        self.path, self.limits = path, limits

    async def __aenter__(self):
        self.listener = await anyio.create_unix_listener(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)  # completes from the backlog, before accept
        stream = await self.listener.accept()
        verifier = Verifier(lambda: [CLIENT.public_key], limits=self.limits)
        self.daemon = AsyncChannel(stream, DAEMON, verifier, self.limits)
        self.client = client_channel(self.sock, self.limits)
        return self

    async def __aexit__(self, *exc_info):
        self.client.close()
        await self.daemon.aclose()
        await self.listener.aclose()


@pytest.mark.anyio
async def test_async_round_trip_with_concurrent_senders(socket_path):
    async with Connection(socket_path, DEFAULT_LIMITS) as conn:
        await anyio.to_thread.run_sync(lambda: conn.client.send("request", "r1", method="chat.send"))
        env = await conn.daemon.receive()
        assert env.method == "chat.send" and conn.daemon.peer_key == CLIENT.public_key

        per_task, tasks = 50, 8
        payload = "p" * 5000  # big enough to need several writes per frame

        async def stream(task):
            for seq in range(per_task):
                await conn.daemon.send("chunk", f"s{task}", seq=seq, data={"text": payload})

        def receive_all():
            return [conn.client.receive(timeout=10) for _ in range(per_task * tasks)]

        async with anyio.create_task_group() as tg:
            for task in range(tasks):
                tg.start_soon(stream, task)
            received = await anyio.to_thread.run_sync(receive_all)
        by_stream = {}
        for env in received:
            by_stream.setdefault(env.id, []).append(env.seq)
        assert by_stream == {f"s{t}": list(range(per_task)) for t in range(tasks)}


@pytest.mark.anyio
async def test_async_send_body_fans_out_one_sealed_frame(socket_path):
    async with Connection(socket_path, DEFAULT_LIMITS) as conn:
        body = DAEMON.seal("event", "chat-1", seq=0, data={"kind": "renamed"})
        await conn.daemon.send_body(body)
        env = await anyio.to_thread.run_sync(lambda: conn.client.receive(timeout=5))
        assert env.data == {"kind": "renamed"}


@pytest.mark.anyio
@pytest.mark.parametrize("sent", [b"", struct.pack(">I", 500) + b"partial"])
async def test_async_first_frame_timeout(socket_path, sent):
    limits = Limits(first_frame_timeout=0.2)
    async with Connection(socket_path, limits) as conn:
        conn.sock.sendall(sent)
        start = anyio.current_time()
        with pytest.raises(TimeoutError, match="0.2 s"):
            await conn.daemon.receive()
        assert anyio.current_time() - start < 2


@pytest.mark.anyio
async def test_async_no_timeout_once_authenticated(socket_path):
    limits = Limits(first_frame_timeout=0.1)
    async with Connection(socket_path, limits) as conn:
        conn.client.send("request", "r1", method="a")
        await conn.daemon.receive()

        def later():
            time.sleep(0.3)
            conn.client.send("request", "r2", method="b")

        sender = in_thread(later)
        try:
            assert (await conn.daemon.receive()).method == "b"
        finally:
            sender.join()


@pytest.mark.anyio
async def test_async_unauthenticated_peer_cannot_send_a_big_frame(socket_path):
    async with Connection(socket_path, DEFAULT_LIMITS) as conn:
        sender = in_thread(
            lambda: send_ignoring_reset(conn.sock, encode_frame(b"z" * PREAUTH_OVERSIZE, 2**32))
        )
        try:
            with pytest.raises(FrameTooLarge):
                await conn.daemon.receive()
        finally:
            await conn.daemon.aclose()
            sender.join()


@pytest.mark.anyio
async def test_async_clean_close(socket_path):
    async with Connection(socket_path, DEFAULT_LIMITS) as conn:
        conn.client.send("request", "r1", method="a")
        conn.sock.shutdown(socket.SHUT_WR)
        assert (await conn.daemon.receive()).method == "a"
        with pytest.raises(ConnectionClosed):
            await conn.daemon.receive()


@pytest.mark.anyio
async def test_async_a_frame_bigger_than_the_socket_buffer_goes_out_whole_and_first(socket_path):
    """The direct write takes what the kernel accepts; the rest waits, holding the
    channel, so a frame sent meanwhile cannot land inside the first."""
    async with Connection(socket_path, DEFAULT_LIMITS) as conn:
        await anyio.to_thread.run_sync(lambda: conn.client.send("request", "r1", method="chat.send"))
        await conn.daemon.receive()
        await conn.daemon.send("ack", "r1")  # the client knows the daemon now: big frames allowed
        assert (await anyio.to_thread.run_sync(lambda: conn.client.receive(timeout=5))).type == "ack"
        big = "b" * 3_000_000  # far beyond a Unix socket's buffer
        done = []

        async def send(id, text):
            await conn.daemon.send("chunk", id, seq=0, data={"text": text})
            done.append(id)

        async with anyio.create_task_group() as tg:
            tg.start_soon(send, "big", big)
            await anyio.sleep(0.05)  # the big frame is stuck on a full buffer: nobody reads yet
            assert done == []
            tg.start_soon(send, "small", "s")
            await anyio.sleep(0.05)
            assert done == []  # waits its turn behind the big one
            first, second = await anyio.to_thread.run_sync(
                lambda: [conn.client.receive(timeout=10) for _ in range(2)])
        assert (first.id, len(first.data["text"]), second.id) == ("big", len(big), "small")
        assert done == ["big", "small"]
