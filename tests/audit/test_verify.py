"""Proof bundles: a full round trip, every failure reason, and fuzzed input."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kojin.audit.merkle import MerkleTree, hash_leaf
from kojin.audit.tree_head import (
    SignedTreeHead,
    key_id,
    public_key_to_pem,
    sign_tree_head,
)
from kojin.audit.verify import (
    BUNDLE_FORMAT,
    VerificationResult,
    build_bundle,
    verify_bundle,
    verify_bundle_json,
)
from kojin.core.errors import InvalidInput
from kojin.core.i18n import language

KEY = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
PUB = KEY.public_key()
OTHER = Ed25519PrivateKey.from_private_bytes(b"\x08" * 32)
LOG_ID = "kojin-exchange-log"
RECORDS = [f'{{"exchange":{i},"kind":"提供"}}'.encode() for i in range(37)]


@pytest.fixture(scope="module")
def tree() -> MerkleTree:
    t = MerkleTree()
    for record in RECORDS:
        t.append_data(record)
    return t


def head(tree: MerkleTree, size: int, key: Ed25519PrivateKey = KEY, log_id: str = LOG_ID) -> SignedTreeHead:
    return sign_tree_head(key, size, tree.root(size), log_id, 1_700_000_000_000 + size)


def bundle_for(tree: MerkleTree, index: int = 12, size: int = 30, *, old: int | None = None) -> dict[str, Any]:
    sth = head(tree, size)
    extra: dict[str, Any] = {}
    if old is not None:
        extra = {
            "first_tree_head": head(tree, old),
            "consistency_proof": tree.consistency_proof(old, size),
        }
    return build_bundle(
        public_key=PUB,
        tree_head=sth,
        leaf_index=index,
        inclusion_proof=tree.inclusion_proof(index, size),
        leaf_data=RECORDS[index],
        **extra,
    )


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def flip_b64(value: str, position: int = 0) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[position] ^= 0x01
    return b64(bytes(raw))


def reasons(result: VerificationResult) -> list[str]:
    return result.reasons


# ---------------------------------------------------------------------------
# Passing bundles


def test_valid_bundle_passes(tree: MerkleTree) -> None:
    bundle = bundle_for(tree)
    result = verify_bundle(bundle)
    assert result.ok, result
    assert [c.name for c in result.checks] == ["tree_head.signature", "inclusion_proof"]
    assert result.key_id == key_id(PUB)
    assert not result.key_pinned
    assert (result.tree_size, result.leaf_index) == (30, 12)
    assert result.leaf_hash == hash_leaf(RECORDS[12])
    summary = result.as_dict()
    assert summary["ok"] is True
    json.dumps(summary)  # the CLI's --json output must serialise


def test_every_leaf_of_every_size_passes(tree: MerkleTree) -> None:
    for size in range(1, len(RECORDS) + 1, 3):
        for index in range(size):
            assert verify_bundle(bundle_for(tree, index, size)).ok, (index, size)


def test_json_text_round_trip_and_pem_key(tree: MerkleTree) -> None:
    bundle = bundle_for(tree, old=9)
    bundle["log_public_key"] = public_key_to_pem(PUB)
    text = json.dumps(bundle, ensure_ascii=False, indent=2)
    assert verify_bundle_json(text).ok
    assert verify_bundle_json(text.encode("utf-8")).ok


def test_leaf_hash_only_and_both(tree: MerkleTree) -> None:
    bundle = bundle_for(tree)
    data = bundle.pop("leaf_data")
    bundle["leaf_hash"] = b64(hash_leaf(RECORDS[12]))
    assert verify_bundle(bundle).ok
    bundle["leaf_data"] = data
    assert verify_bundle(bundle).ok


def test_pinned_key(tree: MerkleTree) -> None:
    bundle = bundle_for(tree)
    pinned = verify_bundle(bundle, trusted_public_key=PUB)
    assert pinned.ok and pinned.key_pinned
    assert pinned.checks[0].name == "public_key"
    wrong = verify_bundle(bundle, trusted_public_key=OTHER.public_key())
    assert not wrong.ok
    assert reasons(wrong) == ["untrusted_key"]


def test_consistency_passes_with_implicit_and_explicit_second_head(tree: MerkleTree) -> None:
    for old in (1, 7, 8, 29, 30):
        result = verify_bundle(bundle_for(tree, old=old))
        assert result.ok, (old, result)
        assert "consistency_proof" in [c.name for c in result.checks]
    bundle = bundle_for(tree, index=3, size=10)
    bundle["consistency"] = {
        "first_tree_head": head(tree, 10).to_dict(),
        "second_tree_head": head(tree, 37).to_dict(),
        "proof": [b64(h) for h in tree.consistency_proof(10, 37)],
    }
    result = verify_bundle(bundle)
    assert result.ok, result
    assert "consistency.second_tree_head.signature" in [c.name for c in result.checks]


def test_messages_follow_language(tree: MerkleTree) -> None:
    result = verify_bundle(bundle_for(tree))
    with language("ja"):
        assert "葉番号12" in result.checks[-1].message
    with language("en"):
        assert "leaf 12" in result.checks[-1].message


# ---------------------------------------------------------------------------
# Each failure reason


def test_bad_signature(tree: MerkleTree) -> None:
    bundle = bundle_for(tree)
    bundle["tree_head"]["signature"] = flip_b64(bundle["tree_head"]["signature"], 10)
    result = verify_bundle(bundle)
    assert not result.ok
    assert reasons(result) == ["bad_signature"]
    assert result.checks[0].field == "tree_head.signature"


def test_signature_from_another_key(tree: MerkleTree) -> None:
    bundle = bundle_for(tree)
    bundle["tree_head"] = head(tree, 30, key=OTHER).to_dict()
    assert reasons(verify_bundle(bundle)) == ["bad_signature"]


def test_changed_tree_size_is_caught_by_the_signature(tree: MerkleTree) -> None:
    # The audit path alone may fit several sizes; the signed head pins one.
    bundle = bundle_for(tree, index=0, size=3)
    bundle["tree_head"]["tree_size"] = 4
    assert "bad_signature" in reasons(verify_bundle(bundle))


def test_forged_root_fails_both_ways(tree: MerkleTree) -> None:
    bundle = bundle_for(tree)
    bundle["tree_head"]["root_hash"] = flip_b64(bundle["tree_head"]["root_hash"], 31)
    assert reasons(verify_bundle(bundle)) == ["bad_signature", "bad_inclusion_proof"]


@pytest.mark.parametrize("position", [0, 7, 31])
def test_tampered_leaf_data(tree: MerkleTree, position: int) -> None:
    bundle = bundle_for(tree)
    data = bytearray(RECORDS[12])
    data[position % len(data)] ^= 0x20
    bundle["leaf_data"] = b64(bytes(data))
    assert reasons(verify_bundle(bundle)) == ["bad_inclusion_proof"]


def test_tampered_proof_element(tree: MerkleTree) -> None:
    bundle = bundle_for(tree)
    for k in range(len(bundle["inclusion_proof"])):
        tampered = copy.deepcopy(bundle)
        tampered["inclusion_proof"][k] = flip_b64(tampered["inclusion_proof"][k], k)
        assert reasons(verify_bundle(tampered)) == ["bad_inclusion_proof"]
    shortened = copy.deepcopy(bundle)
    shortened["inclusion_proof"].pop()
    assert reasons(verify_bundle(shortened)) == ["bad_inclusion_proof"]


def test_wrong_index_and_index_beyond_tree(tree: MerkleTree) -> None:
    bundle = bundle_for(tree)
    bundle["leaf_index"] = 13
    assert reasons(verify_bundle(bundle)) == ["bad_inclusion_proof"]
    bundle["leaf_index"] = 30
    assert reasons(verify_bundle(bundle)) == ["bad_inclusion_proof"]


def test_leaf_hash_mismatch(tree: MerkleTree) -> None:
    bundle = bundle_for(tree)
    bundle["leaf_hash"] = b64(hash_leaf(RECORDS[13]))
    result = verify_bundle(bundle)
    assert reasons(result) == ["leaf_hash_mismatch"]
    # The proof is checked against the hash of the data, never the claimed hash.
    assert result.leaf_hash == hash_leaf(RECORDS[12])


def test_bad_consistency_proof(tree: MerkleTree) -> None:
    bundle = bundle_for(tree, old=11)
    proof = bundle["consistency"]["proof"]
    for k in range(len(proof)):
        tampered = copy.deepcopy(bundle)
        tampered["consistency"]["proof"][k] = flip_b64(proof[k], 3)
        assert reasons(verify_bundle(tampered)) == ["bad_consistency_proof"]
    rewound = copy.deepcopy(bundle)
    rewound["consistency"]["first_tree_head"] = head(tree, 31).to_dict()
    assert reasons(verify_bundle(rewound)) == ["bad_consistency_proof"]


def test_rewritten_history_fails_consistency(tree: MerkleTree) -> None:
    forged_records = list(RECORDS)
    forged_records[4] = b'{"exchange":4,"kind":"\\u6539\\u3056\\u3093"}'
    forged = MerkleTree()
    for record in forged_records:
        forged.append_data(record)
    honest_old = head(tree, 10)
    forged_new = sign_tree_head(KEY, 30, forged.root(30), LOG_ID, 1_800_000_000_000)
    bundle = build_bundle(
        public_key=PUB,
        tree_head=forged_new,
        leaf_index=20,
        inclusion_proof=forged.inclusion_proof(20, 30),
        leaf_data=forged_records[20],
        first_tree_head=honest_old,
        consistency_proof=forged.consistency_proof(10, 30),
    )
    # Inclusion in the forged tree is fine; linking it to what was signed before is not.
    assert reasons(verify_bundle(bundle)) == ["bad_consistency_proof"]


def test_consistency_heads_must_be_signed_and_name_the_same_log(tree: MerkleTree) -> None:
    bundle = bundle_for(tree, old=11)
    other_key = copy.deepcopy(bundle)
    other_key["consistency"]["first_tree_head"] = head(tree, 11, key=OTHER).to_dict()
    result = verify_bundle(other_key)
    assert reasons(result) == ["bad_signature"]
    assert result.checks[-2].field == "consistency.first_tree_head.signature"
    other_log = copy.deepcopy(bundle)
    other_log["consistency"]["first_tree_head"] = head(tree, 11, log_id="another-log").to_dict()
    assert reasons(verify_bundle(other_log)) == ["log_id_mismatch"]


# ---------------------------------------------------------------------------
# Malformed input: a result naming the field, never an exception


def _set(path: list[str | int], value: object) -> Any:
    def mutate(bundle: dict[str, Any]) -> None:
        target: Any = bundle
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _drop(path: list[str]) -> Any:
    def mutate(bundle: dict[str, Any]) -> None:
        target: Any = bundle
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _drop_leaf(bundle: dict[str, Any]) -> None:
    del bundle["leaf_data"], bundle["leaf_hash"]


MALFORMED_CASES = [
    (_drop(["format"]), "format"),
    (_set(["format"], "kojin-audit-proof-bundle/2"), "format"),
    (_drop(["log_public_key"]), "log_public_key"),
    (_set(["log_public_key"], "AAAA"), "log_public_key"),
    (_set(["log_public_key"], {"pem": "x"}), "log_public_key"),
    (_drop_leaf, "leaf_data"),
    (_set(["leaf_data"], "%%%"), "leaf_data"),
    (_set(["leaf_data"], None), "leaf_data"),
    (_set(["leaf_hash"], b64(b"short")), "leaf_hash"),
    (_drop(["leaf_index"]), "leaf_index"),
    (_set(["leaf_index"], -1), "leaf_index"),
    (_set(["leaf_index"], True), "leaf_index"),
    (_set(["leaf_index"], "12"), "leaf_index"),
    (_set(["leaf_index"], 12.0), "leaf_index"),
    (_set(["leaf_index"], 1 << 64), "leaf_index"),
    (_drop(["tree_head"]), "tree_head"),
    (_set(["tree_head"], []), "tree_head"),
    (_drop(["tree_head", "root_hash"]), "tree_head.root_hash"),
    (_set(["tree_head", "root_hash"], b64(b"x" * 33)), "tree_head.root_hash"),
    (_set(["tree_head", "signature"], "!!"), "tree_head.signature"),
    (_set(["tree_head", "tree_size"], -5), "tree_head.tree_size"),
    (_set(["tree_head", "note"], "unsigned"), "tree_head.note"),
    (_drop(["inclusion_proof"]), "inclusion_proof"),
    (_set(["inclusion_proof"], "AAAA"), "inclusion_proof"),
    (_set(["inclusion_proof", 2], b64(b"x" * 31)), "inclusion_proof[2]"),
    (_set(["inclusion_proof", 0], 5), "inclusion_proof[0]"),
    (_set(["inclusion_proof"], [b64(b"x" * 32)] * 129), "inclusion_proof"),
    (_set(["extra"], 1), "extra"),
    (_set(["consistency"], []), "consistency"),
    (_drop(["consistency", "proof"]), "consistency.proof"),
    (_drop(["consistency", "first_tree_head"]), "consistency.first_tree_head"),
    (_set(["consistency", "proof", 0], "?"), "consistency.proof[0]"),
    (_set(["consistency", "first_tree_head", "log_id"], ""), "consistency.first_tree_head.log_id"),
    (_set(["consistency", "second_tree_head"], 3), "consistency.second_tree_head"),
    (_set(["consistency", "third"], {}), "consistency.third"),
]


@pytest.mark.parametrize(("mutate", "field"), MALFORMED_CASES)
def test_malformed_field_is_named(tree: MerkleTree, mutate: Any, field: str) -> None:
    bundle = bundle_for(tree, old=9)
    bundle["leaf_hash"] = b64(hash_leaf(RECORDS[12]))
    mutate(bundle)
    result = verify_bundle(bundle)
    assert not result.ok
    assert reasons(result) == ["malformed"]
    assert result.checks[0].field == field, result.checks[0]
    assert field in result.checks[0].message_en and result.checks[0].message_ja


@pytest.mark.parametrize("value", [None, [], "bundle", 3, {}, {1: 2}, {"format": BUNDLE_FORMAT}, b"{}"])
def test_non_bundles_are_malformed(value: object) -> None:
    result = verify_bundle(value)
    assert not result.ok and reasons(result) == ["malformed"]


@pytest.mark.parametrize("text", ["", "{", "[1,", "\ufeff{}", "[" * 50_000, b"\xff\xfe"])
def test_invalid_json_text_is_malformed(text: str | bytes) -> None:
    result = verify_bundle_json(text)
    assert not result.ok and reasons(result) == ["malformed"]


def test_build_bundle_refuses_incomplete_input(tree: MerkleTree) -> None:
    sth = head(tree, 5)
    with pytest.raises(InvalidInput):
        build_bundle(public_key=PUB, tree_head=sth, leaf_index=0, inclusion_proof=[])
    with pytest.raises(InvalidInput):
        build_bundle(
            public_key=PUB,
            tree_head=sth,
            leaf_index=0,
            inclusion_proof=[],
            leaf_data=b"x",
            first_tree_head=sth,
        )


# ---------------------------------------------------------------------------
# Fuzzing: arbitrary JSON, and valid bundles with one value replaced

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_fuzz_arbitrary_json_never_raises(value: object) -> None:
    result = verify_bundle(value)
    assert not result.ok
    assert reasons(result) == ["malformed"]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*prefix, i))
    return out


@pytest.fixture(scope="module")
def fuzz_base(tree: MerkleTree) -> dict[str, Any]:
    bundle = bundle_for(tree, old=9)
    bundle["leaf_hash"] = b64(hash_leaf(RECORDS[12]))
    return bundle


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_fuzz_one_value_replaced_never_passes(fuzz_base: dict[str, Any], data: st.DataObject) -> None:
    bundle = copy.deepcopy(fuzz_base)
    path = data.draw(st.sampled_from(_paths(bundle)))
    replacement = data.draw(json_values)
    target: Any = bundle
    for key in path[:-1]:
        target = target[key]
    original = target[path[-1]]
    target[path[-1]] = replacement
    result = verify_bundle(bundle)
    assert isinstance(result, VerificationResult)
    assert not result.ok or replacement == original
