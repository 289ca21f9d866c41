"""An agency's intermediate server (中間サーバー): answers the hub from the agency's copies, sealed to the requester.

The hub's queries arrive over an HMAC-authenticated channel, one at a time or as a
batch's share; each answer is boxed so only the requesting agency can open it
(the hub can neither read nor forge it), and each query is written to the
agency's §23 log before its answer leaves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kojin.agency import reasons
from kojin.agency.domain import CopyEntry, LogEntry, Role
from kojin.core import reasons as core_reasons
from kojin.core.crypto import b64, unb64
from kojin.core.errors import KojinError, Unauthenticated
from kojin.core.group_commit import Ticket
from kojin.hub.domain import (
    ANSWERS_KIND,
    BATCH_MAX,
    FRESHNESS_SECONDS,
    QUERIES_KIND,
    Outcome,
    ProvisionAnswer,
    ProvisionQuery,
    channel_mac,
    check_channel_mac,
    sealed_plaintext_json,
)

if TYPE_CHECKING:
    pass
from kojin.agency.service import AgencyService, time_of_ms


class IntermediateServer:
    """The agency's intermediate server (中間サーバー): answers the hub from copies."""

    def __init__(self, agency: AgencyService, *, clock: Callable[[], float] = time.time) -> None:
        self.agency = agency
        self._clock = clock
        self._box_keys: dict[str, bytes] = {}

    def update_copies(self, entries: Iterable[CopyEntry]) -> int:
        """Keep the copies in step with the agency's business data."""
        return self.agency.update_copies(entries)

    def answer(self, query: dict[str, Any], mac: str) -> tuple[dict[str, Any], str]:
        """Answer one MACed query from the hub with a MACed answer, once its §23 record is durable."""
        answer, answer_mac, ticket = self.answer_deferred(query, mac)
        ticket.wait()
        return answer, answer_mac

    def answer_deferred(self, query: dict[str, Any], mac: str) -> tuple[dict[str, Any], str, Ticket]:
        """:meth:`answer`, returning before the §23 record is durable, with the ticket that tells when.

        For the hub hosting this server in its own process: it commits the
        exchange's leaf meanwhile, and passes the answer on only after both
        (the ticket fails if the record could not be written).
        """
        keys = self.agency.keys
        if not check_channel_mac(keys.channel_key, query, mac):
            raise _bad_channel_mac()
        q = self._take(query)
        answer, entry = self._answer(q, self.agency.copy_for_answer(q.code, q.item))
        return answer, channel_mac(keys.channel_key, answer), self.agency.record_soon(entry)

    def answer_many(self, message: dict[str, Any], mac: str) -> tuple[dict[str, Any], str]:
        """Answer a MACed batch of queries (一括照会) once all their §23 records are durable."""
        answers, answers_mac, ticket = self.answer_many_deferred(message, mac)
        ticket.wait()
        return answers, answers_mac

    def answer_many_deferred(self, message: dict[str, Any], mac: str) -> tuple[dict[str, Any], str, Ticket]:
        """:meth:`answer_deferred` for a ``provision-queries/1`` message: one MAC, one commit for all.

        The answers come in the queries' order; a query this server cannot
        take is answered with ``{"request_id": …, "error": code}`` in its
        place, and the others are answered as usual.
        """
        keys = self.agency.keys
        if not check_channel_mac(keys.channel_key, message, mac):
            raise _bad_channel_mac()
        queries = message.get("queries") if message.get("kojin") == QUERIES_KIND else None
        if not isinstance(queries, list) or len(queries) > BATCH_MAX:
            raise core_reasons.REQUEST_INVALID.error(
                field_name="queries",
                what_ja=f"{QUERIES_KIND} ではありません",
                what_en=f"not a {QUERIES_KIND} message",
                field="queries",
            )
        taken: list[ProvisionQuery | dict[str, Any]] = []
        for query in queries:
            try:
                taken.append(self._take(query))
            except KojinError as exc:
                request_id = query.get("request_id") if isinstance(query, dict) else None
                taken.append({"request_id": request_id if isinstance(request_id, str) else None, "error": exc.code})
        found = self.agency.copies_for_answer([(q.code, q.item) for q in taken if isinstance(q, ProvisionQuery)])
        answers: list[dict[str, Any]] = []
        entries: list[LogEntry] = []
        for q in taken:
            if not isinstance(q, ProvisionQuery):
                answers.append(q)
                continue
            answer, entry = self._answer(q, found.get((q.code, q.item)))
            answers.append(answer)
            entries.append(entry)
        reply = {"kojin": ANSWERS_KIND, "answers": answers}
        return reply, channel_mac(keys.channel_key, reply), self.agency.record_many_soon(entries)

    def _box_key(self, encoded: str) -> bytes:
        # A batch names one requester's key in every query: decoded once.
        key = self._box_keys.get(encoded)
        if key is None:
            key = unb64(encoded, "requester_box_key")
            if len(self._box_keys) >= 1024:
                self._box_keys.clear()
            self._box_keys[encoded] = key
        return key

    def _take(self, query: object) -> ProvisionQuery:
        """An authenticated message's query, if it is one for this server, and fresh."""
        q = ProvisionQuery.from_wire(query)
        if q.provider != self.agency.agency_id:
            raise reasons.WRONG_PROVIDER.error()
        now = self._clock()
        if abs(now * 1000 - q.sent_at_ms) > FRESHNESS_SECONDS * 1000:
            raise reasons.STALE_QUERY.error()
        return q

    def _answer(self, q: ProvisionQuery, found: tuple[str, bool, str] | None) -> tuple[dict[str, Any], LogEntry]:
        """The answer to a query from its copy (None: no copy), and the §23 record still to be kept of it."""
        keys = self.agency.keys
        sealed: str | None = None
        if found is None:
            outcome = Outcome.NO_DATA
        elif found[1]:
            outcome = Outcome.WITHHELD
        else:
            outcome = Outcome.ANSWERED
            # The copy is stored as canonical JSON: it goes into the sealed
            # plaintext as it is, not parsed and written again.
            plaintext = sealed_plaintext_json(
                request_id=q.request_id,
                requester=q.requester,
                provider=q.provider,
                item=q.item,
                payload_json=found[0],
                updated_at=found[2],
            )
            sealed = b64(keys.box.seal_to(self._box_key(q.requester_box_key), plaintext, q.request_id.encode()))
        provided_ms = int(self._clock() * 1000)
        entry = LogEntry(
            Role.PROVIDER,
            q.request_id,
            q.code,
            q.requester,
            q.requester_name,
            q.provider,
            keys.name,
            q.task,
            q.item,
            datetime.fromtimestamp(q.requested_at, UTC),
            time_of_ms(provided_ms),
            outcome,
        )
        return ProvisionAnswer(q.request_id, q.provider, outcome, sealed, provided_ms).to_wire(), entry


def _bad_channel_mac() -> Unauthenticated:
    return reasons.BAD_CHANNEL_MAC.error()
