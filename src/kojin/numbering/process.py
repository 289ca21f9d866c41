"""J-LIS numbering in a process of its own, for bulk enrolment (一斉付番).

J-LIS is a separate party; in the embedded default it shares the process with
everyone else. For bulk work that wastes the second core: the register spends
its time in SQLite inserts, numbering in HMACs and its own inserts, and threads
in one interpreter serialise on the GIL. ``NumberingProcess`` runs the numbering
service in a spawned child over the same numbering store, so J-LIS numbers the
next part of a batch while the register writes the part before it.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor

from kojin.core.config import Settings

_service = None


def _start(settings: Settings) -> None:
    global _service
    from kojin.core.db import Database
    from kojin.numbering.service import NumberingService

    _service = NumberingService(Database(settings).engine("numbering"))


def _issue_persons(count: int) -> list[tuple[str, str]]:
    assert _service is not None
    return _service.issue_persons(count)


class NumberingProcess:
    """A numbering service in a child process; ``submit`` returns a future."""

    def __init__(self, settings: Settings) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_start, initargs=(settings,)
        )

    def submit(self, count: int) -> Future[list[tuple[str, str]]]:
        """Ask for ``count`` new people's codes and numbers; answered in order."""
        return self._pool.submit(_issue_persons, count)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
