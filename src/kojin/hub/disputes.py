"""Codes whose link to a person that person disputed (ひも付けの誤りの申し出).

A disputed code is refused at once on every path that would act on the link:
an exchange about it (either side's code), the eligibility service's check,
a clinic's view. The set is tiny (disputes are rare), so the exchange path
asks a copy in memory rather than the store: a change made through this hub
is in the copy at once, and one made by another process (a supervisor's
command at a terminal) is read within :data:`REFRESH_S`. Lifting late only
keeps a link suspended a moment longer; the portal, which suspends, runs in
the hub's process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from kojin.hub.store import disputed_codes

REFRESH_S = 1.0


class LinkState(StrEnum):
    SUSPENDED = "suspended"  # the person said it is not them; a supervisor has not decided
    RETIRED = "retired"  # a supervisor found it wrong: never used again


class DisputedCodes:
    """The disputed codes, in the store and in a copy this process reads."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[str, LinkState] = {}
        self._read_at = float("-inf")

    def state(self, code: str) -> LinkState | None:
        if self._clock() - self._read_at > REFRESH_S:
            self.reload()
        return self._states.get(code)

    def disputed(self, code: str) -> bool:
        return self.state(code) is not None

    def reload(self) -> None:
        """Read the store now (a change made by another process is otherwise seen within a second)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(disputed_codes.c.code, disputed_codes.c.state)).all()
        with self._lock:
            self._states = {str(code): LinkState(state) for code, state in rows}
            self._read_at = self._clock()

    def suspend(self, agency_id: str, code: str) -> None:
        """Suspend the link (idempotent; a retired code stays retired)."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(disputed_codes).values(
                        code=code, agency_id=agency_id, state=LinkState.SUSPENDED.value, since=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            pass  # disputed before
        self.reload()

    def lift(self, code: str) -> None:
        """The link was right: exchanges about the code go through again (a retired code stays retired)."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(disputed_codes).where(
                    disputed_codes.c.code == code, disputed_codes.c.state == LinkState.SUSPENDED.value
                )
            )
        self.reload()

    def retire(self, code: str) -> None:
        """The link was wrong: the code stays refused for good and no longer names the person."""
        with self._engine.begin() as conn:
            conn.execute(
                update(disputed_codes)
                .where(disputed_codes.c.code == code)
                .values(state=LinkState.RETIRED.value, since=datetime.now(UTC))
            )
        self.reload()
