"""Stand-alone verification of exchange-log proof bundles (証跡検証).

A proof bundle lets anyone — the person whose record was exchanged, an
auditor, a court — check that a record is in the exchange log
(やりとり履歴の改ざん検知ログ) and, optionally, that the log only grew between two
signed tree heads, using nothing but this module, ``cryptography`` and the
log's public key.

Bundle format (JSON, version 1)
-------------------------------
::

    {
      "format": "kojin-audit-proof-bundle/1",
      "log_public_key": "<Ed25519 key: PEM SubjectPublicKeyInfo, or base64 of the raw 32 bytes>",
      "leaf_data": "<base64 of the exact bytes logged>",       # leaf_data and/or leaf_hash
      "leaf_hash": "<base64 of SHA-256(0x00 || leaf_data)>",
      "leaf_index": 41,                                        # 0-based
      "tree_head": { signed tree head, see kojin.audit.tree_head },
      "inclusion_proof": ["<base64 32-byte hash>", ...],       # RFC 9162 audit path, leaf upwards
      "consistency": {                                         # optional
        "first_tree_head": { signed tree head of the older size },
        "second_tree_head": { signed tree head of the newer size },  # optional, default tree_head
        "proof": ["<base64 32-byte hash>", ...]               # RFC 9162 §2.1.4 proof
      }
    }

(The ``#`` notes are explanations, not part of the JSON.) All binary values
are standard base64 with padding. At least one of ``leaf_data`` and
``leaf_hash`` is required; if both are present they must agree, and the proof
is always checked against the hash of ``leaf_data`` when it is given. Unknown
keys (at the top, in ``consistency`` and in tree heads) are rejected as
``malformed`` so that nothing unverified can sit in a bundle looking verified.

What a passing bundle proves
----------------------------
Only that the holder of the private key for ``log_public_key`` signed a tree
head that contains this leaf (and, with ``consistency``, that its two tree
heads lie on one append-only history). The key inside the bundle is whatever
the bundle's author put there: pass ``trusted_public_key`` (the key the log
operator publishes) to pin it, or compare :attr:`VerificationResult.key_id`
(hex SHA-256 of the raw 32-byte key) with the published fingerprint.

Checks and reasons
------------------
:func:`verify_bundle` never raises on bad input. It returns a
:class:`VerificationResult` whose ``checks`` each carry a ``reason`` when they
fail: ``malformed`` (with ``field`` naming the offending JSON path, e.g.
``tree_head.signature`` or ``inclusion_proof[3]``), ``untrusted_key``,
``bad_signature``, ``leaf_hash_mismatch``, ``bad_inclusion_proof``,
``log_id_mismatch``, ``bad_consistency_proof``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kojin.audit import reasons as audit_reasons
from kojin.audit.merkle import HASH_SIZE, hash_leaf, verify_consistency, verify_inclusion
from kojin.audit.tree_head import (
    SignedTreeHead,
    key_id,
    load_public_key,
    public_key_to_base64,
    verify_tree_head,
)
from kojin.core.errors import InvalidInput
from kojin.core.i18n import pick

__all__ = [
    "BUNDLE_FORMAT",
    "Check",
    "VerificationResult",
    "build_bundle",
    "verify_bundle",
    "verify_bundle_json",
]

BUNDLE_FORMAT: Final = "kojin-audit-proof-bundle/1"

_TOP_FIELDS: Final = frozenset(
    {
        "format",
        "log_public_key",
        "leaf_data",
        "leaf_hash",
        "leaf_index",
        "tree_head",
        "inclusion_proof",
        "consistency",
    }
)
_CONSISTENCY_FIELDS: Final = frozenset({"first_tree_head", "second_tree_head", "proof"})
# Well-formed RFC 9162 proofs for uint64 trees never exceed this; a longer
# list can only be an attempt to make the verifier do pointless work.
_MAX_PROOF_LENGTH: Final = 2 * 64


@dataclass(frozen=True, slots=True)
class Check:
    """One verification step and its outcome."""

    name: str
    ok: bool
    reason: str | None = None
    field: str | None = None
    message_ja: str = ""
    message_en: str = ""

    @property
    def message(self) -> str:
        return pick(self.message_ja, self.message_en)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ok": self.ok,
            "reason": self.reason,
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Outcome of :func:`verify_bundle`: ``ok`` only if every check passed."""

    ok: bool
    checks: tuple[Check, ...]
    key_id: str | None = None
    key_pinned: bool = False
    tree_size: int | None = None
    leaf_index: int | None = None
    leaf_hash: bytes | None = field(default=None, repr=False)

    @property
    def reasons(self) -> list[str]:
        """Reason codes of the failed checks, in check order."""
        return [c.reason for c in self.checks if not c.ok and c.reason is not None]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready summary, for the CLI's ``--json`` output."""
        return {
            "ok": self.ok,
            "key_id": self.key_id,
            "key_pinned": self.key_pinned,
            "tree_size": self.tree_size,
            "leaf_index": self.leaf_index,
            "leaf_hash": None if self.leaf_hash is None else self.leaf_hash.hex(),
            "checks": [c.as_dict() for c in self.checks],
        }


