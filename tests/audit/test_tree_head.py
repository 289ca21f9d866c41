"""Signed tree heads: canonical bytes, Ed25519 signatures, JSON, keys."""

from __future__ import annotations

import base64
import dataclasses
import json
import struct
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from kojin.audit.tree_head import (
    SIGNATURE_CONTEXT,
    SignedTreeHead,
    key_id,
    load_public_key,
    public_key_to_base64,
    public_key_to_pem,
    sign_tree_head,
    tree_head_signing_input,
    verify_tree_head,
)
from kojin.core.errors import InvalidInput

SEED = bytes(range(32))
KEY = Ed25519PrivateKey.from_private_bytes(SEED)
PUB = KEY.public_key()
ROOT8 = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
LOG_ID = "kojin-exchange-log"
STAMP = 1_700_000_000_000


def _sth() -> SignedTreeHead:
    return sign_tree_head(KEY, 8, ROOT8, LOG_ID, STAMP)


def test_signing_input_layout() -> None:
    expected = (
        b"kojin-sth-v1\x00"
        + struct.pack(">Q", 8)
        + struct.pack(">Q", STAMP)
        + ROOT8
        + bytes([len(LOG_ID)])
        + LOG_ID.encode()
    )
    assert tree_head_signing_input(8, ROOT8, STAMP, LOG_ID) == expected
    assert expected.startswith(SIGNATURE_CONTEXT)
    assert len(expected) == 62 + len(LOG_ID)
    # Multi-byte UTF-8 log ids are measured in bytes, not characters.
    ja = "やりとり履歴"
    assert tree_head_signing_input(0, ROOT8, 0, ja)[61] == len(ja.encode("utf-8"))


def test_known_answer_signature() -> None:
    # Ed25519 is deterministic: this pins the byte layout against silent drift,
    # which would invalidate every tree head already published.
    sth = _sth()
    assert sth.signature.hex() == (
        "378d805ffaabafb95bb04356f78ceba3cc1864f7a5fe97a8f16c08c091ca1a9c"
        "9a9b046880297a25209d132ac16f13ce82b94dd56acbf9ef8dfae60bb6069406"
    )
    assert public_key_to_base64(PUB) == "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
    assert key_id(PUB) == "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c"


def test_sign_and_verify() -> None:
    sth = _sth()
    assert (sth.tree_size, sth.root_hash, sth.timestamp_ms, sth.log_id) == (
        8,
        ROOT8,
        STAMP,
        LOG_ID,
    )
    assert verify_tree_head(PUB, sth)
    assert not verify_tree_head(Ed25519PrivateKey.generate().public_key(), sth)


def test_default_timestamp_is_now() -> None:
    before = time.time_ns() // 1_000_000
    sth = sign_tree_head(KEY, 0, ROOT8, LOG_ID)
    after = time.time_ns() // 1_000_000
    assert before <= sth.timestamp_ms <= after
    assert verify_tree_head(PUB, sth)


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": 9},
        {"tree_size": 7},
        {"root_hash": bytes([ROOT8[0] ^ 1]) + ROOT8[1:]},
        {"timestamp_ms": STAMP + 1},
        {"log_id": "kojin-exchange-log2"},
        {"log_id": "Kojin-exchange-log"},
    ],
)
def test_any_field_change_breaks_signature(change: dict[str, Any]) -> None:
    tampered = dataclasses.replace(_sth(), **change)
    assert not verify_tree_head(PUB, tampered)


def test_every_signature_bit_matters() -> None:
    sth = _sth()
    for position in range(64):
        for bit in (0, 5):
            sig = bytearray(sth.signature)
            sig[position] ^= 1 << bit
            assert not verify_tree_head(PUB, dataclasses.replace(sth, signature=bytes(sig)))


def test_verify_rejects_wrong_types() -> None:
    sth = _sth()
    # The wrong types on purpose: refused at run time, and mypy would refuse them too.
    assert not verify_tree_head(KEY, sth)  # type: ignore[arg-type]
    assert not verify_tree_head(PUB, sth.to_dict())  # type: ignore[arg-type]


