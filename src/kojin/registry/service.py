"""Counter work at the municipality (窓口業務): registering, moving, renaming.

Every operation validates everything first, then writes the resident, the
history entry and any event for other parties in one transaction: either all
of it is recorded or none of it is.

:class:`RegisterService` is the register's one face for the app, the other
parties and the tests; the work is in the modules it puts together: the
checks against Japan Post's data (:mod:`~kojin.registry.checks`),
registration (:mod:`~kojin.registry.registration`), 異動
(:mod:`~kojin.registry.changes`), bulk enrolment
(:mod:`~kojin.registry.enrolment`), the event outbox
(:mod:`~kojin.registry.events`), the read side (:mod:`~kojin.registry.queries`)
and the statements on the register's tables (:mod:`~kojin.registry.records`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date

from sqlalchemy import Engine

from kojin.core.events import EventBus
from kojin.numbering.process import NumberingProcess
from kojin.numbering.service import NumberingService
from kojin.registry import checks
from kojin.registry.changes import Changes
from kojin.registry.domain import Address, CardProof, EventKind, HistoryEntry, PersonDetails, Resident, Status
from kojin.registry.enrolment import Enrolment, HouseholdDraft, enrolment_progress
from kojin.registry.events import ADDRESS_CHANGED, DECEASED, MOVED_OUT, NAME_CHANGED, NUMBER_CHANGED, Outbox
from kojin.registry.moves import Moves, MovingHousehold
from kojin.registry.queries import RegisterQueries
from kojin.registry.registration import CardHolder, Registrar, Registration

__all__ = [
    "ADDRESS_CHANGED",
    "DECEASED",
    "MOVED_OUT",
    "NAME_CHANGED",
    "NUMBER_CHANGED",
    "HouseholdDraft",
    "MovingHousehold",
    "RegisterService",
    "Registration",
]


class RegisterService:
    """住民基本台帳: the municipality's party."""

    def __init__(self, engine: Engine, numbering: NumberingService, bus: EventBus) -> None:
        self.engine = engine
        self.numbering = numbering
        self.bus = bus
        self._outbox = Outbox(engine, bus)
        self._registrar = Registrar(engine, numbering)
        self._changes = Changes(engine, numbering, lambda: self.dispatch_events())
        self._enrolment = Enrolment(engine, numbering)
        self._moves = Moves(engine, numbering)
        self._card_challenge: Callable[[], str] | None = None
        self._queries = RegisterQueries(engine)

    # -- validation ----------------------------------------------------------
    def check_details(self, details: PersonDetails, municipality_code: str, today: date) -> PersonDetails:
        """Validate a person's details against the rules and Japan Post's data."""
        return checks.check_details(details, municipality_code, today)

    def check_address(self, address: Address, municipality_code: str) -> Address:
        return checks.check_address(address, municipality_code)

    # -- events --------------------------------------------------------------
    def dispatch_events(self) -> int:
        """Deliver pending outbox events; an event whose handler fails stays pending."""
        return self._outbox.dispatch()

    # -- registration ----------------------------------------------------------
    def register(
        self,
        details: PersonDetails,
        *,
        municipality_code: str,
        kind: EventKind = EventKind.BIRTH,
        effective_date: date | None = None,
        household_id: int | None = None,
        relationship: str = "世帯主",
        juminhyo_code: str | None = None,
        card: CardProof | None = None,
        clerk: str = "clerk",
        today: date | None = None,
    ) -> Registration:
        """Register a birth or a move-in, and ask J-LIS for the number (walk 1).

        A person moving in from another municipality keeps their 住民票コード
        (and so their number) when they are that code's person: its last record
        names them, or ``card``, their card read at the counter, is the code's.
        A newborn gets a new code.
        """
        return self._registrar.register(
            details,
            municipality_code=municipality_code,
            kind=kind,
            effective_date=effective_date,
            household_id=household_id,
            relationship=relationship,
            juminhyo_code=juminhyo_code,
            card=card,
            clerk=clerk,
            today=today,
        )

    def confirm_cards_with(self, card_holder: CardHolder, challenge: Callable[[], str]) -> None:
        """How a card read at the counter is checked (J-LIS card authentication, wired by the
        application), and where the counter's one-time challenges for the card come from."""
        self._registrar.card_holder = card_holder
        self._card_challenge = challenge

    def card_challenge(self) -> str:
        """A one-time challenge for the card of a person moving in, to sign after its PIN."""
        if self._card_challenge is None:
            raise RuntimeError("the register was built without J-LIS card authentication")
        return self._card_challenge()

    def move_in_households(
        self,
        households: Sequence[MovingHousehold],
        *,
        municipality_code: str,
        clerk: str = "clerk",
        effective_date: date | None = None,
        today: date | None = None,
    ) -> list[int]:
        """転入 of many households at once, each mover checked against their code's last record.

        One transaction: the first mover refused stops the batch and nothing of it
        is written. Returns the new resident ids in order.
        """
        return self._moves.move_in(
            households, municipality_code=municipality_code, clerk=clerk, effective_date=effective_date, today=today
        )

    def enroll_households(
        self,
        drafts: Iterable[HouseholdDraft],
        *,
        municipality_code: str,
        clerk: str = "seed",
        today: date | None = None,
        validated: bool = False,
        numbering_process: NumberingProcess | None = None,
    ) -> int:
        """Bulk enrolment (一斉付番): many households in one transaction.

        ``validated`` skips the per-person checks for drafts built from Japan
        Post's own data. See :meth:`enroll_batches` for many batches.
        """
        return self.enroll_batches(
            [list(drafts)],
            municipality_code=municipality_code,
            clerk=clerk,
            today=today,
            validated=validated,
            numbering_process=numbering_process,
        )

    def enroll_batches(
        self,
        batches: Iterable[Sequence[HouseholdDraft]],
        *,
        municipality_code: str,
        clerk: str = "seed",
        today: date | None = None,
        validated: bool = False,
        numbering_process: NumberingProcess | None = None,
        on_batch: Callable[[int], None] | None = None,
        run: str | None = None,
    ) -> int:
        """Bulk enrolment of batch after batch, one register and one J-LIS transaction each.

        J-LIS hands out codes and numbers part by part inside its transaction;
        with a numbering process it works on the next part while the register
        writes this one, and starts the next batch while the register commits
        this one. J-LIS commits a batch before the register does, so the
        register never holds a code J-LIS has not durably numbered; a failed
        batch is rolled back at both. ``on_batch`` is told the running total.
        ``run`` names a job whose progress each batch records in its own
        transaction (see :meth:`enrolment_progress`).
        """
        return self._enrolment.enroll_batches(
            batches,
            municipality_code=municipality_code,
            clerk=clerk,
            today=today,
            validated=validated,
            numbering_process=numbering_process,
            on_batch=on_batch,
            run=run,
        )

    def enrolment_progress(self, run: str) -> tuple[int, int]:
        """The households and people the bulk job ``run`` has enrolled so far."""
        return enrolment_progress(self.engine, run)

    # -- changes -----------------------------------------------------------------
    def move_within(
        self,
        resident_id: int,
        address: Address,
        *,
        effective_date: date | None = None,
        whole_household: bool = False,
        clerk: str = "clerk",
        today: date | None = None,
    ) -> list[Resident]:
        """転居: a new address in the same municipality."""
        return self._changes.move_within(
            resident_id,
            address,
            effective_date=effective_date,
            whole_household=whole_household,
            clerk=clerk,
            today=today,
        )

    def move_out(
        self,
        resident_id: int,
        *,
        destination: str,
        effective_date: date | None = None,
        whole_household: bool = False,
        clerk: str = "clerk",
        today: date | None = None,
    ) -> list[Resident]:
        """転出: the person leaves the municipality; the record is kept, marked moved out."""
        return self._changes.move_out(
            resident_id,
            destination=destination,
            effective_date=effective_date,
            whole_household=whole_household,
            clerk=clerk,
            today=today,
        )

    def change_name(
        self,
        resident_id: int,
        *,
        name: str,
        kana: str,
        effective_date: date | None = None,
        clerk: str = "clerk",
        today: date | None = None,
    ) -> Resident:
        """氏名変更 (marriage, adoption, court permission …)."""
        return self._changes.change_name(
            resident_id, name=name, kana=kana, effective_date=effective_date, clerk=clerk, today=today
        )

    def record_death(
        self, resident_id: int, *, effective_date: date, clerk: str = "clerk", today: date | None = None
    ) -> Resident:
        """死亡: the record is closed (消除) and kept."""
        return self._changes.record_death(resident_id, effective_date=effective_date, clerk=clerk, today=today)

    def change_residence_status(
        self,
        resident_id: int,
        *,
        residence_status: str,
        period_of_stay_until: date | None,
        effective_date: date | None = None,
        clerk: str = "clerk",
        today: date | None = None,
    ) -> Resident:
        """在留資格変更 for a foreign resident."""
        return self._changes.change_residence_status(
            resident_id,
            residence_status=residence_status,
            period_of_stay_until=period_of_stay_until,
            effective_date=effective_date,
            clerk=clerk,
            today=today,
        )

    def change_number(self, resident_id: int, *, reason: str, clerk: str = "clerk") -> str:
        """番号法 §7(2): the mayor designates a new number; returns it for the notice.

        Nothing in the register changes but a history entry that says the
        number was changed; the numbers themselves live only with J-LIS.
        """
        return self._changes.change_number(resident_id, reason=reason, clerk=clerk)

    # -- reading -----------------------------------------------------------------
    def get(self, resident_id: int) -> Resident:
        return self._queries.get(resident_id)

    def find_by_code(self, juminhyo_code: str) -> Resident | None:
        """The record of a 住民票コード, the current one first (what a public relying party learns at login)."""
        return self._queries.find_by_code(juminhyo_code)

    def household_members(self, household_id: int) -> list[Resident]:
        return self._queries.household_members(household_id)

    def history_of(self, resident_id: int) -> list[HistoryEntry]:
        return self._queries.history_of(resident_id)

    def iter_residents(
        self,
        *,
        municipality_code: str | None = None,
        status: Status | None = None,
        batch: int = 2000,
        after: int = 0,
    ) -> Iterator[Resident]:
        """Stream residents in id order without holding them all in memory."""
        return self._queries.iter_residents(
            municipality_code=municipality_code, status=status, batch=batch, after=after
        )

    def find(
        self, *, kana: str | None = None, birth_date: date | None = None, name: str | None = None
    ) -> list[Resident]:
        return self._queries.find(kana=kana, birth_date=birth_date, name=name)

    def count(self, municipality_code: str | None = None) -> int:
        return self._queries.count(municipality_code)
