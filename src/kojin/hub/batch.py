"""The batch driver (一括照会): many requests of one requester under one signature.

Each request is checked, answered or refused, logged as a leaf and recorded
exactly as a single exchange would be; only the work around them is shared:
one signature check, one store query for the request ids, one message to
each provider, one log commit and one commit of records. Kept apart from the
single exchange because that sharing is all it adds, and it is most of it.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kojin.core.crypto import verify_ed25519
from kojin.core.errors import KojinError
from kojin.core.group_commit import Row
from kojin.core.metrics import Counter
from kojin.hub import reasons
from kojin.hub.admission import Admission, signature
from kojin.hub.agencies import AgencyEntry
from kojin.hub.delivery import Deliver, check_answers, queries_message
from kojin.hub.domain import BATCH_MAX, ExchangeRequest, ProvisionAnswer, batch_signing_input, invalid
from kojin.hub.exchange import answer_out, refusal_out
from kojin.hub.leaves import Attempt, answered_leaf, answered_tag, refusal_leaf, refusal_tag
from kojin.hub.records import record_rows
from kojin.hub.reservations import replayed
from kojin.hub.steps import AppendMany, Op, Receipt, Settle
from kojin.hub.transport import Settlement


@dataclass(slots=True)
class _Admitted:
    """A batch's request that passed the hub's checks, waiting for its provider's answer."""

    position: int
    request: ExchangeRequest
    provider: AgencyEntry
    query: dict[str, Any]
    attempt: Attempt


# A refused request: its position in the batch, what was known of it, and why.
_Refused = list[tuple[int, Attempt, KojinError]]
# An answered request, and the number of its provider's settlement.
_Answered = list[tuple[_Admitted, ProvisionAnswer, int]]


