"""chatthy's direct libsodium Ed25519 agrees with PyNaCl's, byte for byte."""

from __future__ import annotations

import nacl.signing
from hypothesis import given, strategies as st

from chatthy.wire.ed25519 import SigningKey, VerifyKey, verify


@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=2048))
def test_same_keys_and_signatures_as_pynacl(seed, message):
    ours, theirs = SigningKey(seed), nacl.signing.SigningKey(seed)
    assert ours.verify_key.encode() == theirs.verify_key.encode()
    assert ours.sign_detached(message) == theirs.sign(message).signature  # Ed25519 is deterministic
    theirs.verify_key.verify(message, ours.sign_detached(message))  # raises if bad
    assert verify(ours.verify_key.encode(), theirs.sign(message).signature, message)


@given(message=st.binary(min_size=1, max_size=512), flip=st.integers(min_value=0))
def test_any_flipped_bit_fails(message, flip):
    key = SigningKey.generate()
    sig = bytearray(key.sign_detached(message))
    data = bytearray(message)
    target = flip % (len(sig) + len(data))
    if target < len(sig):
        sig[target] ^= 1 << (flip % 8)
    else:
        data[target - len(sig)] ^= 1 << (flip % 8)
    assert not verify(key.verify_key.encode(), bytes(sig), bytes(data))


def test_wrong_sizes_are_refused_not_crashed():
    key = SigningKey.generate()
    assert not verify(key.verify_key.encode(), b"short", b"m")
    assert not verify(b"\0" * 5, key.sign_detached(b"m"), b"m")
    for bad in (b"", b"\0" * 31):
        try:
            SigningKey(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("short seed accepted")
    try:
        VerifyKey(b"\0" * 3)
    except ValueError:
        pass
    else:
        raise AssertionError("short public key accepted")
