"""The person's exchange history (やりとり履歴) with proofs anyone can check.

The exchange log is public metadata: each leaf names the requester, provider,
task, item and outcome, but the person only as a commitment
``HMAC(subject key, requester | request id)``. The hub gives the portal the
person's subject key (through J-LIS's link id, never the number).

The person's leaves are found through the log's person index
(``leaf_tags``): the hub writes a row for every leaf about a person, in the
same commit as the leaf, under a tag only the person's key yields
(:func:`kojin.hub.domain.subject_tag`). The portal looks the tag up — a few
milliseconds whatever the log's size — and still checks each leaf's
commitment against the key, so an index row can hide a leaf but never show
someone else's. Leaves logged before the index existed are indexed by
``kojin audit reindex``; there is no scan of the log here.

For one entry the portal hands out the log's proof bundle (RFC 9162 inclusion
proof and signed tree head, the format of :mod:`kojin.audit.verify`, which
``kojin audit verify PROOF.json`` checks) and shows, beside its own check of
that bundle against the log's key, that the leaf's commitment is the one
recomputed from the person's key: the record is in the log *and* about them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from kojin.audit.verify import Check, verify_bundle
from kojin.core.errors import KojinError, NotFound
from kojin.core.japan import JST
from kojin.hub.domain import LEAF_KIND, subject_commitment, subject_tag
from kojin.portal import reasons
from kojin.registry.domain import Resident

if TYPE_CHECKING:
    from kojin.audit.service import ExchangeLog
    from kojin.hub.service import HubService
    from kojin.numbering.service import NumberingService


@dataclass(frozen=True)
class ExchangeEntry:
    """One exchange about the person, as the log records it (情報提供等記録)."""

    leaf_index: int
    time: datetime | None
    provided_at: datetime | None
    requester: str
    requester_name: str
    provider: str
    provider_name: str
    task: str
    item: str
    outcome: str
    reason: str | None
    request_id: str

    @property
    def withheld(self) -> bool:
        return self.outcome == "withheld"

    @property
    def refused(self) -> bool:
        return self.outcome == "refused"

    def agencies(self) -> list[tuple[str, str]]:
        return [(self.requester, self.requester_name), (self.provider, self.provider_name)]

    def matches(
        self,
        *,
        item: str | None = None,
        agency: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> bool:
        if item and self.item != item:
            return False
        if agency and agency not in (self.requester, self.provider):
            return False
        day = self.time.astimezone(JST).date() if self.time else None
        if date_from and (day is None or day < date_from):
            return False
        return not (date_to and (day is None or day > date_to))

    def as_record(self) -> dict[str, object]:
        return {
            "leaf_index": self.leaf_index,
            "requested_at": self.time.isoformat() if self.time else None,
            "provided_at": self.provided_at.isoformat() if self.provided_at else None,
            "requester": self.requester,
            "requester_name": self.requester_name,
            "provider": self.provider,
            "provider_name": self.provider_name,
            "task": self.task,
            "item": self.item,
            "outcome": self.outcome,
            "reason": self.reason,
            "withheld": self.withheld,
            "refused": self.refused,
            "request_id": self.request_id,
        }


@dataclass(frozen=True)
class ProofView:
    """The portal's own check of one entry's proof, for the badge."""

    ok: bool
    checks: tuple[Check, ...]
    key_id: str | None
    tree_size: int | None
    subject: str


def _time(value: object, *, ms: bool = False) -> datetime | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return datetime.fromtimestamp(value / 1000 if ms else value, UTC)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def not_found() -> NotFound:
    # Another person's leaf and a leaf that does not exist look the same.
    return reasons.HISTORY_NOT_FOUND.error()


class ExchangeHistory:
    """Finds, shows and proves the exchanges about one person."""

    def __init__(self, exchange_log: Callable[[], ExchangeLog], hub: HubService, numbering: NumberingService) -> None:
        self._log = exchange_log
        self.hub = hub
        self.numbering = numbering

    def subject_key(self, person: Resident) -> bytes | None:
        """The person's key from the hub, or None when no agency has ever been given a code for them."""
        try:
            link_id = self.numbering.link_id_for_code(person.juminhyo_code)
            return self.hub.subject_key_for(link_id)
        except KojinError:
            return None

    @staticmethod
    def _mine(key: bytes, data: bytes) -> dict[str, Any] | None:
        """The leaf, if its commitment is the one ``key`` gives; None for anything else."""
        try:
            leaf = json.loads(data)
        except ValueError:
            return None
        if not isinstance(leaf, dict) or leaf.get("kojin") != LEAF_KIND:
            return None
        requester, request_id, subject = leaf.get("requester"), leaf.get("request_id"), leaf.get("subject")
        if not (isinstance(requester, str) and isinstance(request_id, str) and isinstance(subject, str)):
            return None
        return leaf if subject_commitment(key, requester, request_id) == subject else None

    def _name(self, agency_id: str) -> str:
        entry = self.hub.find_agency(agency_id) if agency_id else None
        return entry.name if entry is not None else (agency_id or "—")

    def _entry(self, index: int, leaf: dict[str, Any]) -> ExchangeEntry:
        requester, provider = _text(leaf.get("requester")), _text(leaf.get("provider"))
        return ExchangeEntry(
            leaf_index=index,
            time=_time(leaf.get("time")),
            provided_at=_time(leaf.get("provided_at"), ms=True),
            requester=requester,
            requester_name=self._name(requester),
            provider=provider,
            provider_name=self._name(provider),
            task=_text(leaf.get("task")),
            item=_text(leaf.get("item")),
            outcome=_text(leaf.get("outcome")),
            reason=leaf.get("reason") if isinstance(leaf.get("reason"), str) else None,
            request_id=_text(leaf.get("request_id")),
        )

    def entries(self, person: Resident) -> list[ExchangeEntry]:
        """Every exchange about ``person``, newest first."""
        key = self.subject_key(person)
        if key is None:
            return []
        log = self._log()
        data = log.leaves_data(log.tagged(subject_tag(key)))
        mine = ((i, self._mine(key, data[i])) for i in sorted(data, reverse=True))
        return [self._entry(i, leaf) for i, leaf in mine if leaf is not None]

    def _own_leaf(self, person: Resident, index: int, key: bytes | None = None) -> tuple[bytes, dict[str, Any]]:
        key = key or self.subject_key(person)
        log = self._log()
        if key is None or not log.is_tagged(subject_tag(key), index):
            raise not_found()
        leaf = self._mine(key, log.leaf_data(index))
        if leaf is None:
            raise not_found()
        return key, leaf

    def entry(self, person: Resident, index: int) -> ExchangeEntry:
        _key, leaf = self._own_leaf(person, index)
        return self._entry(index, leaf)

    def bundle(self, person: Resident, index: int) -> dict[str, object]:
        """The proof bundle of one of the person's entries (``kojin audit verify`` reads it)."""
        self._own_leaf(person, index)
        return self._log().proof_bundle(index)

    def bundle_json(self, person: Resident, index: int) -> str:
        return json.dumps(self.bundle(person, index), ensure_ascii=False, indent=2) + "\n"

    def verify_all(self, person: Resident, indices: list[int]) -> dict[int, ProofView]:
        """:meth:`verify` for several entries: the person's key asked for once, the index read once, and
        every bundle built against one tree head; an index that is not the person's is left out."""
        key = self.subject_key(person)
        if key is None or not indices:
            return {}
        log = self._log()
        mine = set(log.tagged(subject_tag(key))).intersection(indices)
        bundles = log.proof_bundles(sorted(mine))
        views = {i: self._check(key, bundle) for i, bundle in bundles.items()}
        return {i: views[i] for i in indices if i in views}

    def verify(self, person: Resident, index: int, *, key: bytes | None = None) -> ProofView:
        """Check the bundle against the log's own key, and that the leaf is about the person."""
        key, _data = self._own_leaf(person, index, key)
        return self._check(key, self._log().proof_bundle(index))

    def _check(self, key: bytes, bundle: dict[str, object]) -> ProofView:
        result = verify_bundle(bundle, trusted_public_key=self._log().public_key)
        raw = bundle.get("leaf_data")
        leaf = json.loads(base64.b64decode(raw)) if isinstance(raw, str) else {}
        expected = subject_commitment(key, _text(leaf.get("requester")), _text(leaf.get("request_id")))
        about_me = leaf.get("subject") == expected
        subject_check = Check(
            "subject",
            about_me,
            None if about_me else "subject_mismatch",
            None if about_me else "subject",
            "記録の本人確認用の値が、あなたの鍵から計算した値と一致します。"
            if about_me
            else "記録の本人確認用の値が、あなたの鍵から計算した値と一致しません。",
            "The leaf's subject commitment equals the one computed from your key."
            if about_me
            else "The leaf's subject commitment does not match your key.",
        )
        checks = (*result.checks, subject_check)
        return ProofView(result.ok and about_me, checks, result.key_id, result.tree_size, expected)
