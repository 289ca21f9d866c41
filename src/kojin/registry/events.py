"""The register's events for other parties and their outbox (イベントの送信箱).

A change writes its event into the outbox in the change's own transaction;
delivery to the bus comes after the commit, so a handler that fails leaves the
event pending instead of undoing the change or losing the event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from kojin.core.events import Event, EventBus
from kojin.registry.store import outbox

__all__ = ["ADDRESS_CHANGED", "DECEASED", "MOVED_OUT", "NAME_CHANGED", "NUMBER_CHANGED", "Outbox", "emit"]

# Events other parties subscribe to.
ADDRESS_CHANGED = "registry.address_changed"
NAME_CHANGED = "registry.name_changed"
MOVED_OUT = "registry.moved_out"
DECEASED = "registry.deceased"
# The payload names the person only; the numbers stay with J-LIS.
NUMBER_CHANGED = "registry.number_changed"


def emit(conn: Connection, name: str, payload: dict[str, Any]) -> None:
    """Put an event in the outbox, inside ``conn``'s transaction."""
    conn.execute(
        insert(outbox).values(name=name, payload=json.dumps(payload, ensure_ascii=False), created_at=datetime.now(UTC))
    )


class Outbox:
    """Delivers the outbox's pending events to the bus."""

    def __init__(self, engine: Engine, bus: EventBus) -> None:
        self.engine = engine
        self.bus = bus

    def dispatch(self) -> int:
        """Deliver pending outbox events; an event whose handler fails stays pending."""
        delivered = 0
        with self.engine.connect() as conn:
            pending = conn.execute(
                select(outbox.c.id, outbox.c.name, outbox.c.payload)
                .where(outbox.c.delivered_at.is_(None))
                .order_by(outbox.c.id)
            ).all()
        for row in pending:
            if self.bus.has_subscribers(row.name):
                self.bus.publish(Event(row.name, json.loads(row.payload)))
            with self.engine.begin() as conn:
                conn.execute(update(outbox).where(outbox.c.id == row.id).values(delivered_at=datetime.now(UTC)))
            delivered += 1
        return delivered
