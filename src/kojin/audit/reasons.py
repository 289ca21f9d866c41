"""Reason codes of audit: 交換記録ログ (the exchange log).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.

The error classes only these codes are raised as are defined here too, so that the
table needs nothing from the modules that raise them; those modules import them back.
"""

from __future__ import annotations

from typing import ClassVar

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound

TABLE = Table("audit", "交換記録ログ (the exchange log)", prefixes=("audit", "merkle", "tree_head"))


class CorruptNodeStore(KojinError):
    """A node store whose levels contradict each other (ノード格納域の不整合)."""

    status: ClassVar[int] = 500


class LogUnavailable(KojinError):
    """The log cannot take writes now (ログ書込み不可): closed, or its store failed."""

    status: ClassVar[int] = 503


BAD_CONSISTENCY_PROOF = TABLE.reason(
    "audit.bad_consistency_proof",
    KojinError,
    "検証失敗 ({check}): {detail_ja}",
    "Verification failed ({check}): {detail_en}",
)

BAD_INCLUSION_PROOF = TABLE.reason(
    "audit.bad_inclusion_proof",
    KojinError,
    "検証失敗 ({check}): {detail_ja}",
    "Verification failed ({check}): {detail_en}",
)

BAD_LEAF = TABLE.reason(
    "audit.bad_leaf",
    InvalidInput,
    "記録はbytesでなければなりません。",
    "A log entry must be bytes.",
    field="leaf_data",
)

BAD_LEAF_TAG = TABLE.reason(
    "audit.bad_leaf_tag",
    InvalidInput,
    "索引の行は記録ごとに（32バイトの識別子, 照会機関, 提供機関）でなければなりません。",
    "An index row must be (a 32-byte tag, requester, provider), one per log entry.",
    field="tags",
)

BAD_SIGNATURE = TABLE.reason(
    "audit.bad_signature",
    KojinError,
    "検証失敗 ({check}): {detail_ja}",
    "Verification failed ({check}): {detail_en}",
)

BUNDLE_CONSISTENCY_INCOMPLETE = TABLE.reason(
    "audit.bundle_consistency_incomplete",
    InvalidInput,
    "整合性証明には古いツリーヘッドと証明の両方が必要です。",
    "A consistency proof needs both first_tree_head and consistency_proof.",
    field="consistency_proof",
)

BUNDLE_MISSING_LEAF = TABLE.reason(
    "audit.bundle_missing_leaf",
    InvalidInput,
    "leaf_dataかleaf_hashが必要です。",
    "Either leaf_data or leaf_hash is required.",
    field="leaf_data",
)

FILE_TOO_LARGE = TABLE.reason(
    "audit.file_too_large",
    InvalidInput,
    "{what_ja}が大きすぎます: {path}",
    "The {what_en} {path} is too large.",
)

FILE_UNREADABLE = TABLE.reason(
    "audit.file_unreadable",
    InvalidInput,
    "{what_ja}を読めません: {path} ({reason})",
    "Cannot read the {what_en} {path}: {reason}",
)

LEAF_HASH_MISMATCH = TABLE.reason(
    "audit.leaf_hash_mismatch",
    KojinError,
    "検証失敗 ({check}): {detail_ja}",
    "Verification failed ({check}): {detail_en}",
)

LEAF_NOT_IN_TREE_HEAD = TABLE.reason(
    "audit.leaf_not_in_tree_head",
    InvalidInput,
    "葉番号{index}はサイズ{tree_size}の木に含まれません。",
    "Entry {index} is not in the tree of size {tree_size}.",
    field="index",
)

LEAF_TOO_LARGE = TABLE.reason(
    "audit.leaf_too_large",
    InvalidInput,
    "記録は{max_leaf_bytes}バイト以下でなければなりません。",
    "A log entry must be at most {max_leaf_bytes} bytes.",
    field="leaf_data",
)

LOG_CLOSED = TABLE.reason(
    "audit.log_closed",
    LogUnavailable,
    "ログは閉じられています。",
    "The exchange log is closed.",
)

LOG_ID_MISMATCH = TABLE.reason(
    "audit.log_id_mismatch",
    Conflict,
    "このログのIDは{stored_log_id}です。",
    "This log's id is {stored_log_id!r}, not {log_id!r}.",
    field="log_id",
)

MALFORMED = TABLE.reason(
    "audit.malformed",
    KojinError,
    "検証失敗 ({check}): {detail_ja}",
    "Verification failed ({check}): {detail_en}",
)

NO_SUCH_LEAF = TABLE.reason(
    "audit.no_such_leaf",
    NotFound,
    "葉番号{index}の記録はありません(ログのサイズは{committed})。",
    "There is no entry {index}; the log has {committed} entries.",
    field="index",
)

