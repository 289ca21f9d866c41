"""HTTP API of the exchange log (やりとり履歴ログの公開API).

Read-only, and meant to be public: tree heads, proofs and bundles reveal only
hashes and, in a bundle, the one record it is about. Appending is not offered
here; only the hub appends, in-process.

Hashes and signatures are standard base64, as in :mod:`kojin.audit.tree_head`
and :mod:`kojin.audit.verify`, so a response can be pasted into a bundle.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter
from fastapi.responses import Response

from kojin.audit import reasons
from kojin.audit.service import ExchangeLog
from kojin.core.errors import KojinError
from kojin.web.openapi import binary_answer
from kojin.web.params import LogIndex

T = TypeVar("T")
PEM_TYPE = "application/x-pem-file"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _with_fields(action: Callable[[], T], fields: dict[str, str]) -> T:
    """Run ``action``, renaming the service's field names to the query's."""
    try:
        return action()
    except KojinError as exc:
        if exc.field in fields:
            exc.field = fields[exc.field]
        raise


def make_router(log: ExchangeLog) -> APIRouter:
    router = APIRouter(prefix="/audit", tags=["audit 改ざん検知ログ"])

    @router.get("/sth")
    def latest_tree_head() -> dict[str, object]:
        """The latest signed tree head (最新の署名付きツリーヘッド)."""
        sth = log.latest_tree_head()
        if sth is None:
            raise reasons.NO_TREE_HEAD.error()
        return sth.to_dict()

    @router.get("/sth/{size}")
    def tree_head(size: LogIndex) -> dict[str, object]:
        """The signed tree head of exactly ``size`` leaves, if one was signed."""
        return _with_fields(lambda: log.tree_head(size), {"tree_size": "size"}).to_dict()

    @router.get("/proof/inclusion")
    def inclusion_proof(index: LogIndex, tree_size: LogIndex | None = None) -> dict[str, object]:
        """RFC 9162 audit path of leaf ``index`` (default: in the whole committed log)."""
        size = log.size() if tree_size is None else tree_size
        proof = log.inclusion_proof(index, size)
        return {
            "leaf_index": index,
            "tree_size": size,
            "leaf_hash": _b64(log.leaf_hash(index)),
            "inclusion_proof": [_b64(h) for h in proof],
        }

    @router.get("/proof/consistency")
    def consistency_proof(first: LogIndex, second: LogIndex | None = None) -> dict[str, object]:
        """RFC 9162 proof that the log of ``second`` leaves extends that of ``first``."""
        size2 = log.size() if second is None else second
        proof = _with_fields(lambda: log.consistency_proof(first, size2), {"size1": "first", "size2": "second"})
        return {"first": first, "second": size2, "consistency_proof": [_b64(h) for h in proof]}

    @router.get("/bundle/{index}")
    def proof_bundle(
        index: LogIndex, tree_size: LogIndex | None = None, consistency_from: LogIndex | None = None
    ) -> dict[str, object]:
        """A proof bundle for ``kojin audit verify`` (証跡): record, head and proofs.

        Without ``tree_size`` the latest head is used, and one is signed first
        if no head covers the record yet (at most one per log size).
        """
        return log.proof_bundle(index, tree_size, consistency_from=consistency_from)

    @router.get("/key", response_class=Response, responses=binary_answer(PEM_TYPE, "ログの公開鍵 (PEM)"))
    def public_key() -> Response:
        """The log's Ed25519 public key (PEM); its key id is in ``X-Kojin-Key-Id``."""
        return Response(
            log.public_key_pem(),
            media_type=PEM_TYPE,
            headers={"X-Kojin-Key-Id": log.key_id},
        )

    return router
