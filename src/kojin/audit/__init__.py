"""Tamper-evident exchange log (やりとり履歴の改ざん検知ログ).

Every exchange of specific personal information is recorded as a leaf of an
append-only RFC 9162 Merkle tree. The log signs its tree heads, so anyone holding
the log's public key can check that a record is included (``merkle``,
``tree_head``) and that the log has only ever grown (``verify``), without
trusting the operator.
"""
