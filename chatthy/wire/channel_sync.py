"""The client's end of a connection, on a plain blocking socket.

Blocking sockets rather than an event loop because the client is short-lived
and must start fast: importing anyio alone costs more than a whole request.
On TCP the channel is given a ``FrameCipher`` and bodies are encrypted too.
"""

from __future__ import annotations

import time
from _collections import deque  # collections.deque itself; the package costs starts ~1.5 ms

from _socket import MSG_PEEK

from chatthy.wire.envelope import Envelope
from chatthy.wire.errors import BadSignature, ConnectionClosed
from chatthy.wire.framing import FrameDecoder, encode_frame
from chatthy.wire.limits import DEFAULT_LIMITS, Limits
from chatthy.wire.signing import Signer, Verifier

TYPE_CHECKING = False  # importing typing costs every client start ~3 ms
if TYPE_CHECKING:
    from typing import Any

    from chatthy.wire.box import FrameCipher

_RECV_SIZE = 64 * 1024


class SyncChannel:
    """Signed, framed messages over a connected stream socket.

    Until the peer's first frame verifies, frames are capped at
    ``limits.max_preauth_frame``. On receive, a reset is reported as
    ``ConnectionClosed`` like a clean close; send failures stay ``OSError``.
    """

    def __init__(
        self,
        sock,  # socket.socket, or _socket.socket (the client's Unix socket)
        signer: Signer,
        verifier: Verifier,
        limits: Limits = DEFAULT_LIMITS,
        *,
        cipher: FrameCipher | None = None,
    ) -> None:
        self._sock = sock
        self._signer = signer
        self._verifier = verifier
        self._limits = limits
        self._cipher = cipher
        self._decoder = FrameDecoder(limits.max_preauth_frame)
        self._bodies: deque[bytes] = deque()
        self._authenticated = False
        self._timeout: float | None = sock.gettimeout()

    @property
    def peer_key(self) -> str | None:
        return self._verifier.peer_key

    def _set_timeout(self, timeout: float | None) -> None:
        if timeout != self._timeout:
            self._sock.settimeout(timeout)
            self._timeout = timeout

    def send(self, type: str, id: str, **fields: Any) -> None:
        """Seal and send one frame (``fields``: seq, method, params, data)."""
        self.send_body(self._signer.seal(type, id, **fields))

    def send_body(self, body: bytes) -> None:
        """Send an already sealed body."""
        if self._cipher is not None:
            body = self._cipher.seal(body)
        frame = encode_frame(body, self._limits.max_frame)
        self._set_timeout(None)
        self._sock.sendall(frame)

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

    def receive(self, timeout: float | None = None, interrupts=None) -> Envelope:
        """The next verified envelope; ``TimeoutError`` if none within ``timeout`` s.

        ``interrupts``: the client's entered ``chatthy.deferred_sigint.DeferredSigint``,
        which holds Ctrl-C while a frame is handled. The wait for bytes then goes
        through its ``blocking(wait, *args)`` and takes nothing (a peek), so
        Ctrl-C stops the wait at once without losing a byte; the read that
        follows finds the bytes there and returns at once, held like the rest.
        """
        if self._bodies:
            return self._open(self._bodies.popleft())
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no frame from the peer within {timeout:g} s")
                self._set_timeout(remaining)
            else:
                self._set_timeout(None)
            try:
                if interrupts is not None:
                    interrupts.blocking(self._sock.recv, 1, MSG_PEEK)
                data = self._sock.recv(_RECV_SIZE)
            except TimeoutError:  # socket.timeout is TimeoutError (3.10+)
                raise TimeoutError(f"no frame from the peer within {timeout:g} s") from None
            except ConnectionResetError as exc:
                raise ConnectionClosed("the peer reset the connection") from exc
            if not data:
                self._decoder.eof()
                raise ConnectionClosed("the peer closed the connection")
            self._bodies.extend(self._decoder.feed(data))
            if self._bodies:
                return self._open(self._bodies.popleft())

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> SyncChannel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
