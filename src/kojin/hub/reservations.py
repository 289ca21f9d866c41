"""Request ids (処理通番) in flight: held in this process's memory until their row is in the store.

A replay is refused whether its first use is still in flight or already
recorded. The hold comes first and the store is asked after, so an exchange
with the same id is always either still held here or already in the store
(its row is written before its hold is released). One process runs the hub,
so memory is the place for what is in flight.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from kojin.core.errors import KojinError
from kojin.core.group_commit import Row
from kojin.hub import reasons
from kojin.hub.domain import ExchangeRequest
from kojin.hub.leaves import Attempt
from kojin.hub.records import ExchangeRecords

log = logging.getLogger("kojin.hub")


def replayed() -> KojinError:
    return reasons.REPLAYED_REQUEST.error()


class RequestIds:
    """The (requester, request_id) pairs of exchanges in flight."""

    def __init__(self, records: ExchangeRecords) -> None:
        self._records = records
        self._inflight: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def reserve(self, request: ExchangeRequest, attempt: Attempt) -> None:
        """Hold the request id, then refuse it if the store has it."""
        self.hold(request, attempt)
        if self._records.used(request.requester, request.request_id):
            raise replayed()

    def hold(self, request: ExchangeRequest, attempt: Attempt) -> None:
        """Reserve the request id in memory (refused if in flight); the store is asked after, not before."""
        key = (request.requester, request.request_id)
        with self._lock:
            clash = key in self._inflight
            if not clash:
                self._inflight.add(key)
                attempt.reserved = key
        if clash:
            raise replayed()

    def spent(self, requester: str, request_ids: Sequence[str]) -> set[str]:
        """Which of a batch's request ids the store has (asked once the batch holds them all)."""
        return self._records.used_of(requester, request_ids)

    @contextmanager
    def holding(self, attempts: list[Attempt]) -> Iterator[None]:
        """Release the request ids the attempts hold in memory when their exchange ends.

        An exchange that recorded its row has already let go (see :meth:`spend`).
        """
        try:
            yield
        except GeneratorExit:
            # Abandoned (its task cancelled) once the leaf may be in the log:
            # the request id stays spent; a restart rebuilds the rest.
            for attempt in attempts:
                if attempt.leaf_logged:
                    attempt.reserved = None
            raise
        finally:
            held = [a.reserved for a in attempts if a.reserved is not None]
            if held:
                with self._lock:
                    self._inflight.difference_update(held)

    def spend(self, rows: Sequence[Row], reserved: list[tuple[str, str]]) -> None:
        """Write logged exchanges' rows behind their answers; their ids stay held until the rows are in."""
        self._records.write_later(rows, lambda error: self._release(reserved, error))

    def _release(self, reserved: Sequence[tuple[str, str]], error: BaseException | None) -> None:
        if error is not None:
            # Rebuilt from the leaves on the next start; until then the ids stay reserved here.
            log.error("hub records of %d logged exchanges not written: %s", len(reserved), type(error).__name__)
            return
        if reserved:
            with self._lock:
                self._inflight.difference_update(reserved)
