"""The hub's §23 records (情報提供等の記録) and the request ids they spend.

Every statement on ``exchange_records`` and ``seen_requests`` is here: an
answered exchange writes one row to each in the same commit, so the two
tables are one aggregate. The rows hold nothing the exchange's leaf does
not, so they are committed behind the answer without an fsync and rebuilt
from the log on start (:meth:`ExchangeRecords.reconcile`); a clinic's view is
the one record committed durably on its own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from kojin.core.group_commit import Done, GroupCommit, Row, ThreadReaders
from kojin.hub.agencies import AgencyEntry
from kojin.hub.domain import LEAF_KIND, ExchangeRequest, Outcome, ProvisionAnswer
from kojin.hub.steps import ExchangeLogPort
from kojin.hub.store import exchange_records, seen_requests

log = logging.getLogger("kojin.hub")

# After a crash, hub records may lag the log by the exchanges in flight; this
# many leaves before the last recorded one are re-checked on start-up.
_RECONCILE_MARGIN = 4096


def record_rows(
    request: ExchangeRequest,
    requester: AgencyEntry,
    provider: AgencyEntry,
    answer: ProvisionAnswer,
    index: int,
    logged: datetime,
) -> list[Row]:
    """An answered exchange's rows: its request id spent, and its record."""
    return [
        (seen_requests, _seen_row(request.requester, request.request_id, logged)),
        (
            exchange_records,
            _record_row(
                request.request_id,
                requester.agency_id,
                requester.name,
                provider.agency_id,
                provider.name,
                request.task,
                request.item,
                request.time,
                answer.provided_at_ms,
                answer.outcome,
                index,
                logged,
            ),
        ),
    ]


class ExchangeRecords:
    """Reads and writes the hub's records; answered exchanges' rows go through the hub's group commit."""

    def __init__(self, engine: Engine, readers: ThreadReaders, writer: GroupCommit) -> None:
        self._engine = engine
        self._readers = readers
        self._writer = writer

    def used(self, requester: str, request_id: str) -> bool:
        """Whether the requester's request id is spent."""
        return (
            self._readers.first(
                "SELECT 1 FROM seen_requests WHERE requester = ? AND request_id = ?", (requester, request_id)
            )
            is not None
        )

    def used_of(self, requester: str, request_ids: Sequence[str]) -> set[str]:
        """Which of a batch's request ids the requester has spent (one statement)."""
        return {
            str(r)
            for (r,) in self._readers.select_in(
                "seen_requests",
                ("request_id",),
                "request_id",
                request_ids,
                where="requester = ?",
                params=(requester,),
            )
        }

    def write_later(self, rows: Sequence[Row], done: Done) -> None:
        """Queue rows for the next commit, without an fsync; ``done(error)`` once it is in."""
        self._writer.write_later(rows, done)

    def record_view(
        self,
        *,
        viewer: str,
        viewer_name: str,
        holder: str,
        holder_name: str,
        task: str,
        item: str,
        request_id: str,
        now: float,
        provided_ms: int,
        index: int,
    ) -> None:
        """A clinic's view, committed durably at once.

        Unlike an exchange's record: the viewer is a clinic, not a registered
        agency, so a restart could not rebuild this record from the leaf.
        """
        logged = datetime.now(UTC)
        with self._engine.begin() as conn:
            conn.execute(insert(seen_requests).values(_seen_row(viewer[:40], request_id, logged)))
            conn.execute(
                insert(exchange_records).values(
                    _record_row(
                        request_id,
                        viewer[:40],
                        viewer_name[:200],
                        holder[:40],
                        holder_name[:200],
                        task[:200],
                        item[:200],
                        int(now),
                        provided_ms,
                        Outcome.ANSWERED,
                        index,
                        logged,
                    )
                )
            )

    def records(self, *, limit: int = 100, after: int = 0) -> list[dict[str, Any]]:
        """The hub's §23 records, oldest first (including every exchange answered so far)."""
        self._writer.flush()
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(exchange_records)
                .where(exchange_records.c.record_id > after)
                .order_by(exchange_records.c.record_id)
                .limit(limit)
            ).all()
        return [dict(r._mapping) for r in rows]

    def reconcile(self, exchange_log: ExchangeLogPort, find_agency: Callable[[str], AgencyEntry | None]) -> None:
        """Record exchanges whose leaf is in the log but whose §23 record was lost in a crash."""
        size = exchange_log.size()
        with self._engine.connect() as conn:
            last = conn.execute(select(func.max(exchange_records.c.leaf_index))).scalar()
            start = 0 if last is None else max(0, int(last) + 1 - _RECONCILE_MARGIN)
            recorded = {
                int(i)
                for (i,) in conn.execute(
                    select(exchange_records.c.leaf_index).where(exchange_records.c.leaf_index >= start)
                )
            }
        missing: list[list[Row]] = []
        for index in range(start, size):
            if index in recorded:
                continue
            rows = _restored_rows(exchange_log, index, find_agency)
            if rows is not None:
                missing.append(rows)
        restored = self._restore(missing)
        if restored:
            log.warning("restored %d hub exchange records from the exchange log", restored)

    def _restore(self, missing: list[list[Row]]) -> int:
        """Write the restored exchanges' rows; how many were written."""
        if not missing:
            return 0
        # All in one commit; should one clash (restored by another process
        # meanwhile), each goes on its own.
        try:
            self._writer.write([row for rows in missing for row in rows])
            return len(missing)
        except IntegrityError:
            restored = 0
            for rows in missing:
                try:
                    self._writer.write(rows)
                    restored += 1
                except IntegrityError:
                    continue
            return restored


def _restored_rows(
    exchange_log: ExchangeLogPort, index: int, find_agency: Callable[[str], AgencyEntry | None]
) -> list[Row] | None:
    """The rows an answered exchange's leaf stands for; None for any other leaf."""
    try:
        leaf = json.loads(exchange_log.leaf_data(index))
    except ValueError:
        return None
    if not isinstance(leaf, dict) or leaf.get("kojin") != LEAF_KIND or leaf.get("outcome") == "refused":
        return None
    requester = find_agency(str(leaf.get("requester")))
    provider = find_agency(str(leaf.get("provider")))
    if requester is None or provider is None:
        return None
    now = datetime.now(UTC)
    return [
        (
            exchange_records,
            _record_row(
                leaf["request_id"],
                requester.agency_id,
                requester.name,
                provider.agency_id,
                provider.name,
                leaf["task"],
                leaf["item"],
                leaf["time"],
                leaf["provided_at"],
                Outcome(leaf["outcome"]),
                index,
                now,
            ),
        ),
        (seen_requests, _seen_row(requester.agency_id, leaf["request_id"], now)),
    ]


def _seen_row(requester: str, request_id: str, seen: datetime) -> dict[str, Any]:
    return {"requester": requester, "request_id": request_id, "seen_at": seen}


def _record_row(
    request_id: str,
    requester_id: str,
    requester_name: str,
    provider_id: str,
    provider_name: str,
    task: str,
    item: str,
    requested_s: float,
    provided_ms: float,
    outcome: Outcome,
    index: int,
    logged: datetime,
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "requester_id": requester_id,
        "requester_name": requester_name,
        "provider_id": provider_id,
        "provider_name": provider_name,
        "task": task,
        "item": item,
        "requested_at": _dt(requested_s),
        "provided_at": _dt(provided_ms / 1000),
        "outcome": outcome.value,
        "withheld": outcome is Outcome.WITHHELD,
        "leaf_index": index,
        "logged_at": logged,
    }


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
