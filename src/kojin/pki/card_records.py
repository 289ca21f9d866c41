"""J-LIS's record of the cards it has issued (個人番号カードの発行記録) and of counter PIN resets.

The tables sit in the CA's store, beside the certificates they name. The
counter (:mod:`kojin.card.issuance`) reads and writes them only through
:class:`CardRecords`, so no other party opens the CA's store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, insert, select, update

from kojin.pki.store import cards, pin_resets


@dataclass(frozen=True)
class CardRecord:
    """One issued card as J-LIS records it; serials are the certificates' serial numbers."""

    card_id: str
    juminhyo_code: str
    status: str  # active | to_return | lost | revoked | replaced
    algorithm: str
    auth_serial: int
    sign_serial: int | None
    issued_on: date
    expires_on: date
    chip_stale_since: datetime | None = None


class CardRecords:
    """The ``cards`` and ``pin_resets`` tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        *,
        card_id: str,
        juminhyo_code: str,
        algorithm: str,
        auth_serial: int,
        sign_serial: int | None,
        issued_on: date,
        expires_on: date,
    ) -> None:
        """Record a card handed over today, active."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(cards).values(
                    card_id=card_id,
                    juminhyo_code=juminhyo_code,
                    status="active",
                    algorithm=algorithm,
                    auth_serial=str(auth_serial),
                    sign_serial=str(sign_serial) if sign_serial else None,
                    issued_on=issued_on,
                    expires_on=expires_on,
                    status_changed_at=datetime.now(UTC),
                )
            )

    def set_status(self, card_id: str, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(cards)
                .where(cards.c.card_id == card_id)
                .values(status=status, status_changed_at=datetime.now(UTC))
            )

    def get(self, card_id: str) -> CardRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(cards).where(cards.c.card_id == card_id)).first()
        if row is None:
            return None
        return CardRecord(
            card_id=row.card_id,
            juminhyo_code=row.juminhyo_code,
            status=row.status,
            algorithm=row.algorithm,
            auth_serial=int(row.auth_serial),
            sign_serial=int(row.sign_serial) if row.sign_serial else None,
            issued_on=row.issued_on,
            expires_on=row.expires_on,
            chip_stale_since=row.chip_stale_since,
        )

    def active_ids(self, juminhyo_code: str, *, with_to_return: bool = False) -> list[str]:
        """The person's cards still active (and, asked, those waiting to be returned)."""
        wanted = ("active", "to_return") if with_to_return else ("active",)
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(cards.c.card_id).where(cards.c.juminhyo_code == juminhyo_code, cards.c.status.in_(wanted))
                )
                .scalars()
                .all()
            )

    def mark_chip_stale(self, juminhyo_code: str) -> list[str]:
        """The person's active cards now lag behind the register; the earliest lag is kept. Returns their ids."""
        ids = self.active_ids(juminhyo_code)
        if ids:
            with self.engine.begin() as conn:
                conn.execute(
                    update(cards)
                    .where(cards.c.card_id.in_(ids), cards.c.chip_stale_since.is_(None))
                    .values(chip_stale_since=datetime.now(UTC))
                )
        return ids

    def clear_chip_stale(self, card_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(cards).where(cards.c.card_id == card_id).values(chip_stale_since=None))

    def ids_of(self, juminhyo_code: str) -> list[str]:
        """Every card the person was ever issued, in order of issue."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(cards.c.card_id).where(cards.c.juminhyo_code == juminhyo_code).order_by(cards.c.issued_on)
                )
                .scalars()
                .all()
            )

    def card_for_serial(self, auth_serial: int) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(cards.c.card_id).where(cards.c.auth_serial == str(auth_serial))).scalar()
        return str(found) if found else None

    def record_pin_reset(self, card_id: str, pin: str, clerk: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(pin_resets).values(card_id=card_id, pin=pin, reset_at=datetime.now(UTC), reset_by=clerk)
            )

    def pin_resets(self, card_id: str) -> list[tuple[str, datetime, str]]:
        """(PIN, when, by whom) of every reset of the card, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(pin_resets.c.pin, pin_resets.c.reset_at, pin_resets.c.reset_by)
                .where(pin_resets.c.card_id == card_id)
                .order_by(pin_resets.c.id)
            ).all()
        return [(r.pin, r.reset_at, r.reset_by) for r in rows]
