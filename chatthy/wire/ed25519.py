"""Ed25519 straight from the libsodium that PyNaCl bundles.

``import nacl.signing`` loads every binding PyNaCl has (~16 ms), and a client
pays for every millisecond it imports; it needs three functions. This calls
the same compiled libsodium through ``nacl._sodium`` (~2 ms) and falls back to ``nacl.bindings`` if that private
module ever moves.

``SigningKey`` is API-compatible with what chatthy used of PyNaCl's:
``encode()`` (the 32-byte seed), ``verify_key.encode()`` and ``sign()``, so
keys made by either can be handed to ``Signer``.
"""

from __future__ import annotations

import os

SEED_SIZE = 32
PUBLIC_SIZE = 32
SIGNATURE_SIZE = 64

try:
    from nacl._sodium import ffi as _ffi, lib as _lib

    _lib.sodium_init()

    def _keypair(seed: bytes) -> tuple[bytes, bytes]:
        pk = _ffi.new("unsigned char[]", PUBLIC_SIZE)
        sk = _ffi.new("unsigned char[]", 64)
        if _lib.crypto_sign_seed_keypair(pk, sk, seed) != 0:
            raise ValueError("libsodium refused the seed")
        return bytes(_ffi.buffer(pk, PUBLIC_SIZE)), bytes(_ffi.buffer(sk, 64))

    # PyNaCl's build exposes only the combined-mode calls (signature + message).
    def _sign(secret: bytes, message: bytes) -> bytes:
        signed = _ffi.new("unsigned char[]", len(message) + SIGNATURE_SIZE)
        signed_len = _ffi.new("unsigned long long *")
        _lib.crypto_sign(signed, signed_len, message, len(message), secret)
        return bytes(_ffi.buffer(signed, SIGNATURE_SIZE))

    def verify(public: bytes, signature: bytes, message: bytes) -> bool:
        """True when ``signature`` is ``public``'s signature of ``message``."""
        if len(signature) != SIGNATURE_SIZE or len(public) != PUBLIC_SIZE:
            return False
        signed = signature + message
        out = _ffi.new("unsigned char[]", len(signed))
        out_len = _ffi.new("unsigned long long *")
        return _lib.crypto_sign_open(out, out_len, signed, len(signed), public) == 0

except ImportError:  # pragma: no cover - only if PyNaCl reorganises its internals
    from nacl import bindings as _b
    from nacl.exceptions import BadSignatureError as _Bad

    def _keypair(seed: bytes) -> tuple[bytes, bytes]:
        return _b.crypto_sign_seed_keypair(seed)

    def _sign(secret: bytes, message: bytes) -> bytes:
        return _b.crypto_sign(message, secret)[:SIGNATURE_SIZE]

    def verify(public: bytes, signature: bytes, message: bytes) -> bool:
        if len(signature) != SIGNATURE_SIZE or len(public) != PUBLIC_SIZE:
            return False
        try:
            _b.crypto_sign_open(signature + message, public)
            return True
        except _Bad:
            return False


class VerifyKey:
    __slots__ = ("_public",)

    def __init__(self, public: bytes) -> None:
        if len(public) != PUBLIC_SIZE:
            raise ValueError(f"an Ed25519 public key is {PUBLIC_SIZE} bytes, not {len(public)}")
        self._public = bytes(public)

    def encode(self) -> bytes:
        return self._public

    def verify_detached(self, signature: bytes, message: bytes) -> bool:
        return verify(self._public, signature, message)


class _Signed(bytes):
    """What ``sign`` returns: signature + message, with ``.signature`` (as PyNaCl's)."""

    @property
    def signature(self) -> bytes:
        return bytes(self[:SIGNATURE_SIZE])


class SigningKey:
    __slots__ = ("_seed", "_secret", "verify_key")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_SIZE:
            raise ValueError(f"an Ed25519 seed is {SEED_SIZE} bytes, not {len(seed)}")
        self._seed = bytes(seed)
        public, self._secret = _keypair(self._seed)
        self.verify_key = VerifyKey(public)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(os.urandom(SEED_SIZE))

    @classmethod
    def from_any(cls, key) -> SigningKey:
        """Accept ours or PyNaCl's (both encode to the seed)."""
        return key if isinstance(key, cls) else cls(key.encode())

    def encode(self) -> bytes:
        return self._seed

    def sign_detached(self, message: bytes) -> bytes:
        return _sign(self._secret, message)

    def sign(self, message: bytes) -> _Signed:
        return _Signed(_sign(self._secret, message) + message)
