"""Sealing outgoing payloads and opening incoming ones.

A frame body is a 64-byte Ed25519 signature followed by the payload bytes it
covers, exactly as sent: nothing is canonicalised, so what is verified is what
gets parsed. The verifier checks the signature before decoding a single byte.
"""

from __future__ import annotations

import os
import time

from chatthy.wire.ed25519 import SigningKey, VerifyKey
from chatthy.wire.envelope import Envelope, dump_payload, parse_envelope
from chatthy.wire.errors import BadSignature, UnknownKey
from chatthy.wire.limits import DEFAULT_LIMITS, PROTOCOL_VERSION, Limits
from chatthy.wire.replay import ReplayCache

TYPE_CHECKING = False  # importing typing costs every client start ~3 ms
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

SIGNATURE_SIZE = 64


class Signer:
    """Seals payloads with one signing key."""

    __slots__ = ("_key", "public_key")

    def __init__(self, signing_key) -> None:
        # PyNaCl's SigningKey or ours: both encode to the seed.
        self._key = SigningKey.from_any(signing_key)
        self.public_key: str = self._key.verify_key.encode().hex()

    def seal(
        self,
        type: str,
        id: str,
        *,
        seq: int | None = None,
        method: str | None = None,
        params: dict | None = None,
        data: Any = None,
        now_ms: int | None = None,
    ) -> bytes:
        """Return a frame body: signature + compact JSON payload."""
        fields: dict[str, Any] = {
            "v": PROTOCOL_VERSION,
            "type": type,
            "id": id,
            "ts": int(time.time() * 1000) if now_ms is None else now_ms,
            # os.urandom is what secrets.token_hex uses, without importing secrets.
            "nonce": os.urandom(16).hex(),
            "key": self.public_key,
        }
        if seq is not None:
            fields["seq"] = seq
        if method is not None:
            fields["method"] = method
        if params is not None:
            fields["params"] = params
        if data is not None:
            fields["data"] = data
        payload = dump_payload(fields)
        return self._key.sign_detached(payload) + payload


class Verifier:
    """Opens frame bodies from one peer (one verifier per connection).

    The first frame may be signed by any key ``keys()`` yields; that key is
    then pinned for the rest of the connection. ``keys()`` is consulted again
    on every frame, so revoking a key cuts off connections already open.

    Each verifier owns a replay cache unless ``replay`` is given. A cache per
    connection cannot see a frame captured on one connection and replayed on a
    new one within the window; a daemon closes that hole by passing one shared
    ``ReplayCache`` to the verifiers of all its connections.
    """

    __slots__ = ("_keys", "_limits", "_clock", "_replay", "_verify_keys", "peer_key")

    def __init__(
        self,
        keys: Callable[[], Iterable[str]],
        *,
        limits: Limits = DEFAULT_LIMITS,
        clock: Callable[[], float] = time.time,
        replay: ReplayCache | None = None,
    ) -> None:
        self._keys = keys
        self._limits = limits
        self._clock = clock
        if replay is None:
            replay = ReplayCache(limits.ts_window_ms, limits.replay_cache_max)
        self._replay = replay
        self._verify_keys: dict[str, VerifyKey | None] = {}
        self.peer_key: str | None = None

    def _verify_key(self, hex_key: str) -> VerifyKey | None:
        try:
            return self._verify_keys[hex_key]
        except KeyError:
            pass
        try:
            vk: VerifyKey | None = VerifyKey(bytes.fromhex(hex_key))
        except (ValueError, TypeError):
            vk = None  # a malformed entry authorises nobody
        self._verify_keys[hex_key] = vk
        return vk

    def _verifies(self, hex_key: str, signature: bytes, payload: bytes) -> bool:
        vk = self._verify_key(hex_key)
        if vk is None:
            return False
        return vk.verify_detached(signature, payload)

    def open(self, body: bytes) -> Envelope:
        """Verify, then parse, then check freshness; raise a ``WireError`` on any failure."""
        if len(body) < SIGNATURE_SIZE:
            raise BadSignature(
                f"frame body of {len(body)} bytes is too short to hold a signature"
            )
        signature = body[:SIGNATURE_SIZE]
        payload = body[SIGNATURE_SIZE:]

        key = self.peer_key
        if key is None:
            for candidate in self._keys():
                if self._verifies(candidate, signature, payload):
                    key = candidate
                    break
            else:
                raise UnknownKey("frame not signed by an authorised key")
        else:
            if key not in self._keys():
                raise UnknownKey(f"key {key[:16]}… is no longer authorised (revoked)")
            if not self._verifies(key, signature, payload):
                raise BadSignature("frame signature does not verify with this connection's key")

        env = parse_envelope(payload, self._limits)
        if env.key != key:
            raise BadSignature("frame names a key other than the one that signed it")
        self._replay.check(env.nonce, env.ts, int(self._clock() * 1000))
        # Pinned only now: a verified signature on a stale or replayed frame
        # proves nothing about who is on the other end.
        self.peer_key = key
        return env
