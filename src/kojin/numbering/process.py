"""J-LIS numbering in a process of its own, for bulk enrolment (一斉付番).

J-LIS is a separate party; in the embedded default it shares the process with
everyone else. For bulk work that wastes the second core: the register spends
its time in SQLite inserts, numbering in HMACs and its own inserts, and threads
in one interpreter serialise on the GIL. ``NumberingProcess`` runs the numbering
service in a spawned child over the same numbering store, so a batch is numbered
while the register writes the previous parts of it.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from kojin.core.config import Settings

_service = None


def _start(settings: Settings) -> None:
    global _service
    from kojin.core.db import Database
    from kojin.numbering.service import NumberingService

    _service = NumberingService(Database(settings).engine("numbering"))


def _assign_many(codes: Sequence[str]) -> list[str]:
    assert _service is not None
    return _service.assign_many(codes, validated=True)


class NumberingProcess:
    """A numbering service in a child process; ``submit`` returns a future."""

    def __init__(self, settings: Settings) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_start, initargs=(settings,)
        )

    def submit(self, codes: Sequence[str]) -> Future[list[str]]:
        return self._pool.submit(_assign_many, list(codes))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
