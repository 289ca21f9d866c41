"""One signed exchange (情報照会・情報提供), as steps that yield where they wait, and what it answers.

The checks are :mod:`kojin.hub.admission`'s; this module puts them in order
with the provider's answer, the leaf and the records, and says what the
requester gets back (an answer, or in a batch a refusal in its place).
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

from kojin.core.errors import KojinError
from kojin.core.metrics import Counter
from kojin.hub.admission import Admission, signature
from kojin.hub.agencies import AgencyEntry
from kojin.hub.delivery import Deliver, check_answer
from kojin.hub.domain import ExchangeRequest, ProvisionAnswer, invalid
from kojin.hub.leaves import Attempt, answered_leaf, answered_tag, log_refusal
from kojin.hub.records import record_rows
from kojin.hub.steps import Append, Op, Receipt, Settle


def answer_out(request: ExchangeRequest, provider: AgencyEntry, answer: ProvisionAnswer, index: int) -> dict[str, Any]:
    return {
        "request_id": request.request_id,
        "requester": request.requester,
        "provider": provider.agency_id,
        "provider_name": provider.name,
        "task": request.task,
        "item": request.item,
        "outcome": answer.outcome.value,
        "sealed": answer.sealed,
        "requested_at": request.time,
        "provided_at_ms": answer.provided_at_ms,
        "leaf_index": index,
    }


def refusal_out(request_id: str | None, index: int, exc: KojinError) -> dict[str, Any]:
    """A batch's refused request: its leaf, and the error as the single-request API would send it."""
    return {
        "request_id": request_id,
        "leaf_index": index,
        "error": {"code": exc.code, "message": exc.message, "field": exc.field, "status": exc.status},
    }


class SingleExchange:
    """The steps of one exchange; made once per hub."""

    def __init__(self, admission: Admission, unlogged: Counter) -> None:
        self._admission = admission
        self._unlogged = unlogged

    def steps(self, body: object) -> Generator[Op, Any, dict[str, Any]]:
        """The exchange, yielding where it waits (see :class:`kojin.hub.steps.Op`), for either driver."""
        attempt = Attempt()
        with self._admission.ids.holding([attempt]):
            try:
                return (yield from self._exchange(body, attempt))
            except KojinError as exc:
                if not attempt.signed:
                    # Nobody the hub knows sent it: counted, not logged.
                    self._unlogged.add(("exchange", exc.code))
                elif not attempt.leaf_logged:
                    yield from log_refusal(attempt, exc)
                raise

    def _exchange(self, body: object, attempt: Attempt) -> Generator[Op, Any, dict[str, Any]]:
        if not isinstance(body, dict):
            raise invalid("body", "オブジェクトではありません。", "must be an object.")
        extra = sorted(set(body) - {"request", "signature"})
        if extra:
            raise invalid(extra[0], "未知の項目です。", "unknown field.")
        request = ExchangeRequest.from_dict(body.get("request"))
        signed = signature(body.get("signature"))

        admission = self._admission
        requester = admission.requester(request, signed)
        attempt.take_claims(body.get("request"))
        attempt.signed = True
        provider, query = admission.admit(request, requester, admission.clock(), attempt)
        answer, settlement = check_answer(provider, query, (yield Deliver(provider, query)))
        leaf = answered_leaf(request, answer, attempt.subject)
        tag = answered_tag(request, attempt)
        # Past this point the exchange has its own leaf (or the log failed);
        # a later failure must not add a second, "refused" one.
        attempt.leaf_logged = True
        # The provider's record commits in its own store while the leaf
        # commits here; the answer is passed on only once both are durable.
        receipt: Receipt = yield Append(leaf, tag)
        index = receipt.index
        try:
            yield Settle(settlement)
        except KojinError:
            # The leaf says what the hub held; the requester gets nothing. The
            # hub's record still mirrors the leaf, as a restart would rebuild it.
            self._record(request, requester, provider, answer, index, attempt)
            raise
        self._record(request, requester, provider, answer, index, attempt)
        return answer_out(request, provider, answer, index)

    def _record(
        self,
        request: ExchangeRequest,
        requester: AgencyEntry,
        provider: AgencyEntry,
        answer: ProvisionAnswer,
        index: int,
        attempt: Attempt,
    ) -> None:
        # The leaf is durable now, and it holds everything the hub's record
        # does: the record is committed behind the answer, without an fsync of
        # its own (rebuilt from the log after a crash). The request id stays
        # reserved in memory until its row is in the store.
        reserved, attempt.reserved = attempt.reserved, None
        rows = record_rows(request, requester, provider, answer, index, datetime.now(UTC))
        self._admission.ids.spend(rows, [] if reserved is None else [reserved])
