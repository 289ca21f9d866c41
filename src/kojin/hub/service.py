"""The hub service (情報提供ネットワークシステム): agencies, codes, exchanges.

What the hub checks, in order, for every exchange: a well-formed body; a known
requester; its Ed25519 signature; freshness (±300 s); a request id the
requester never used; the permitted-exchange table; that the code is the
requester's own. Then it translates the code to the provider's and asks the
provider's intermediate server. A server hosted in this process queues its
§23 record for a durable commit and answers at once; the hub appends the
exchange's leaf meanwhile, and answers only once the leaf *and* the
provider's record are durable (over HTTP the server answers only after its
record is durable). The hub's own §23 record holds nothing the leaf does not,
so it is committed behind the answer without an fsync and rebuilt from the
log after a crash (:meth:`kojin.hub.records.ExchangeRecords.reconcile`). A refused request is
logged as a leaf too, and changes nothing else — once its requester's signature
is verified: a request no registered agency signed is refused without a leaf
and only counted (:attr:`HubService.unlogged_refusals`, shown at ``/hub/metrics``).
Every leaf about a person is appended with its row in the log's person index,
in the same commit, so the portal finds a person's leaves without a scan.

The exchange is written once, as steps that yield where they wait
(:class:`kojin.hub.steps.Op`): :meth:`HubService.exchange` blocks a thread on each wait,
:meth:`HubService.exchange_async` awaits them on an event loop, so both give
the same checks, refusals, leaves and records.

One process runs the hub: the exchange log has a single writer, and request
ids in flight are reserved in that process's memory.

The hub sees no number, no name and no payload: the answer is sealed by the
provider in a box only the requester can open (:class:`kojin.core.crypto.AnswerBox`).

This module is the facade the other parties use; the parts live beside it:
:mod:`~kojin.hub.agencies` and :mod:`~kojin.hub.codes` (the registries),
:mod:`~kojin.hub.admission` (the checks), :mod:`~kojin.hub.reservations`
(request ids in flight), :mod:`~kojin.hub.delivery` (to and from providers),
:mod:`~kojin.hub.leaves` and :mod:`~kojin.hub.records` (what is logged and
recorded), :mod:`~kojin.hub.exchange` and :mod:`~kojin.hub.batch` (the steps),
:mod:`~kojin.hub.steps` (how steps are run).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, func, select

from kojin.core.group_commit import GroupCommit, ThreadReaders
from kojin.hub import reasons
from kojin.hub.admission import Admission
from kojin.hub.agencies import AgencyEntry, AgencyRegistry
from kojin.hub.batch import BatchExchange
from kojin.hub.codes import CodeRegistry, jlis_code_message
from kojin.hub.disputes import DisputedCodes, LinkState
from kojin.hub.domain import AgencyKind, Outcome, leaf_bytes, subject_commitment, subject_tag
from kojin.hub.exchange import SingleExchange
from kojin.hub.leaves import unlogged_refusals
from kojin.hub.records import ExchangeRecords
from kojin.hub.reindex import IndexedLog, Reindexed, reindex
from kojin.hub.reservations import RequestIds
from kojin.hub.steps import ExchangeLogPort, Links, Receipt, drive, drive_async
from kojin.hub.store import agencies, codes, exchange_records, persons, seen_requests
from kojin.hub.transport import IntermediateTransport

__all__ = ["AgencyEntry", "ExchangeLogPort", "HubService", "Receipt", "jlis_code_message"]

log = logging.getLogger("kojin.hub")


class HubService:
    """The hub: agency registry, per-agency codes and the exchange path."""

    def __init__(
        self,
        engine: Engine,
        exchange_log: Callable[[], ExchangeLogPort],
        transport: IntermediateTransport,
        *,
        jlis_channel_key: Callable[[], bytes] | None = None,
        clock: Callable[[], float] = time.time,
        head_interval: float = 1.0,
    ) -> None:
        self.engine = engine
        self._log = exchange_log
        self._transport = transport
        self._clock = clock
        # The hub's own records are rebuilt from the exchange log after a
        # crash (ExchangeRecords.reconcile), so they are committed without an
        # fsync, a few milliseconds' worth at a time.
        self._writer = GroupCommit(engine, name="kojin-hub-writer", durable=False, linger=0.005)
        self._readers = ThreadReaders(engine)
        self._agencies = AgencyRegistry(engine)
        self._disputes = DisputedCodes(engine)
        self._codes = CodeRegistry(
            engine, self._readers, self._agencies, self._disputes, jlis_channel_key=jlis_channel_key, clock=clock
        )
        self._records = ExchangeRecords(engine, self._readers, self._writer)
        admission = Admission(self._agencies, self._codes, self._disputes, RequestIds(self._records), clock)
        self.unlogged_refusals = unlogged_refusals()
        self._single = SingleExchange(admission, self.unlogged_refusals)
        self._batches = BatchExchange(admission, self.unlogged_refusals)
        self._links = Links(transport, exchange_log)
        self._start_lock = threading.Lock()
        self._ready = False
        self._head_interval = head_interval
        self._head_stop = threading.Event()
        self._head_thread: threading.Thread | None = None

    @property
    def transport(self) -> IntermediateTransport:
        """How the hub reaches intermediate servers."""
        return self._transport

    # -- agencies and codes (see AgencyRegistry and CodeRegistry) ----------------------
    def ensure_keys(self) -> None:
        """Create the code key on first start (idempotent, safe between processes)."""
        self._codes.ensure_keys()

    def register_agency(
        self,
        agency_id: str,
        *,
        name: str,
        kind: AgencyKind | str,
        sign_public: bytes,
        box_public: bytes,
        channel_key: bytes,
        endpoint: str | None = None,
    ) -> AgencyEntry:
        """Enter an agency with its public keys and the channel key for its intermediate server."""
        return self._agencies.register(
            agency_id,
            name=name,
            kind=kind,
            sign_public=sign_public,
            box_public=box_public,
            channel_key=channel_key,
            endpoint=endpoint,
        )

    def set_endpoint(self, agency_id: str, endpoint: str | None) -> AgencyEntry:
        """Point the hub at an agency's intermediate server over HTTP (None: in process)."""
        return self._agencies.set_endpoint(agency_id, endpoint)

    def find_agency(self, agency_id: str) -> AgencyEntry | None:
        return self._agencies.find(agency_id)

    def agency(self, agency_id: str, field: str = "agency_id") -> AgencyEntry:
        return self._agencies.get(agency_id, field)

    def agencies(self) -> list[AgencyEntry]:
        return self._agencies.all()

    def issue_code(self, agency_id: str, link_id: str) -> str:
        """The agency's code for the person behind J-LIS's link id (J-LIS only); the same on every call."""
        return self._codes.issue_code(agency_id, link_id)

    def issue_codes(self, agency_id: str, link_ids: Sequence[str]) -> list[str]:
        """:meth:`issue_code` for many people in one transaction (an insurer's first enrolment)."""
        return self._codes.issue_codes(agency_id, link_ids)

    def issue_code_signed(self, agency_id: str, body: Mapping[str, Any]) -> str:
        """:meth:`issue_code` for a message from J-LIS over HTTP, MACed with the J-LIS channel key."""
        return self._codes.issue_code_signed(agency_id, body)

    def code_holders(self, codes: Sequence[str]) -> dict[str, tuple[str, str]]:
        """For each code the hub issued: (the agency it was issued to, the person's link id) — J-LIS's audit only."""
        return self._codes.holders(codes)

    def subject_key_for(self, link_id: str) -> bytes:
        """The person's own key to recognise their leaves in the log (for the portal only)."""
        return self._codes.subject_key_for(link_id)

    # -- disputed links (ひも付けの誤りの申し出) ----------------------------------------
    def suspend_link(self, agency_id: str, code: str) -> None:
        """The person says the agency's code is not theirs: refuse everything about it from now on."""
        owner = self._codes.owner(code)
        if owner is None or owner[0] != agency_id:
            raise reasons.UNKNOWN_CODE.error()
        self._disputes.suspend(agency_id, code)

    def lift_link(self, code: str) -> None:
        """A supervisor found the link right: the code works again."""
        self._disputes.lift(code)

    def retire_link(self, code: str) -> None:
        """A supervisor found the link wrong: the code is refused for good and names the person no more."""
        self._disputes.retire(code)

    def link_disputed(self, code: str) -> bool:
        """Whether the code is suspended or retired (from this process's copy, at most a second old)."""
        return self._disputes.disputed(code)

    def link_state(self, code: str) -> LinkState | None:
        return self._disputes.state(code)

    def reload_disputes(self) -> None:
        """Read the disputed links now rather than within the second."""
        self._disputes.reload()

    # -- exchanges (情報照会・情報提供) -----------------------------------------
    def exchange(self, body: object) -> dict[str, Any]:
        """Route one signed request; return the provider's sealed answer once everything is durable."""
        self._start()
        return drive(self._links, self._single.steps(body))

    async def exchange_async(self, body: object) -> dict[str, Any]:
        """:meth:`exchange` for a caller on an event loop: the same steps, waiting without blocking it.

        The checks, the provider's answer (when it is hosted here) and the
        log append run on the loop; durable commits are awaited, and the
        writers wake the loop once per commit for everyone waiting on it.
        """
        if not self._ready:
            await asyncio.get_running_loop().run_in_executor(None, self._start)
        return await drive_async(self._links, self._single.steps(body))

    def exchange_batch(self, body: object) -> dict[str, Any]:
        """Route a signed batch of requests (一括照会) of one requester.

        Each request is checked, answered or refused, logged as a leaf and
        recorded exactly as :meth:`exchange` would; the batch shares one
        signature check, one message to each provider, one log commit and one
        commit of records. A batch whose envelope is refused (malformed,
        unknown requester, bad signature) is refused whole, without a leaf
        (counted in :attr:`unlogged_refusals`). The results come in the requests' order: an answer as
        :meth:`exchange` gives it, or ``{"request_id", "leaf_index", "error"}``.
        """
        self._start()
        return drive(self._links, self._batches.steps(body))

    async def exchange_batch_async(self, body: object) -> dict[str, Any]:
        """:meth:`exchange_batch` for a caller on an event loop."""
        if not self._ready:
            await asyncio.get_running_loop().run_in_executor(None, self._start)
        return await drive_async(self._links, self._batches.steps(body))

    # -- clinics' views (オンライン資格確認・電子カルテ情報共有) ---------------------------
    def find_code(self, agency_id: str, link_id: str) -> str | None:
        """The agency's code for the person behind ``link_id`` if one was issued; issues none."""
        return self._codes.find_code(agency_id, link_id)

    def link_id_of(self, agency_id: str, code: str) -> str | None:
        """J-LIS's link id behind an agency's code (J-LIS only); None when the agency holds no such code."""
        return self._codes.link_id_of(agency_id, code)

    def record_view(
        self,
        *,
        viewer: str,
        viewer_name: str,
        holder: str,
        holder_name: str,
        task: str,
        item: str,
        agency_id: str,
        code: str,
        request_id: str,
    ) -> int:
        """Log a clinic's consented view of a person's medical data as an exchange; the leaf index.

        The person is named by an agency's code (the insurer's, which the
        eligibility service holds); the leaf carries the usual subject
        commitment, so the view appears in the person's やりとり履歴 with an
        inclusion proof, and the hub keeps its §23 record of it.
        """
        now = self._clock()
        index = self._clinic_leaf(viewer, holder, task, item, agency_id, code, request_id, now, Outcome.ANSWERED, None)
        self._records.record_view(
            viewer=viewer,
            viewer_name=viewer_name,
            holder=holder,
            holder_name=holder_name,
            task=task,
            item=item,
            request_id=request_id,
            now=now,
            provided_ms=int(now * 1000),
            index=index,
        )
        return index

    def record_refusal(
        self, *, viewer: str, holder: str, task: str, item: str, agency_id: str, code: str, request_id: str, reason: str
    ) -> int:
        """Log a clinic's check or view refused for the person's sake (a disputed link); the leaf index.

        Like :meth:`record_view`, the leaf carries the subject commitment of
        the person the code names, so the refusal is in their やりとり履歴.
        Nothing was provided, so the hub keeps no §23 record of it.
        """
        return self._clinic_leaf(
            viewer, holder, task, item, agency_id, code, request_id, self._clock(), Outcome.REFUSED, reason
        )

    def _clinic_leaf(
        self,
        viewer: str,
        holder: str,
        task: str,
        item: str,
        agency_id: str,
        code: str,
        request_id: str,
        now: float,
        outcome: Outcome,
        reason: str | None,
    ) -> int:
        owner = self._codes.owner(code)
        if owner is None or owner[0] != agency_id:
            raise reasons.UNKNOWN_CODE.error()
        self._start()
        subject_key = self._codes.deriver().subject_key(owner[1])
        subject = subject_commitment(subject_key, viewer, request_id)
        leaf = leaf_bytes(
            time=int(now),
            requester=viewer,
            provider=holder,
            task=task,
            item=item,
            request_id=request_id,
            outcome=outcome,
            reason=reason,
            subject=subject,
            provided_at=int(now * 1000) if outcome is Outcome.ANSWERED else None,
        )
        return self._log().append(leaf, (subject_tag(subject_key), viewer, holder)).index

    def reindex(
        self, exchange_log: IndexedLog, *, start: int = 0, progress: Callable[[int, int], None] | None = None
    ) -> Reindexed:
        """Rebuild the log's person index from the leaves (``kojin audit reindex``); see :mod:`~kojin.hub.reindex`."""
        return reindex(self.engine, self._codes.deriver().subject_key, exchange_log, start=start, progress=progress)

    # -- reading -------------------------------------------------------------------
    def records(self, *, limit: int = 100, after: int = 0) -> list[dict[str, Any]]:
        """The hub's §23 records, oldest first (including every exchange answered so far)."""
        return self._records.records(limit=limit, after=after)

    def counts(self) -> dict[str, int]:
        """Rows per table: what a refused request must leave unchanged."""
        self._writer.flush()
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for table in (agencies, persons, codes, seen_requests, exchange_records):
                out[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        return out

    # -- start-up and shut-down ---------------------------------------------------------
    def start(self) -> None:
        """Start now rather than on the first request: derive the keys and restore from the log the
        records a crash lost, so they are there before anyone asks (the web server's start does this)."""
        self._start()

    def _start(self) -> None:
        if self._ready:
            return
        with self._start_lock:
            if self._ready:
                return
            self._codes.deriver()
            self._records.reconcile(self._log(), self._agencies.find)
            if self._head_interval > 0:
                self._head_thread = threading.Thread(target=self._sign_heads, name="kojin-hub-heads", daemon=True)
                self._head_thread.start()
            self._ready = True

    def _sign_heads(self) -> None:
        """Sign a tree head every interval while the log grows: what auditors and people check against."""
        signed = -1
        while not self._head_stop.wait(self._head_interval):
            try:
                exchange_log = self._log()
                size = exchange_log.size()
                if size != signed:
                    exchange_log.sign_tree_head()
                    signed = size
            except Exception as exc:  # the log's store is down; the next tick tries again
                log.warning("signing a tree head failed: %s", type(exc).__name__)

    def close(self) -> None:
        self._head_stop.set()
        if self._head_thread is not None:
            self._head_thread.join()
        self._writer.close()
        self._readers.close()
        self._transport.close()
