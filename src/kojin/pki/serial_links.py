"""Serial links on reissue (シリアル番号の紐付け): which newer certificate replaces an older one.

A relying party that knew a person by an old serial follows the chain to the
current one. Links join only certificates of the same person and kind, each
certificate has at most one successor and one predecessor, and the chain never
closes a cycle. Turning a serial into a person is :mod:`kojin.pki.linkage`'s
work, not this module's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from kojin.core.errors import Conflict
from kojin.pki import reasons
from kojin.pki.domain import parse_serial_key, serial_key
from kojin.pki.errors import unknown_serial
from kojin.pki.store import certificates, serial_links

_MAX_LINK_HOPS: Final = 10_000


def _already_linked(field: str) -> Conflict:
    return reasons.ALREADY_LINKED.error(field=field)


def _successor(conn: Connection, key: str) -> str | None:
    found = conn.execute(select(serial_links.c.new_serial).where(serial_links.c.old_serial == key)).scalar()
    return None if found is None else str(found)


def _reaches(conn: Connection, start: str, target: str) -> bool:
    key: str | None = start
    for _ in range(_MAX_LINK_HOPS):
        if key is None:
            return False
        if key == target:
            return True
        key = _successor(conn, key)
    return True  # treat an absurdly long chain as a cycle


def _follow(conn: Connection, start: str) -> str:
    key = start
    for _ in range(_MAX_LINK_HOPS):
        successor = _successor(conn, key)
        if successor is None:
            return key
        key = successor
    raise RuntimeError("serial link chain too long")


_KindAndHolder = Row[Any, Any, Any]  # serial, kind, juminhyo_code


def _locked_pair(conn: Connection, old_key: str, new_key: str) -> tuple[_KindAndHolder, _KindAndHolder]:
    """Both certificates' kind and holder, their rows locked for this transaction."""
    # A no-op write (see CrlPublisher.lock) so two links made at once cannot
    # close a cycle between them.
    conn.execute(
        update(certificates).where(certificates.c.serial.in_([old_key, new_key])).values(status=certificates.c.status)
    )
    rows = {
        row.serial: row
        for row in conn.execute(
            select(
                certificates.c.serial,
                certificates.c.kind,
                certificates.c.juminhyo_code,
            ).where(certificates.c.serial.in_([old_key, new_key]))
        )
    }
    if old_key not in rows:
        raise unknown_serial("old_serial")
    if new_key not in rows:
        raise unknown_serial("new_serial")
    return rows[old_key], rows[new_key]


def _check_may_link(conn: Connection, old_key: str, new_key: str) -> None:
    old, new = _locked_pair(conn, old_key, new_key)
    # Linking two people's certificates is exactly the wrong-person
    # link the real system suffered; refuse it outright.
    if old.juminhyo_code != new.juminhyo_code or old.kind != new.kind:
        raise reasons.LINK_MISMATCH.error()
    if _successor(conn, old_key) is not None:
        raise _already_linked("old_serial")
    if conn.execute(select(serial_links.c.old_serial).where(serial_links.c.new_serial == new_key)).first():
        raise _already_linked("new_serial")
    if _reaches(conn, new_key, old_key):
        raise reasons.LINK_CYCLE.error()


class SerialLinks:
    """The chain of serials a person's certificate of one kind went through."""

    def __init__(self, engine: Engine, *, now: Callable[[], datetime]) -> None:
        self.engine = engine
        self._now = now

    def link(self, old_serial: int, new_serial: int) -> None:
        """Record that ``new_serial`` replaces ``old_serial`` (same person, same kind)."""
        old_key, new_key = serial_key(old_serial), serial_key(new_serial)
        if old_key == new_key:
            raise reasons.LINK_TO_SELF.error()
        try:
            with self.engine.begin() as conn:
                _check_may_link(conn, old_key, new_key)
                conn.execute(insert(serial_links).values(old_serial=old_key, new_serial=new_key, linked_at=self._now()))
        except IntegrityError:
            raise _already_linked("old_serial") from None

    def current(self, old_serial: int) -> int:
        """The newest serial a (possibly reissued) certificate's serial leads to."""
        key = serial_key(old_serial)
        with self.engine.connect() as conn:
            if conn.execute(select(certificates.c.serial).where(certificates.c.serial == key)).first() is None:
                raise unknown_serial()
            return parse_serial_key(_follow(conn, key))
