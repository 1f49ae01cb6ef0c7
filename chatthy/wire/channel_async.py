"""The daemon's end of a connection, on an anyio byte stream.

One task receives; any number of tasks may send (a generation streaming
chunks while the connection handler answers other requests), so sends are
serialised to keep frames from interleaving.

On TCP the channel is given a ``FrameCipher`` (``chatthy.wire.box``) and every
body is encrypted as well as signed. A peer that stops reading cannot make the
daemon buffer without bound: a send waits for the socket to drain (anyio's
stream keeps at most about one frame beyond its high-water mark), and a send
that waits longer than ``send_timeout`` closes the connection.

On a Unix socket a frame the kernel takes at once is written straight to the
socket, without a trip round the event loop: a streamed reply sends one frame
per chunk, and that trip (plus a lock and a cancel scope) was a fifth of the
daemon's cost per chunk.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import anyio
import anyio.abc

from chatthy.wire.box import FrameCipher
from chatthy.wire.envelope import Envelope
from chatthy.wire.errors import BadSignature, ConnectionClosed
from chatthy.wire.framing import FrameDecoder, encode_frame
from chatthy.wire.limits import DEFAULT_LIMITS, Limits
from chatthy.wire.signing import Signer, Verifier

_RECV_SIZE = 64 * 1024


class AsyncChannel:
    """Signed, framed messages over an anyio ``ByteStream``.

    The peer's first frame must arrive within ``limits.first_frame_timeout``
    seconds of the first ``receive()`` and may not exceed
    ``limits.max_preauth_frame`` bytes: an unauthenticated peer cannot pin a
    connection open or make the daemon buffer megabytes.
    """

    def __init__(
        self,
        stream: anyio.abc.ByteStream,
        signer: Signer,
        verifier: Verifier,
        limits: Limits = DEFAULT_LIMITS,
        *,
        cipher: FrameCipher | None = None,
        send_timeout: float | None = None,
    ) -> None:
        self._stream = stream
        self._signer = signer
        self._verifier = verifier
        self._limits = limits
        self._cipher = cipher
        self._send_timeout = send_timeout
        self.cut_off: str | None = None  # why this side closed the connection, if it did
        self._decoder = FrameDecoder(limits.max_preauth_frame)
        self._bodies: deque[bytes] = deque()
        self._authenticated = False
        self._first_deadline: float | None = None
        self._send_lock = anyio.Lock()
        # The fast path writes to the socket itself, so only where anyio's own
        # send does the same (a Unix stream on asyncio: raw socket sends, no
        # transport buffer that our bytes could overtake).
        self._raw_socket = None
        if isinstance(stream, anyio.abc.UNIXSocketStream) and cipher is None:
            raw = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)
            if raw is not None and type(stream).send.__module__.endswith("_asyncio"):
                self._raw_socket = raw

    @property
    def peer_key(self) -> str | None:
        return self._verifier.peer_key

    async def send(self, type: str, id: str, **fields: Any) -> None:
        """Seal and send one frame (``fields``: seq, method, params, data)."""
        await self.send_body(self._signer.seal(type, id, **fields))

    @property
    def encrypted(self) -> bool:
        return self._cipher is not None

    async def send_body(self, body: bytes) -> None:
        """Send an already sealed body (seal once, fan out to many connections).

        A peer that does not take the frame within ``send_timeout`` seconds is
        cut off: the stream is closed and ``anyio.BrokenResourceError`` raised.
        """
        raw = self._raw_socket
        lock = self._send_lock
        if raw is not None and not lock.locked():
            # No await from the check above to the send: no other frame can
            # start in between, so a frame the kernel takes whole needs no lock.
            frame = encode_frame(body, self._limits.max_frame)
            try:
                sent = raw.send(frame)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                raise anyio.BrokenResourceError(str(exc)) from exc
            if sent < len(frame):  # the kernel's buffer is full: wait for it, holding the lock
                lock.acquire_nowait()  # still free: nothing has run since the check
                try:
                    await self._send_frame(frame[sent:])
                finally:
                    lock.release()
            return
        async with self._send_lock:
            # Encrypted under the lock: the nonce counter must follow wire order.
            if self._cipher is not None:
                body = self._cipher.seal(body)
            await self._send_frame(encode_frame(body, self._limits.max_frame))

    async def _send_frame(self, frame: bytes) -> None:
        # Transport failures (anyio.BrokenResourceError, ...) propagate as they are.
        if self._send_timeout is None:
            await self._stream.send(frame)
            return
        with anyio.move_on_after(self._send_timeout) as scope:
            await self._stream.send(frame)
        if scope.cancelled_caught:
            self.cut_off = f"the peer read nothing for {self._send_timeout:g} s; connection closed"
            await anyio.aclose_forcefully(self._stream)
            raise anyio.BrokenResourceError(self.cut_off)

    def _open(self, body: bytes) -> Envelope:
        cipher = self._cipher
        if cipher is not None:
            body = cipher.open(body)
        env = self._verifier.open(body)
        if cipher is not None and env.key != cipher.peer_key:
            raise BadSignature("frame is signed by a key other than the one it is encrypted with")
        if not self._authenticated:
            self._authenticated = True
            self._decoder.max_size = self._limits.max_frame
            # Frames queued behind the first were held to the pre-auth cap; re-judge them.
            self._bodies.extend(self._decoder.feed(b""))
        return env

    async def _receive_data(self) -> bytes:
        try:
            return await self._stream.receive(_RECV_SIZE)
        except anyio.EndOfStream:
            self._decoder.eof()
            raise ConnectionClosed("the peer closed the connection") from None
        except anyio.BrokenResourceError as exc:
            raise ConnectionClosed("the peer reset the connection") from exc

    async def receive(self) -> Envelope:
        """The next verified envelope."""
        while not self._bodies:
            if self._authenticated:
                data = await self._receive_data()
            else:
                if self._first_deadline is None:
                    self._first_deadline = anyio.current_time() + self._limits.first_frame_timeout
                remaining = self._first_deadline - anyio.current_time()
                try:
                    with anyio.fail_after(max(remaining, 0)):
                        data = await self._receive_data()
                except TimeoutError:
                    raise TimeoutError(
                        f"peer sent no complete frame within {self._limits.first_frame_timeout:g} s"
                    ) from None
            self._bodies.extend(self._decoder.feed(data))
        return self._open(self._bodies.popleft())

    async def aclose(self) -> None:
        await self._stream.aclose()