def test_json_round_trip() -> None:
    sth = _sth()
    data = sth.to_dict()
    assert data == {
        "tree_size": 8,
        "timestamp_ms": STAMP,
        "log_id": LOG_ID,
        "root_hash": base64.b64encode(ROOT8).decode(),
        "signature": base64.b64encode(sth.signature).decode(),
    }
    assert SignedTreeHead.from_dict(data) == sth
    assert SignedTreeHead.from_json(sth.to_json()) == sth
    assert json.loads(sth.to_json()) == data


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("tree_size"), "tree_size"),
        (lambda d: d.pop("signature"), "signature"),
        (lambda d: d.update(extra=1), "extra"),
        (lambda d: d.update(tree_size=True), "tree_size"),
        (lambda d: d.update(tree_size=-1), "tree_size"),
        (lambda d: d.update(tree_size=1 << 64), "tree_size"),
        (lambda d: d.update(tree_size=8.0), "tree_size"),
        (lambda d: d.update(tree_size="8"), "tree_size"),
        (lambda d: d.update(timestamp_ms=None), "timestamp_ms"),
        (lambda d: d.update(log_id=""), "log_id"),
        (lambda d: d.update(log_id="x" * 256), "log_id"),
        (lambda d: d.update(log_id="\ud800"), "log_id"),
        (lambda d: d.update(log_id=7), "log_id"),
        (lambda d: d.update(root_hash="not base64!"), "root_hash"),
        (lambda d: d.update(root_hash=base64.b64encode(b"x" * 31).decode()), "root_hash"),
        (lambda d: d.update(root_hash=ROOT8.hex()), "root_hash"),
        (lambda d: d.update(signature=base64.b64encode(b"x" * 63).decode()), "signature"),
        (lambda d: d.update(signature="ａｂｃｄ"), "signature"),
        (lambda d: d.update(signature=["x"]), "signature"),
    ],
)
def test_from_dict_names_the_bad_field(mutate: object, field: str) -> None:
    data = _sth().to_dict()
    assert callable(mutate)
    mutate(data)
    with pytest.raises(InvalidInput) as err:
        SignedTreeHead.from_dict(data)
    assert err.value.code == "tree_head.malformed"
    assert err.value.field == field


@pytest.mark.parametrize("text", ["", "[]", "{", "null", '"x"', "[" * 100_000])
def test_from_json_rejects_non_objects(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        SignedTreeHead.from_json(text)
    assert err.value.field == "$"


def test_construction_validates() -> None:
    with pytest.raises(InvalidInput):
        SignedTreeHead(8, ROOT8[:31], STAMP, LOG_ID, bytes(64))
    with pytest.raises(InvalidInput):
        SignedTreeHead(8, ROOT8, STAMP, LOG_ID, bytes(63))
    with pytest.raises(InvalidInput):
        # A bytearray root on purpose: only bytes are accepted.
        SignedTreeHead(8, bytearray(ROOT8), STAMP, LOG_ID, bytes(64))  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        _sth().tree_size = 9  # type: ignore[misc]  # frozen: the point of the test


def test_sign_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidInput) as err:
        # A public key where the private key belongs, on purpose.
        sign_tree_head(PUB, 1, ROOT8, LOG_ID)  # type: ignore[arg-type]
    assert err.value.field == "private_key"
    with pytest.raises(InvalidInput) as err:
        sign_tree_head(KEY, -1, ROOT8, LOG_ID)
    assert err.value.field == "tree_size"
    with pytest.raises(InvalidInput) as err:
        sign_tree_head(KEY, 1, ROOT8, "")
    assert err.value.field == "log_id"


def test_public_key_loading() -> None:
    assert key_id(load_public_key(public_key_to_pem(PUB))) == key_id(PUB)
    assert key_id(load_public_key(public_key_to_base64(PUB))) == key_id(PUB)
    assert key_id(load_public_key("  " + public_key_to_pem(PUB) + "\n")) == key_id(PUB)
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    for bad in [
        ec_pem,
        "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n",
        base64.b64encode(b"x" * 31).decode(),
        "not base64!",
        "鍵",
        "",
        None,
        32,
    ]:
        with pytest.raises(InvalidInput) as err:
            load_public_key(bad, "log_public_key")
        assert err.value.code == "tree_head.bad_public_key"
        assert err.value.field == "log_public_key"


@settings(max_examples=100, deadline=None)
@given(
    tree_size=st.integers(0, (1 << 64) - 1),
    root=st.binary(min_size=32, max_size=32),
    stamp=st.integers(0, (1 << 64) - 1),
    log_id=st.text(st.characters(codec="utf-8"), min_size=1, max_size=60),
)
def test_property_round_trip_and_verify(tree_size: int, root: bytes, stamp: int, log_id: str) -> None:
    sth = sign_tree_head(KEY, tree_size, root, log_id, stamp)
    again = SignedTreeHead.from_json(sth.to_json())
    assert again == sth
    assert verify_tree_head(PUB, again)
    if tree_size > 0:
        assert not verify_tree_head(PUB, dataclasses.replace(again, tree_size=tree_size - 1))
