"""An agency's own records, pure: copies, §23 log entries, exchange results.

No storage and no web here; the hub's wire formats are in :mod:`kojin.hub.domain`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from kojin.agency import reasons
from kojin.core.crypto import canonical_json
from kojin.hub.domain import ITEMS, Outcome

MAX_PAYLOAD_BYTES = 64 * 1024
"""A copy is one item of one person, not a document store."""


class Role(StrEnum):
    """Which side of an exchange an agency was on (照会者・提供者)."""

    REQUESTER = "requester"
    PROVIDER = "provider"


@dataclass(frozen=True, slots=True)
class CopyEntry:
    """A copy (副本) the intermediate server answers from: one item of one person."""

    code: str
    item: str
    payload: Any
    withheld: bool = False  # 不開示: the provider declines to provide it
    updated_at: datetime | None = None


def validate_item(item: object) -> str:
    if not isinstance(item, str) or item not in ITEMS:
        raise reasons.UNKNOWN_ITEM.error(items=", ".join(ITEMS))
    return item


def payload_json(payload: object) -> str:
    """The canonical JSON of a copy's payload, refused when it is not JSON or too large."""
    try:
        text = canonical_json(payload).decode()
    except (TypeError, ValueError):
        raise reasons.BAD_PAYLOAD.error() from None
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise reasons.PAYLOAD_TOO_LARGE.error(what_ja="副本", limit=MAX_PAYLOAD_BYTES, what_en="copy")
    return text


def load_payload(text: str) -> Any:
    return json.loads(text)


# A NamedTuple, as the hub's messages are (kojin.hub.domain): made twice per exchange.
class LogEntry(NamedTuple):
    """One §23 record (情報提供等の記録): both parties, both times, the item, withheld or not."""

    role: Role
    request_id: str
    code: str
    requester_id: str
    requester_name: str
    provider_id: str
    provider_name: str
    task: str
    item: str
    requested_at: datetime
    provided_at: datetime | None
    outcome: Outcome
    leaf_index: int | None = None

    @property
    def withheld(self) -> bool:
        return self.outcome is Outcome.WITHHELD

    def as_row(self, recorded_at: datetime) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "request_id": self.request_id,
            "code": self.code,
            "requester_id": self.requester_id,
            "requester_name": self.requester_name,
            "provider_id": self.provider_id,
            "provider_name": self.provider_name,
            "task": self.task,
            "item": self.item,
            "requested_at": self.requested_at,
            "provided_at": self.provided_at,
            "outcome": self.outcome.value,
            "withheld": self.withheld,
            "leaf_index": self.leaf_index,
            "recorded_at": recorded_at,
        }

    def as_record(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "request_id": self.request_id,
            "requester": self.requester_name,
            "provider": self.provider_name,
            "task": self.task,
            "item": self.item,
            "requested_at": self.requested_at.isoformat(),
            "provided_at": self.provided_at.isoformat() if self.provided_at else None,
            "outcome": self.outcome.value,
            "withheld": self.withheld,
            "leaf_index": self.leaf_index,
        }


class ExchangeResult(NamedTuple):
    """What a requester learns from one exchange: the opened answer and where it was logged."""

    request_id: str
    provider: str
    provider_name: str
    task: str
    item: str
    outcome: Outcome
    payload: Any
    updated_at: str | None
    requested_at: int
    provided_at_ms: int
    leaf_index: int

    def comparable(self) -> dict[str, Any]:
        """Everything but the ids and times that differ from one exchange to the next."""
        return {
            "provider": self.provider,
            "provider_name": self.provider_name,
            "task": self.task,
            "item": self.item,
            "outcome": self.outcome.value,
            "payload": self.payload,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Ask:
    """One request of a batch (一括照会): which provider, task and item, about whom.

    The person is the agency's own code for them, or its local id (宛名番号)
    to look the code up by; ``request_id`` is made fresh when not given.
    """

    provider: str
    task: str
    item: str
    code: str | None = None
    local_id: str | None = None
    request_id: str | None = None