NO_SUCH_TREE_HEAD = TABLE.reason(
    "audit.no_such_tree_head",
    NotFound,
    "サイズ{tree_size}の署名付きツリーヘッドはありません。",
    "No tree head was signed at size {tree_size}.",
    field="tree_size",
)

NO_TREE_HEAD = TABLE.reason(
    "audit.no_tree_head",
    NotFound,
    "署名付きツリーヘッドはまだありません。",
    "No tree head has been signed yet.",
)

PROOF_LOG_ID_MISMATCH = TABLE.reason(
    "audit.proof_log_id_mismatch",
    KojinError,
    "検証失敗 ({check}): {detail_ja}",
    "Verification failed ({check}): {detail_en}",
)

STORE_BEHIND_TREE_HEAD = TABLE.reason(
    "audit.store_behind_tree_head",
    CorruptNodeStore,
    "ログの内容が署名済みツリーヘッド(サイズ{tree_size})と一致しません。",
    "The log store does not match its signed tree head of size {tree_size}.",
)

UNTRUSTED_KEY = TABLE.reason(
    "audit.untrusted_key",
    KojinError,
    "検証失敗 ({check}): {detail_ja}",
    "Verification failed ({check}): {detail_en}",
)

VERIFY_FAILED = TABLE.reason(
    "audit.verify_failed",
    KojinError,
    "検証失敗 ({check}): {detail_ja}",
    "Verification failed ({check}): {detail_en}",
)

WRITE_FAILED = TABLE.reason(
    "audit.write_failed",
    LogUnavailable,
    "ログへの書込みに失敗しました。記録されたかどうかは不明です。",
    "Writing to the exchange log failed; the entries may or may not have been recorded.",
)

MERKLE_BAD_LEAF_HASH = TABLE.reason(
    "merkle.bad_leaf_hash",
    InvalidInput,
    "葉ハッシュは32バイトのbytesでなければなりません。",
    "A leaf hash must be 32 bytes.",
    field="leaf_hash",
)

MERKLE_CORRUPT_STORE = TABLE.reason(
    "merkle.corrupt_store",
    CorruptNodeStore,
    "ログのレベル{level}のノードが不正です: {detail_ja}",
    "Exchange log level {level} is corrupt: {detail_en}",
)

MERKLE_INDEX_OUT_OF_RANGE = TABLE.reason(
    "merkle.index_out_of_range",
    InvalidInput,
    "葉の番号は0以上、木のサイズ{tree_size}未満の整数でなければなりません。",
    "A leaf index must be an integer at least 0 and less than the tree size {tree_size}.",
    field="index",
)

MERKLE_SIZE_ORDER = TABLE.reason(
    "merkle.size_order",
    InvalidInput,
    "古い木のサイズ{first}が新しい木のサイズ{second}を超えています。",
    "The older tree size ({first}) must not exceed the newer one ({second}).",
    field="size1",
)

MERKLE_SIZE_OUT_OF_RANGE = TABLE.reason(
    "merkle.size_out_of_range",
    InvalidInput,
    "木のサイズは0以上{limit}以下の整数でなければなりません。",
    "A tree size must be an integer from 0 to {limit}.",
    field="size1",
)

TREE_HEAD_BAD_KEY = TABLE.reason(
    "tree_head.bad_key",
    InvalidInput,
    "署名鍵はEd25519の秘密鍵でなければなりません。",
    "The signing key must be an Ed25519 private key.",
    field="private_key",
)

TREE_HEAD_BAD_PUBLIC_KEY = TABLE.reason(
    "tree_head.bad_public_key",
    InvalidInput,
    "Ed25519公開鍵(PEMまたは32バイトのbase64)として読めません。",
    "Not an Ed25519 public key (PEM, or base64 of the raw 32 bytes).",
    field="public_key",
)

TREE_HEAD_MALFORMED = TABLE.reason(
    "tree_head.malformed",
    InvalidInput,
    "ツリーヘッドの{field_name}が不正です: {what_ja}",
    "Tree head field {field_name} is invalid: {what_en}",
)

CHECK_FAILED = {
    "malformed": MALFORMED,
    "bad_signature": BAD_SIGNATURE,
    "untrusted_key": UNTRUSTED_KEY,
    "leaf_hash_mismatch": LEAF_HASH_MISMATCH,
    "bad_inclusion_proof": BAD_INCLUSION_PROOF,
    "bad_consistency_proof": BAD_CONSISTENCY_PROOF,
    "log_id_mismatch": PROOF_LOG_ID_MISMATCH,
}