class _Malformed(Exception):
    def __init__(self, field: str, ja: str, en: str) -> None:
        super().__init__(field)
        self.field = field
        self.ja = ja
        self.en = en


def _malformed_result(err: _Malformed) -> VerificationResult:
    check = Check(
        "bundle",
        False,
        "malformed",
        err.field,
        f"証跡の{err.field}が不正です: {err.ja}",
        f"Bundle field {err.field} is malformed: {err.en}",
    )
    return VerificationResult(ok=False, checks=(check,))


# ---------------------------------------------------------------------------
# Parsing: every helper raises _Malformed naming the JSON path it rejected.


def _b64(value: object, where: str, size: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise _Malformed(where, "base64文字列ではありません。", "not a base64 string.")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise _Malformed(where, "base64として読めません。", "not valid base64.") from None
    if size is not None and len(raw) != size:
        raise _Malformed(where, f"{size}バイトではありません。", f"not {size} bytes.")
    return raw


def _hash_list(value: object, where: str) -> list[bytes]:
    if not isinstance(value, list):
        raise _Malformed(where, "配列ではありません。", "not an array.")
    if len(value) > _MAX_PROOF_LENGTH:
        raise _Malformed(where, "長すぎます。", f"longer than {_MAX_PROOF_LENGTH} hashes.")
    return [_b64(item, f"{where}[{i}]", HASH_SIZE) for i, item in enumerate(value)]


def _tree_head(value: object, where: str) -> SignedTreeHead:
    try:
        return SignedTreeHead.from_dict(value)
    except InvalidInput as err:
        inner = err.field or "$"
        path = where if inner == "$" else f"{where}.{inner}"
        raise _Malformed(path, err.message_ja, err.message_en) from None


def _object(value: object, where: str, allowed: frozenset[str]) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _Malformed(where, "オブジェクトではありません。", "not a JSON object.")
    for key in value:
        if key not in allowed:
            name = key if isinstance(key, str) else repr(key)
            path = name if where == "$" else f"{where}.{name}"
            raise _Malformed(path, "未知の項目です。", "unknown field.")
    return value


@dataclass(frozen=True, slots=True)
class _Bundle:
    public_key: Ed25519PublicKey
    leaf_data: bytes | None
    claimed_leaf_hash: bytes | None
    leaf_hash: bytes
    leaf_index: int
    tree_head: SignedTreeHead
    inclusion_proof: list[bytes]
    first: SignedTreeHead | None
    second: SignedTreeHead | None
    consistency_proof: list[bytes] | None


def _parse(bundle: object) -> _Bundle:
    top = _object(bundle, "$", _TOP_FIELDS)
    for required in ("format", "log_public_key", "leaf_index", "tree_head", "inclusion_proof"):
        if required not in top:
            raise _Malformed(required, "ありません。", "missing.")
    if top["format"] != BUNDLE_FORMAT:
        raise _Malformed("format", f"{BUNDLE_FORMAT}ではありません。", f"expected {BUNDLE_FORMAT!r}.")
    try:
        public_key = load_public_key(top["log_public_key"], "log_public_key")
    except InvalidInput as err:
        raise _Malformed("log_public_key", err.message_ja, err.message_en) from None

    leaf_data = _b64(top["leaf_data"], "leaf_data") if "leaf_data" in top else None
    claimed = _b64(top["leaf_hash"], "leaf_hash", HASH_SIZE) if "leaf_hash" in top else None
    # Hash the data ourselves: a claimed hash is only used when no data came.
    if leaf_data is not None:
        leaf_hash = hash_leaf(leaf_data)
    elif claimed is not None:
        leaf_hash = claimed
    else:
        raise _Malformed(
            "leaf_data",
            "leaf_dataもleaf_hashもありません。",
            "neither leaf_data nor leaf_hash given.",
        )

    index = top["leaf_index"]
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 1 << 64:
        raise _Malformed("leaf_index", "0以上2^64未満の整数ではありません。", "not an integer in [0, 2^64).")

    tree_head = _tree_head(top["tree_head"], "tree_head")
    inclusion = _hash_list(top["inclusion_proof"], "inclusion_proof")

    first = second = None
    consistency_proof = None
    if "consistency" in top:
        cons = _object(top["consistency"], "consistency", _CONSISTENCY_FIELDS)
        for required in ("first_tree_head", "proof"):
            if required not in cons:
                raise _Malformed(f"consistency.{required}", "ありません。", "missing.")
        first = _tree_head(cons["first_tree_head"], "consistency.first_tree_head")
        if "second_tree_head" in cons:
            second = _tree_head(cons["second_tree_head"], "consistency.second_tree_head")
        consistency_proof = _hash_list(cons["proof"], "consistency.proof")

    return _Bundle(
        public_key=public_key,
        leaf_data=leaf_data,
        claimed_leaf_hash=claimed,
        leaf_hash=leaf_hash,
        leaf_index=index,
        tree_head=tree_head,
        inclusion_proof=inclusion,
        first=first,
        second=second,
        consistency_proof=consistency_proof,
    )


# ---------------------------------------------------------------------------
# Verification


def _signature_check(name: str, key: Ed25519PublicKey, sth: SignedTreeHead) -> Check:
    if verify_tree_head(key, sth):
        return Check(name, True, None, None, "署名は正しいです。", "Signature is valid.")
    return Check(
        name,
        False,
        "bad_signature",
        name,
        "ツリーヘッドの署名が公開鍵と一致しません。",
        "The tree head signature does not verify under the log public key.",
    )


def verify_bundle(bundle: object, *, trusted_public_key: Ed25519PublicKey | None = None) -> VerificationResult:
    """Verify a decoded proof bundle (see module docstring); never raises.

    With ``trusted_public_key`` the bundle's key must be that key
    (``untrusted_key`` otherwise); without it the result's ``key_pinned`` is
    False and the caller should show ``key_id`` for an out-of-band comparison.
    """
    try:
        parsed = _parse(bundle)
    except _Malformed as err:
        return _malformed_result(err)

    key = parsed.public_key
    sth = parsed.tree_head
    checks: list[Check] = []
    if trusted_public_key is not None:
        checks.append(_key_check(key, trusted_public_key))
    checks.append(_signature_check("tree_head.signature", key, sth))
    mismatch = _leaf_hash_mismatch(parsed)
    if mismatch is not None:
        checks.append(mismatch)
    checks.append(_inclusion_check(parsed))
    if parsed.first is not None and parsed.consistency_proof is not None:
        checks.extend(_consistency_checks(key, sth, parsed.first, parsed.second, parsed.consistency_proof))

    return VerificationResult(
        ok=bool(checks) and all(c.ok for c in checks),
        checks=tuple(checks),
        key_id=key_id(key),
        key_pinned=trusted_public_key is not None,
        tree_size=sth.tree_size,
        leaf_index=parsed.leaf_index,
        leaf_hash=parsed.leaf_hash,
    )


def _key_check(key: Ed25519PublicKey, trusted: Ed25519PublicKey) -> Check:
    """The bundle's key is the one the caller trusts."""
    if isinstance(trusted, Ed25519PublicKey) and hmac.compare_digest(key_id(key), key_id(trusted)):
        return Check("public_key", True, None, None, "公開鍵は信頼済みの鍵です。", "Key is the trusted key.")
    return Check(
        "public_key",
        False,
        "untrusted_key",
        "log_public_key",
        "証跡の公開鍵が信頼済みの鍵と異なります。",
        "The bundle's public key is not the trusted log key.",
    )


def _leaf_hash_mismatch(parsed: _Bundle) -> Check | None:
    """A failed check if the bundle's leaf_hash is not its leaf_data's hash (None if both agree or one is absent)."""
    claimed = parsed.claimed_leaf_hash
    if parsed.leaf_data is None or claimed is None or hmac.compare_digest(parsed.leaf_hash, claimed):
        return None
    return Check(
        "leaf_hash",
        False,
        "leaf_hash_mismatch",
        "leaf_hash",
        "leaf_hashがleaf_dataのハッシュと一致しません。",
        "leaf_hash is not SHA-256(0x00 || leaf_data).",
    )


def _inclusion_check(parsed: _Bundle) -> Check:
    """The inclusion proof leads from the leaf to the tree head's root."""
    sth = parsed.tree_head
    index = parsed.leaf_index
    if verify_inclusion(parsed.leaf_hash, index, sth.tree_size, parsed.inclusion_proof, sth.root_hash):
        return Check(
            "inclusion_proof",
            True,
            None,
            None,
            f"記録は木のサイズ{sth.tree_size}の葉番号{index}(0始まり)にあります。",
            f"The record is leaf {index} of the tree of size {sth.tree_size}.",
        )
    return Check(
        "inclusion_proof",
        False,
        "bad_inclusion_proof",
        "inclusion_proof",
        "包含証明がツリーヘッドの根ハッシュに一致しません。",
        "The inclusion proof does not lead to the tree head's root hash.",
    )


def _consistency_checks(
    key: Ed25519PublicKey,
    sth: SignedTreeHead,
    first: SignedTreeHead,
    second: SignedTreeHead | None,
    proof: Sequence[bytes],
) -> list[Check]:
    checks = [_signature_check("consistency.first_tree_head.signature", key, first)]
    if second is None:
        second = sth
    else:
        checks.append(_signature_check("consistency.second_tree_head.signature", key, second))
    # Two heads with different log ids may both be signed by one key (a key
    # reused across logs); they still describe different trees.
    if first.log_id != sth.log_id or second.log_id != sth.log_id:
        checks.append(
            Check(
                "consistency.log_id",
                False,
                "log_id_mismatch",
                "consistency",
                "ツリーヘッドのlog_idが一致しません。",
                "The tree heads name different logs.",
            )
        )
    if verify_consistency(first.tree_size, second.tree_size, first.root_hash, second.root_hash, proof):
        checks.append(
            Check(
                "consistency_proof",
                True,
                None,
                None,
                f"木のサイズ{first.tree_size}から{second.tree_size}への追記のみが証明されました。",
                f"The log grew append-only from size {first.tree_size} to {second.tree_size}.",
            )
        )
    else:
        checks.append(
            Check(
                "consistency_proof",
                False,
                "bad_consistency_proof",
                "consistency.proof",
                "整合性証明が二つのツリーヘッドを結びません。",
                "The consistency proof does not link the two tree heads.",
            )
        )
    return checks


def verify_bundle_json(text: str | bytes, *, trusted_public_key: Ed25519PublicKey | None = None) -> VerificationResult:
    """Decode JSON text and verify it; invalid JSON is a ``malformed`` result."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return _malformed_result(_Malformed("$", "JSONとして読めません。", "not valid JSON."))
    return verify_bundle(data, trusted_public_key=trusted_public_key)


# ---------------------------------------------------------------------------
# Producing bundles (the log side)


def build_bundle(
    *,
    public_key: Ed25519PublicKey,
    tree_head: SignedTreeHead,
    leaf_index: int,
    inclusion_proof: Sequence[bytes],
    leaf_data: bytes | None = None,
    leaf_hash: bytes | None = None,
    first_tree_head: SignedTreeHead | None = None,
    second_tree_head: SignedTreeHead | None = None,
    consistency_proof: Sequence[bytes] | None = None,
) -> dict[str, object]:
    """Assemble a JSON-ready bundle in the format this module verifies.

    ``first_tree_head`` and ``consistency_proof`` go together; leave
    ``second_tree_head`` out when the proof ends at ``tree_head``.
    """
    if leaf_data is None and leaf_hash is None:
        raise audit_reasons.BUNDLE_MISSING_LEAF.error()
    if (first_tree_head is None) != (consistency_proof is None):
        raise audit_reasons.BUNDLE_CONSISTENCY_INCOMPLETE.error()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    bundle: dict[str, object] = {
        "format": BUNDLE_FORMAT,
        "log_public_key": public_key_to_base64(public_key),
        "leaf_index": leaf_index,
        "tree_head": tree_head.to_dict(),
        "inclusion_proof": [b64(h) for h in inclusion_proof],
    }
    if leaf_data is not None:
        bundle["leaf_data"] = b64(leaf_data)
    if leaf_hash is not None:
        bundle["leaf_hash"] = b64(leaf_hash)
    if first_tree_head is not None and consistency_proof is not None:
        consistency: dict[str, object] = {
            "first_tree_head": first_tree_head.to_dict(),
            "proof": [b64(h) for h in consistency_proof],
        }
        if second_tree_head is not None:
            consistency["second_tree_head"] = second_tree_head.to_dict()
        bundle["consistency"] = consistency
    return bundle
