"""The exchange path's primitives (kojin.core.crypto): signatures, answer boxes, canonical JSON."""

from __future__ import annotations

import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from kojin.core.crypto import (
    AnswerBox,
    SigningKey,
    canonical_json,
    verify_ed25519,
)
from kojin.core.errors import KojinError

flat_values = st.one_of(
    st.text(),
    st.integers(),
    st.booleans(),
    st.none(),
    st.integers(min_value=2**63 - 3, max_value=2**80),
    st.integers(min_value=-(2**80), max_value=-(2**63) + 3),
)


def _reference(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _same_bytes_as_json(message: dict[str, object]) -> None:
    try:
        expected = _reference(message)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            canonical_json(message)
        return
    assert canonical_json(message) == expected


@given(st.dictionaries(st.text(), flat_values, max_size=12))
def test_canonical_json_of_flat_messages_is_jsons_byte_for_byte(message: dict[str, object]) -> None:
    # Flat messages take the fast path; the bytes must not change by it.
    _same_bytes_as_json(message)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_canonical_json_of_anything_else_is_jsons(value: object) -> None:
    try:
        expected = _reference(value)
    except UnicodeEncodeError:
        return
    assert canonical_json(value) == expected
    assert canonical_json({"x": value, "y": 1.0e16}) == _reference({"x": value, "y": 1.0e16})
    assert canonical_json({2: "a", 10: None}) == _reference({2: "a", 10: None})  # json coerces the keys


batch_messages = st.dictionaries(
    st.text(max_size=8),
    st.one_of(
        flat_values,
        st.lists(st.dictionaries(st.text(max_size=8), flat_values, max_size=6), max_size=5),
        st.lists(json_values, max_size=3),
    ),
    max_size=5,
)


@given(batch_messages)
def test_canonical_json_of_batches_is_jsons_byte_for_byte(message: dict[str, object]) -> None:
    # A message holding a list of messages is written member by member: the bytes must not change by it.
    _same_bytes_as_json(message)


def test_signatures_are_plain_ed25519_either_way() -> None:
    # Keys stored before (raw seeds written by `cryptography`) sign the same bytes.
    theirs = Ed25519PrivateKey.generate()
    ours = SigningKey(
        theirs.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    )
    message = b"kojin exchange request"
    assert ours.sign(message) == theirs.sign(message)
    public = Ed25519PublicKey.from_public_bytes(ours.public_raw)
    public.verify(ours.sign(message), message)
    with pytest.raises(InvalidSignature):
        public.verify(ours.sign(message), message + b"!")
    assert verify_ed25519(ours.public_raw, theirs.sign(message), message)


def test_verification_refuses_what_does_not_verify() -> None:
    key = SigningKey.generate()
    message = b"m"
    good = key.sign(message)
    assert verify_ed25519(key.public_raw, good, message)
    tampered = bytes([good[0] ^ 1]) + good[1:]
    for public, signature, data in (
        (key.public_raw, good, b"other"),
        (key.public_raw, tampered, message),
        (SigningKey.generate().public_raw, good, message),
        (key.public_raw[:31], good, message),  # malformed lengths never reach libsodium
        (key.public_raw, good[:63], message),
        (key.public_raw + b"\0", good, message),
    ):
        assert not verify_ed25519(public, signature, data)
    with pytest.raises(ValueError):
        SigningKey(b"short")


def test_answer_boxes_open_only_for_the_pair_the_direction_and_the_request() -> None:
    a, b, c = (AnswerBox(X25519PrivateKey.generate()) for _ in range(3))
    sealed = a.seal_to(b.public_raw, b"payload", b"req-1")
    assert b.open_from(a.public_raw, sealed, b"req-1") == b"payload"
    assert a.seal_to(b.public_raw, b"payload", b"req-1") != sealed  # fresh nonce each time
    for box, peer, ad in (
        (c, a.public_raw, b"req-1"),  # a third agency
        (b, c.public_raw, b"req-1"),  # claimed to come from someone else
        (a, b.public_raw, b"req-1"),  # the sender cannot open its own box as received
        (b, a.public_raw, b"req-2"),  # replayed for another request
    ):
        with pytest.raises(KojinError) as err:
            box.open_from(peer, sealed, ad)
        assert err.value.code == "crypto.sealed_tampered"
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(KojinError):
        b.open_from(a.public_raw, flipped, b"req-1")
    with pytest.raises(KojinError) as err:
        a.seal_to(b"\0" * 31, b"x", b"r")
    assert err.value.code == "crypto.bad_box_key"
    with pytest.raises(KojinError) as err:
        a.seal_to(b"\0" * 32, b"x", b"r")  # a low-order point shares nothing
    assert err.value.code == "crypto.bad_box_key"
