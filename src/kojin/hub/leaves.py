"""The exchange log's leaves the hub writes: one per exchange, answered or refused.

An exchange gathers what it learns in an :class:`Attempt` as it is checked,
so that a refusal at any step after the requester's signature still logs a
leaf with everything known by then. A request refused before its signature
is known good (malformed, unsigned, signed by no registered agency) gets no
leaf: anyone could send it, and the log is a record of what agencies did. It
is counted in :data:`UNLOGGED_REFUSALS` instead. Kept apart from the records
because a leaf is written for every signed request, a record only for an
answered one.

A leaf about a person goes with its row in the log's person index
(:data:`~kojin.hub.steps.IndexRow`), appended in the same commit.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from kojin.core.errors import KojinError
from kojin.core.metrics import Counter
from kojin.hub.domain import ExchangeRequest, Outcome, ProvisionAnswer, leaf_bytes
from kojin.hub.steps import Append, IndexRow, Op

log = logging.getLogger("kojin.hub")


def unlogged_refusals() -> Counter:
    """The hub's count of requests refused without a leaf, by endpoint and reason code."""
    return Counter(
        "kojin_hub_unlogged_refusals_total",
        "Requests refused before a registered agency's signature was verified: no leaf, only this count.",
        ("endpoint", "reason"),
    )


@dataclass
class Attempt:
    """What is known about an exchange so far, for the leaf if it is refused."""

    time: int | None = None
    requester: str | None = None
    provider: str | None = None
    task: str | None = None
    item: str | None = None
    request_id: str | None = None
    subject: str | None = None
    # The person's tag in the log's index, known with ``subject``.
    tag: bytes | None = None
    reserved: tuple[str, str] | None = None
    # The requester's signature is verified: from here on a refusal is logged.
    signed: bool = False
    leaf_logged: bool = False
    # A batch member's request as sent: its claims are taken only if it is refused.
    unread: object = None

    def take_claims(self, raw: object) -> None:
        # Whatever a malformed request claimed still goes in its leaf, cut short.
        if not isinstance(raw, dict):
            return
        for name in ("requester", "provider", "task", "item", "request_id"):
            value = raw.get(name)
            if isinstance(value, str):
                setattr(self, name, value[:200])
        t = raw.get("time")
        if isinstance(t, int) and not isinstance(t, bool) and 0 <= t < 1 << 40:
            self.time = t


def answered_leaf(request: ExchangeRequest, answer: ProvisionAnswer, subject: str | None) -> bytes:
    return leaf_bytes(
        time=request.time,
        requester=request.requester,
        provider=request.provider,
        task=request.task,
        item=request.item,
        request_id=request.request_id,
        outcome=answer.outcome,
        reason=None,
        subject=subject,
        provided_at=answer.provided_at_ms,
    )


def answered_tag(request: ExchangeRequest, attempt: Attempt) -> IndexRow | None:
    return None if attempt.tag is None else (attempt.tag, request.requester, request.provider)


def refusal_tag(attempt: Attempt) -> IndexRow | None:
    if attempt.tag is None:
        return None
    return attempt.tag, attempt.requester or "", attempt.provider or ""


def refusal_leaf(attempt: Attempt, exc: KojinError) -> bytes:
    if attempt.unread is not None:
        attempt.take_claims(attempt.unread)
        attempt.unread = None
    return leaf_bytes(
        time=attempt.time,
        requester=attempt.requester,
        provider=attempt.provider,
        task=attempt.task,
        item=attempt.item,
        request_id=attempt.request_id,
        outcome=Outcome.REFUSED,
        reason=exc.code,
        subject=attempt.subject,
    )


def log_refusal(attempt: Attempt, exc: KojinError) -> Generator[Op, Any, None]:
    """Append a refused request's leaf; a log that fails too is reported, not raised over the refusal."""
    try:
        yield Append(refusal_leaf(attempt, exc), refusal_tag(attempt))
    except KojinError as log_exc:
        log.error("refusal %s could not be logged: %s", exc.code, log_exc.code)
