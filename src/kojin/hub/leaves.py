"""The exchange log's leaves the hub writes: one per exchange, answered or refused.

An exchange gathers what it learns in an :class:`Attempt` as it is checked,
so that a refusal at any step still logs a leaf with everything known by
then. Kept apart from the records because a leaf is written for every
request, a record only for an answered one.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from kojin.core.errors import KojinError
from kojin.hub.domain import ExchangeRequest, Outcome, ProvisionAnswer, leaf_bytes
from kojin.hub.steps import Append, AppendMany, Op

log = logging.getLogger("kojin.hub")


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
    reserved: tuple[str, str] | None = None
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
        yield Append(refusal_leaf(attempt, exc))
    except KojinError as log_exc:
        log.error("refusal %s could not be logged: %s", exc.code, log_exc.code)


def log_refusals(refusals: list[tuple[Attempt, KojinError]]) -> Generator[Op, Any, None]:
    """:func:`log_refusal` for many, in one commit."""
    try:
        yield AppendMany([refusal_leaf(attempt, exc) for attempt, exc in refusals])
    except KojinError as log_exc:
        log.error("%d refusals could not be logged: %s", len(refusals), log_exc.code)
