"""The composition root (bootstrap): builds every party and wires them together.

``kojin up``, the CLI, the tests and the benchmarks all call :func:`build`, so
there is exactly one way the system is assembled. Each party gets the engine of
its own store and nothing else; parties reach one another only through the
services handed to them here and through the event bus.
"""

from __future__ import annotations

from dataclasses import dataclass

from kojin.core.config import Settings
from kojin.core.db import Database, register_party
from kojin.core.events import EventBus
from kojin.corporate.service import CorporateRegister
from kojin.numbering.service import NumberingService
from kojin.registry.service import RegisterService

register_party("registry", "kojin.registry")
register_party("numbering", "kojin.numbering")
register_party("corporate", "kojin.corporate")


@dataclass
class Kojin:
    """Every party of one kojin installation."""

    settings: Settings
    db: Database
    bus: EventBus
    numbering: NumberingService
    register: RegisterService
    corporate: CorporateRegister

    def close(self) -> None:
        self.db.dispose()


def build(settings: Settings | None = None, *, migrate: bool = True) -> Kojin:
    """Assemble kojin; with ``migrate`` the stores are brought up to date first."""
    settings = settings or Settings()
    db = Database(settings)
    if migrate:
        db.migrate_all()
    bus = EventBus()
    numbering = NumberingService(db.engine("numbering"))
    if migrate:
        numbering.ensure_key()
    register = RegisterService(db.engine("registry"), numbering, bus)
    corporate = CorporateRegister(db.engine("corporate"))
    return Kojin(settings, db, bus, numbering, register, corporate)