class BatchExchange:
    """The steps of one batch; made once per hub."""

    def __init__(self, admission: Admission, unlogged: Counter) -> None:
        self._admission = admission
        self._unlogged = unlogged

    def steps(self, body: object) -> Generator[Op, Any, dict[str, Any]]:
        """The batch, yielding where it waits, for either driver; results in the requests' order."""
        attempts: list[Attempt] = []
        with self._admission.ids.holding(attempts):
            return (yield from self._batch(body, attempts))

    def _batch(self, body: object, attempts: list[Attempt]) -> Generator[Op, Any, dict[str, Any]]:
        try:
            requester, raws = self._envelope(body, attempts)
        except KojinError as exc:
            # The envelope is not a registered agency's: counted once, no leaves.
            self._unlogged.add(("batch", exc.code))
            raise
        for attempt in attempts:
            attempt.signed = True
        refused: _Refused = []
        by_provider = self._admit_all(requester, raws, attempts, refused)
        answered: _Answered = []
        settlements: list[Settlement] = []
        for group in by_provider.values():
            yield from self._ask(group, answered, refused, settlements)

        leaves = [answered_leaf(g.request, answer, g.attempt.subject) for g, answer, _ in answered]
        leaves += [refusal_leaf(attempt, exc) for _, attempt, exc in refused]
        tags = [answered_tag(g.request, g.attempt) for g, _, _ in answered]
        tags += [refusal_tag(attempt) for _, attempt, _ in refused]
        for attempt in attempts:
            attempt.leaf_logged = True  # each has its leaf in this append (or the log failed for all)
        receipts: list[Receipt] = yield AppendMany(leaves, tags)

        unsettled: dict[int, KojinError] = {}
        for number, settlement in enumerate(settlements):
            try:
                yield Settle(settlement)
            except KojinError as exc:
                unsettled[number] = exc
        results: list[dict[str, Any] | None] = [None] * len(raws)
        self._record(requester, answered, receipts, unsettled, results)
        for (position, attempt, why), receipt in zip(refused, receipts[len(answered) :], strict=True):
            results[position] = refusal_out(attempt.request_id, receipt.index, why)
        return {"requester": requester.agency_id, "results": results}

    def _envelope(self, body: object, attempts: list[Attempt]) -> tuple[AgencyEntry, list[Any]]:
        """The batch's requester, its signature checked, and its requests as sent."""
        if not isinstance(body, dict):
            raise invalid("body", "オブジェクトではありません。", "must be an object.")
        raws = body.get("requests")
        if isinstance(raws, list) and len(raws) <= BATCH_MAX:
            attempts += [Attempt(unread=raw) for raw in raws]
        extra = sorted(set(body) - {"requests", "signature"})
        if extra:
            raise invalid(extra[0], "未知の項目です。", "unknown field.")
        if not isinstance(raws, list) or not raws:
            raise invalid("requests", "照会の配列がありません。", "must be a non-empty array of requests.")
        if len(raws) > BATCH_MAX:
            raise invalid("requests", f"一度に{BATCH_MAX}件までです。", f"at most {BATCH_MAX} requests in a batch.")
        signed = signature(body.get("signature"))
        signer = raws[0].get("requester") if isinstance(raws[0], dict) else None
        if not isinstance(signer, str):
            raise invalid("requester", "最初の照会に照会機関がありません。", "the first request names no requester.")
        requester = self._admission.agencies.find(signer)
        if requester is None:
            raise reasons.UNKNOWN_AGENCY.error(role_ja="照会機関", agency_id=signer[:40], role_en="Requester")
        try:
            signing_input = batch_signing_input(raws)
        except (TypeError, ValueError):
            raise invalid(
                "requests", "署名の対象にできない値があります。", "holds a value that cannot be signed."
            ) from None
        if not verify_ed25519(requester.sign_public, signed, signing_input):
            raise reasons.BAD_SIGNATURE.error(what_ja="一括照会", what_en="batch")
        return requester, raws

    def _admit_all(
        self, requester: AgencyEntry, raws: list[Any], attempts: list[Attempt], refused: _Refused
    ) -> dict[str, list[_Admitted]]:
        """:meth:`Admission.admit`'s checks in its order, with the store asked once for every id held here."""
        admission = self._admission
        now = admission.clock()
        held: list[tuple[int, ExchangeRequest, AgencyEntry]] = []
        for position, raw in enumerate(raws):
            attempt = attempts[position]
            try:
                request = ExchangeRequest.from_dict(raw)
                if request.requester != requester.agency_id:
                    raise reasons.BATCH_MIXED_REQUESTERS.error()
                provider = admission.provider_of(request, now)
                admission.ids.hold(request, attempt)
            except KojinError as exc:
                refused.append((position, attempt, exc))
                continue
            held.append((position, request, provider))
        seen = admission.ids.spent(requester.agency_id, [request.request_id for _, request, _ in held])
        by_provider: dict[str, list[_Admitted]] = {}
        for position, request, provider in held:
            attempt = attempts[position]
            try:
                if request.request_id in seen:
                    raise replayed()
                query = admission.query(request, requester, provider, now, attempt)
            except KojinError as exc:
                refused.append((position, attempt, exc))
                continue
            by_provider.setdefault(provider.agency_id, []).append(
                _Admitted(position, request, provider, query, attempt)
            )
        return by_provider

    def _ask(
        self, group: list[_Admitted], answered: _Answered, refused: _Refused, settlements: list[Settlement]
    ) -> Generator[Op, Any, None]:
        """One provider's share, in one message; a provider that fails refuses every request of its share."""
        provider = group[0].provider
        try:
            delivered = yield Deliver(provider, queries_message([g.query for g in group]), many=True)
            answers, settlement = check_answers(provider, [g.request.request_id for g in group], delivered)
        except KojinError as exc:
            refused.extend((g.position, g.attempt, exc) for g in group)
            return
        settlements.append(settlement)
        for g, answer in zip(group, answers, strict=True):
            if isinstance(answer, ProvisionAnswer):
                answered.append((g, answer, len(settlements) - 1))
            else:
                refused.append((g.position, g.attempt, answer))

    def _record(
        self,
        requester: AgencyEntry,
        answered: _Answered,
        receipts: list[Receipt],
        unsettled: dict[int, KojinError],
        results: list[dict[str, Any] | None],
    ) -> None:
        """Put the answered requests' results in place and write their rows behind the answer."""
        rows: list[Row] = []
        reserved: list[tuple[str, str]] = []
        logged = datetime.now(UTC)
        for (g, answer, number), receipt in zip(answered, receipts, strict=False):
            # Recorded even when the provider's record failed: the hub's
            # record mirrors the leaf, as a restart would rebuild it.
            rows += record_rows(g.request, requester, g.provider, answer, receipt.index, logged)
            if g.attempt.reserved is not None:
                reserved.append(g.attempt.reserved)
                g.attempt.reserved = None
            failure = unsettled.get(number)
            results[g.position] = (
                answer_out(g.request, g.provider, answer, receipt.index)
                if failure is None
                else refusal_out(g.request.request_id, receipt.index, failure)
            )
        self._admission.ids.spend(rows, reserved)
