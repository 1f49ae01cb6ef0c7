"""Encrypting frame bodies on TCP: a NaCl Box between the two parties' keys.

On the Unix socket the kernel keeps strangers out (a 0600 socket in a 0700
directory, and the daemon checks the peer's uid) and nobody can read the bytes
in between. On TCP anybody on the path can, so there every signed body
(signature + payload, exactly as on the Unix socket) is sealed in a NaCl Box
(X25519 + XSalsa20-Poly1305) between the sender's and the receiver's Ed25519
keys converted to X25519. Sign, then encrypt: what gets verified is still the
exact payload bytes, and a tap on the wire sees neither the chat, nor the
method names, nor which key signed (the key travels inside the box). Only the
4-byte length prefix stays in the clear.

A sealed body is ``nonce (24 bytes) | MAC (16) | ciphertext``; the nonce is

    direction (1 byte) | channel prefix (15 random bytes) | counter (8 bytes)

Why: both directions and every connection of one client share one key (the
Box of two static keys), so a nonce must never repeat across any of them. The
direction byte separates the two directions (a frame reflected back to its
sender is refused), the prefix, drawn once per channel from os.urandom,
separates connections (120 random bits), and the counter separates the frames
of one channel. The receiver pins the peer's prefix on the first frame and
wants the counter to go 0, 1, 2, … exactly, so a frame replayed, dropped,
reordered or spliced in from another connection is refused before its
signature is even looked at. (Replaying a whole captured connection is caught
one layer up: the signed payload's nonce is remembered by the daemon.)

The daemon learns who is talking from the first frame alone: it tries the
precomputed Box of every authorised key (one MAC check each, on a frame held
to the pre-auth size limit). No key is ever sent in the clear, and a stranger's
frame opens with none of them.

What this does not give: forward secrecy. The keys are long-lived, so whoever
later steals both a client's and the daemon's key files (or one of them plus
the other's public key) can decrypt a recorded session. Rotate keys that may
have leaked (``chatthy keys rotate``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import nacl.exceptions
import nacl.public
import nacl.signing

from chatthy.wire.errors import BadSignature, ReplayedFrame, UnknownKey

NONCE_SIZE = nacl.public.Box.NONCE_SIZE  # 24
MAC_SIZE = 16
OVERHEAD = NONCE_SIZE + MAC_SIZE
_PREFIX_SIZE = 15
_COUNTER_SIZE = 8
TO_DAEMON = 0x01  # direction byte of frames a client sends
TO_CLIENT = 0x02  # direction byte of frames the daemon sends


class BoxCache:
    """Precomputed Boxes between one own key and any number of peer keys.

    Computing the shared key is the expensive part of a Box (a scalar
    multiplication); the daemon keeps one per authorised key for the life of
    the process, so a client that connects a thousand times pays it once.
    """

    def __init__(self, own) -> None:
        # ``own``: PyNaCl's SigningKey or chatthy.wire.ed25519's; both encode to the seed.
        self._private = nacl.signing.SigningKey(own.encode()).to_curve25519_private_key()
        self._boxes: dict[str, nacl.public.Box | None] = {}

    def box(self, peer_hex: str) -> nacl.public.Box | None:
        """The Box with ``peer_hex`` (an Ed25519 public key), None if it is not a valid key."""
        try:
            return self._boxes[peer_hex]
        except KeyError:
            pass
        try:
            verify_key = nacl.signing.VerifyKey(bytes.fromhex(peer_hex))
            box: nacl.public.Box | None = nacl.public.Box(
                self._private, verify_key.to_curve25519_public_key()
            )
        except (ValueError, TypeError, nacl.exceptions.CryptoError, RuntimeError):
            box = None  # a malformed key decrypts nothing
        if len(self._boxes) > 4096:
            self._boxes.clear()  # authorised keys churned a lot: start again
        self._boxes[peer_hex] = box
        return box


class FrameCipher:
    """One connection's encryption: seals outgoing bodies, opens incoming ones.

    Make it with ``FrameCipher.client(...)`` (peer known: the pinned daemon
    key) or ``FrameCipher.daemon(...)`` (peer found among ``candidates()`` on
    the first frame). ``peer_key`` is the peer's Ed25519 public key (hex) once
    known; the channel checks that the signed payload names that same key.
    """

    __slots__ = (
        "_boxes", "_candidates", "_box", "peer_key", "_send_direction", "_recv_direction",
        "_prefix", "_send_counter", "_peer_prefix", "_recv_counter",
    )

    def __init__(
        self,
        boxes: BoxCache,
        *,
        send_direction: int,
        peer_key: str | None = None,
        candidates: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self._boxes = boxes
        self._candidates = candidates
        self._box: nacl.public.Box | None = None
        self.peer_key: str | None = None
        if peer_key is not None:
            box = boxes.box(peer_key)
            if box is None:
                raise UnknownKey(f"{peer_key[:16]}… is not an Ed25519 public key")
            self._box, self.peer_key = box, peer_key
        self._send_direction = send_direction
        self._recv_direction = TO_CLIENT if send_direction == TO_DAEMON else TO_DAEMON
        self._prefix = os.urandom(_PREFIX_SIZE)
        self._send_counter = 0
        self._peer_prefix: bytes | None = None
        self._recv_counter = 0

    @classmethod
    def client(cls, own, daemon_key: str) -> FrameCipher:
        return cls(BoxCache(own), send_direction=TO_DAEMON, peer_key=daemon_key)

    @classmethod
    def daemon(cls, boxes: BoxCache, candidates: Callable[[], Iterable[str]]) -> FrameCipher:
        return cls(boxes, send_direction=TO_CLIENT, candidates=candidates)

    def seal(self, body: bytes) -> bytes:
        if self._box is None:
            # Nothing to encrypt to yet: a peer that has not proven a key gets no answer.
            raise UnknownKey("cannot encrypt to a peer that has not identified itself")
        counter = self._send_counter
        self._send_counter += 1
        nonce = (
            self._send_direction.to_bytes(1, "big")
            + self._prefix
            + counter.to_bytes(_COUNTER_SIZE, "big")
        )
        return self._box.encrypt(body, nonce)  # nonce + MAC + ciphertext, a bytes subclass

    def _check_nonce(self, nonce: bytes) -> None:
        if nonce[0] != self._recv_direction:
            raise ReplayedFrame("encrypted frame carries the wrong direction: a reflected frame")
        prefix = nonce[1 : 1 + _PREFIX_SIZE]
        counter = int.from_bytes(nonce[1 + _PREFIX_SIZE :], "big")
        if self._peer_prefix is not None and prefix != self._peer_prefix:
            raise ReplayedFrame("encrypted frame belongs to another connection")
        if counter != self._recv_counter:
            raise ReplayedFrame(
                f"encrypted frame number {counter} arrived where {self._recv_counter} was due: "
                "replayed, dropped or reordered"
            )

    def open(self, sealed: bytes) -> bytes:
        """The signed body inside ``sealed``; a ``WireError`` if it does not authenticate."""
        if len(sealed) < OVERHEAD:
            raise BadSignature(
                f"encrypted frame of {len(sealed)} bytes is too short to hold a nonce and a MAC"
            )
        nonce, ciphertext = sealed[:NONCE_SIZE], sealed[NONCE_SIZE:]
        self._check_nonce(nonce)
        if self._box is not None:
            try:
                body = self._box.decrypt(ciphertext, nonce)
            except nacl.exceptions.CryptoError:
                raise BadSignature("encrypted frame does not authenticate with this connection's key") from None
        else:
            body = self._identify(nonce, ciphertext)
        if self._peer_prefix is None:
            self._peer_prefix = nonce[1 : 1 + _PREFIX_SIZE]
        self._recv_counter += 1
        return body

    def _identify(self, nonce: bytes, ciphertext: bytes) -> bytes:
        if self._candidates is not None:
            for key in self._candidates():
                box = self._boxes.box(key)
                if box is None:
                    continue
                try:
                    body = box.decrypt(ciphertext, nonce)
                except nacl.exceptions.CryptoError:
                    continue
                self._box, self.peer_key = box, key
                return body
        raise UnknownKey("frame is not encrypted by an authorised key")
