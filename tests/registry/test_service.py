from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kojin.app import Kojin
from kojin.auth.service import sign_challenge_with_card
from kojin.card.transport import InProcessTransport
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound
from kojin.core.events import Event
from kojin.numbering.domain import make_juminhyo_code
from kojin.registry.domain import Address, CardProof, EventKind, PersonDetails, Sex, Status
from kojin.registry.service import ADDRESS_CHANGED, DECEASED, MOVED_OUT, NAME_CHANGED, HouseholdDraft, Registration
from kojin.registry.store import history, outbox, residents

TODAY = date(2026, 11, 24)
HONGO = Address("1130033", "", "", "", "4-15-14")


def person(
    name: str = "山田　太郎",
    kana: str = "ヤマダ　タロウ",
    born: date = date(1980, 4, 1),
    sex: Sex = Sex.MALE,
    address: Address = HONGO,
    **extra: Any,
) -> PersonDetails:
    return PersonDetails(name, kana, sex, born, address, **extra)


def register(kojin: Kojin, details: PersonDetails | None = None, **kwargs: Any) -> Registration:
    return kojin.register.register(details or person(), municipality_code="13105", today=TODAY, **kwargs)


def counts(kojin: Kojin) -> tuple[int, int, int]:
    with kojin.register.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(residents)).scalar_one(),
            conn.execute(select(func.count()).select_from(history)).scalar_one(),
            kojin.numbering.count(),
        )


def test_birth_registers_and_numbers(kojin: Kojin) -> None:
    reg = register(kojin)
    r = reg.resident
    assert r.address.one_line() == "東京都文京区本郷4-15-14"
    assert r.status is Status.RESIDENT and r.relationship == "世帯主"
    assert kojin.numbering.number_for(r.juminhyo_code) == reg.number_notice
    [entry] = kojin.register.history_of(r.resident_id)
    assert entry.kind is EventKind.BIRTH and entry.effective_date == r.birth_date


def test_name_with_variant_and_ivs_kept_byte_for_byte(kojin: Kojin) -> None:
    name = "葛\U000e0100城　𠮷男"
    r = register(kojin, person(name=name, kana="カツラギ　ヨシオ")).resident
    stored = kojin.register.get(r.resident_id).name
    assert stored.encode("utf-8") == name.encode("utf-8")


def test_household_members(kojin: Kojin) -> None:
    head = register(kojin).resident
    wife = register(
        kojin,
        person("山田　花子", "ヤマダ　ハナコ", date(1982, 6, 1), Sex.FEMALE),
        household_id=head.household_id,
        relationship="妻",
    ).resident
    assert [m.resident_id for m in kojin.register.household_members(head.household_id)] == [
        head.resident_id,
        wife.resident_id,
    ]


@pytest.mark.parametrize(
    ("details", "kwargs", "code"),
    [
        (person(name=""), {}, "name.empty"),
        (person(kana="山田　太郎"), {}, "kana.not_katakana"),
        (person(kana="ﾔﾏﾀﾞ"), {}, "kana.halfwidth"),
        (person(born=date(2027, 1, 1)), {}, "birth_date.future"),
        (person(address=Address("1130033", "", "", "大塚", "1-1")), {}, "postal_code.mismatch"),
        (person(address=Address("1600022", "", "", "", "1-1")), {}, "address.other_municipality"),
        (person(address=Address("9999999", "", "", "", "1-1")), {}, "postal_code.unknown"),
        (person(), {"municipality_code": "99999"}, "municipality_code.unknown"),
        (person(), {"relationship": "子"}, "relationship.needs_household"),
        (person(), {"household_id": 42, "relationship": "子"}, "household.not_found"),
        (person(nationality="VN"), {}, "residence_status.invalid"),
        # Two capital letters, but no country's: user-assigned and reserved codes are refused.
        (person(nationality="ZZ"), {}, "nationality.invalid"),
        (person(nationality="EU"), {}, "nationality.invalid"),
        (person(nationality="jp"), {}, "nationality.invalid"),
    ],
)
def test_bad_input_changes_nothing(kojin: Kojin, details: PersonDetails, kwargs: dict[str, Any], code: str) -> None:
    before = counts(kojin)
    with pytest.raises(KojinError) as err:
        kojin.register.register(details, **{"municipality_code": "13105", "today": TODAY, **kwargs})
    assert err.value.code == code
    assert err.value.field
    assert counts(kojin) == before


def test_duplicate_registration_is_refused(kojin: Kojin) -> None:
    register(kojin)
    before = counts(kojin)
    with pytest.raises(Conflict) as err:
        register(kojin)
    assert err.value.code == "resident.duplicate"
    assert counts(kojin) == before


def test_move_within_records_history_and_event(kojin: Kojin) -> None:
    seen: list[Event] = []
    kojin.bus.subscribe(ADDRESS_CHANGED, seen.append)
    r = register(kojin).resident
    [moved] = kojin.register.move_within(r.resident_id, Address("1120012", "", "", "", "1-2-3"), today=TODAY)
    assert moved.address.town == "大塚"
    assert [e.kind for e in kojin.register.history_of(r.resident_id)] == [EventKind.BIRTH, EventKind.MOVE_WITHIN]
    assert seen == [Event(ADDRESS_CHANGED, {"resident_id": r.resident_id, "juminhyo_code": r.juminhyo_code})]


def test_moving_the_whole_household(kojin: Kojin) -> None:
    head = register(kojin).resident
    child = register(
        kojin,
        person("山田　一郎", "ヤマダ　イチロウ", date(2010, 1, 1)),
        household_id=head.household_id,
        relationship="子",
    ).resident
    moved = kojin.register.move_within(
        head.resident_id, Address("1120012", "", "", "", "1-2-3"), whole_household=True, today=TODAY
    )
    assert {m.resident_id for m in moved} == {head.resident_id, child.resident_id}
    assert all(m.household_id == head.household_id for m in moved)


def test_child_moving_alone_starts_a_household(kojin: Kojin) -> None:
    head = register(kojin).resident
    child = register(
        kojin,
        person("山田　一郎", "ヤマダ　イチロウ", date(2000, 1, 1)),
        household_id=head.household_id,
        relationship="子",
    ).resident
    [moved] = kojin.register.move_within(child.resident_id, Address("1120012", "", "", "", "1-2-3"), today=TODAY)
    assert moved.household_id != head.household_id and moved.relationship == "世帯主"


def test_move_out_and_move_in_elsewhere_keeps_code_and_number(kojin: Kojin) -> None:
    seen: list[Event] = []
    kojin.bus.subscribe(MOVED_OUT, seen.append)
    reg = register(kojin)
    r = reg.resident
    [gone] = kojin.register.move_out(r.resident_id, destination="東京都新宿区", today=TODAY)
    assert gone.status is Status.MOVED_OUT
    assert len(seen) == 1
    back = kojin.register.register(
        person(address=Address("1600022", "", "", "", "1-1-1")),
        municipality_code="13104",
        kind=EventKind.MOVE_IN,
        juminhyo_code=r.juminhyo_code,
        today=TODAY,
    )
    assert back.resident.juminhyo_code == r.juminhyo_code
    assert back.number_notice == reg.number_notice


def test_move_in_while_still_resident_elsewhere_is_refused(kojin: Kojin) -> None:
    r = register(kojin).resident
    with pytest.raises(Conflict) as err:
        kojin.register.register(
            person(address=Address("1600022", "", "", "", "1-1-1")),
            municipality_code="13104",
            kind=EventKind.MOVE_IN,
            juminhyo_code=r.juminhyo_code,
            today=TODAY,
        )
    assert err.value.code == "juminhyo_code.active_elsewhere"


def _moved_out(kojin: Kojin, details: PersonDetails | None = None) -> Registration:
    reg = register(kojin, details)
    kojin.register.move_out(reg.resident.resident_id, destination="東京都新宿区", today=TODAY)
    return reg


def _move_in(kojin: Kojin, details: PersonDetails, code: str) -> Registration:
    return kojin.register.register(
        details, municipality_code="13104", kind=EventKind.MOVE_IN, juminhyo_code=code, today=TODAY
    )


def _everything(kojin: Kojin) -> tuple[int, ...]:
    with kojin.register.engine.connect() as conn:
        return (*counts(kojin), conn.execute(select(func.count()).select_from(outbox)).scalar_one())


SHINJUKU = Address("1600022", "", "", "", "1-1-1")


def test_move_in_with_another_persons_code_is_refused(kojin: Kojin) -> None:
    a = _moved_out(kojin)
    before = _everything(kojin)
    stranger = person("佐藤　花子", "サトウ　ハナコ", date(1990, 7, 7), Sex.FEMALE, SHINJUKU)
    with pytest.raises(Conflict) as err:
        _move_in(kojin, stranger, a.resident.juminhyo_code)
    assert (err.value.code, err.value.field) == ("juminhyo_code.person_mismatch", "juminhyo_code")
    assert "氏名・フリガナ・性別・生年月日" in err.value.message
    # Nothing was written: no resident, history, number or event; A is still the code's last record.
    assert _everything(kojin) == before
    last = kojin.register.find_by_code(a.resident.juminhyo_code)
    assert last is not None and last.resident_id == a.resident.resident_id and last.status is Status.MOVED_OUT
    # One item off is enough: A's twin brother with A's code.
    with pytest.raises(Conflict) as err:
        _move_in(kojin, person("山田　次郎", "ヤマダ　ジロウ", address=SHINJUKU), a.resident.juminhyo_code)
    assert err.value.code == "juminhyo_code.person_mismatch"
    with pytest.raises(Conflict):
        _move_in(kojin, person(born=date(1980, 4, 2), address=SHINJUKU), a.resident.juminhyo_code)
    assert _everything(kojin) == before


def test_move_in_compares_spellings_as_the_matcher_does(kojin: Kojin) -> None:
    a = _moved_out(kojin, person("髙橋　一郎", "タカハシ　イチロウ"))
    # 高/髙, spaces and a long-vowel mark are the same person's name written another way.
    back = _move_in(kojin, person("高橋 一郎", "タカハシ　イチロー", address=SHINJUKU), a.resident.juminhyo_code)
    assert back.number_notice == a.number_notice
    assert back.resident.name == "高橋 一郎"  # kept as written at the new counter


def test_move_in_with_a_code_jlis_never_issued_is_refused(kojin: Kojin) -> None:
    before = _everything(kojin)
    with pytest.raises(NotFound) as err:
        _move_in(kojin, person(address=SHINJUKU), make_juminhyo_code("1234567890"))
    assert err.value.code == "juminhyo_code.unknown"
    # Only J-LIS mints codes: a move-in does not number a code J-LIS never issued.
    assert _everything(kojin) == before
    with pytest.raises(InvalidInput):
        _move_in(kojin, person(address=SHINJUKU), "12345678901")


def _card_read(kojin: Kojin, card_id: str) -> CardProof:
    """The person's card read at the counter: the counter's challenge signed after the PIN."""
    challenge = kojin.register.card_challenge()
    certificate, signature = sign_challenge_with_card(InProcessTransport(kojin.cards.load(card_id)), "1234", challenge)
    return CardProof(challenge, certificate, signature)


def test_a_card_read_at_the_counter_confirms_a_changed_name(kojin: Kojin) -> None:
    a = register(kojin)
    card = kojin.cards.issue(
        a.resident.resident_id, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY
    )
    kojin.register.move_out(a.resident.resident_id, destination="東京都新宿区", today=TODAY)
    married = person("佐藤　太郎", "サトウ　タロウ", address=SHINJUKU)
    with pytest.raises(Conflict):  # by the items alone, another person
        _move_in(kojin, married, a.resident.juminhyo_code)
    back = kojin.register.register(
        married,
        municipality_code="13104",
        kind=EventKind.MOVE_IN,
        juminhyo_code=a.resident.juminhyo_code,
        card=_card_read(kojin, card.card_id),
        today=TODAY,
    )
    assert back.resident.juminhyo_code == a.resident.juminhyo_code and back.number_notice == a.number_notice


def test_a_card_confirms_only_its_own_holders_code(kojin: Kojin) -> None:
    a = _moved_out(kojin)
    b = register(kojin, person("鈴木　花子", "スズキ　ハナコ", date(1992, 2, 2), Sex.FEMALE))
    bs_card = kojin.cards.issue(
        b.resident.resident_id, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY
    )
    before = _everything(kojin)
    with pytest.raises(Conflict) as err:  # B's own card does not make A's code B's
        kojin.register.register(
            person("鈴木　花子", "スズキ　ハナコ", date(1992, 2, 2), Sex.FEMALE, SHINJUKU),
            municipality_code="13104",
            kind=EventKind.MOVE_IN,
            juminhyo_code=a.resident.juminhyo_code,
            card=_card_read(kojin, bs_card.card_id),
            today=TODAY,
        )
    assert err.value.code == "juminhyo_code.card_mismatch"
    assert _everything(kojin) == before


def test_a_card_does_not_change_a_birth_date(kojin: Kojin) -> None:
    a = register(kojin)
    card = kojin.cards.issue(
        a.resident.resident_id, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY
    )
    kojin.register.move_out(a.resident.resident_id, destination="東京都新宿区", today=TODAY)
    before = _everything(kojin)
    with pytest.raises(Conflict) as err:
        kojin.register.register(
            person(born=date(1981, 4, 1), address=SHINJUKU),
            municipality_code="13104",
            kind=EventKind.MOVE_IN,
            juminhyo_code=a.resident.juminhyo_code,
            card=_card_read(kojin, card.card_id),
            today=TODAY,
        )
    assert err.value.code == "juminhyo_code.person_mismatch" and "生年月日" in err.value.message
    assert _everything(kojin) == before


def test_move_in_with_a_deceased_persons_code_is_refused(kojin: Kojin) -> None:
    a = register(kojin)
    kojin.register.record_death(a.resident.resident_id, effective_date=TODAY, today=TODAY)
    before = _everything(kojin)
    with pytest.raises(Conflict) as err:
        _move_in(kojin, person(address=SHINJUKU), a.resident.juminhyo_code)
    assert err.value.code == "juminhyo_code.holder_deceased"
    assert _everything(kojin) == before


def test_rename_and_death(kojin: Kojin) -> None:
    events: list[str] = []
    kojin.bus.subscribe(NAME_CHANGED, lambda e: events.append(e.name))
    kojin.bus.subscribe(DECEASED, lambda e: events.append(e.name))
    r = register(kojin, person("佐藤　花子", "サトウ　ハナコ", sex=Sex.FEMALE)).resident
    renamed = kojin.register.change_name(r.resident_id, name="鈴木　花子", kana="スズキ　ハナコ", today=TODAY)
    assert renamed.name == "鈴木　花子"
    dead = kojin.register.record_death(r.resident_id, effective_date=date(2026, 1, 1), today=TODAY)
    assert dead.status is Status.DECEASED
    assert events == [NAME_CHANGED, DECEASED]
    kinds = [e.kind for e in kojin.register.history_of(r.resident_id)]
    assert kinds == [EventKind.BIRTH, EventKind.NAME_CHANGE, EventKind.DEATH]


def test_a_deceased_resident_cannot_move(kojin: Kojin) -> None:
    r = register(kojin).resident
    kojin.register.record_death(r.resident_id, effective_date=date(2026, 1, 1), today=TODAY)
    before = counts(kojin)
    with pytest.raises(Conflict) as err:
        kojin.register.move_within(r.resident_id, Address("1120012", "", "", "", "1-2-3"), today=TODAY)
    assert err.value.code == "resident.deceased"
    assert counts(kojin) == before


def test_residence_status_change(kojin: Kojin) -> None:
    r = register(
        kojin,
        person(
            "NGUYEN VAN AN",
            "グエン　ヴァン　アン",
            nationality="VN",
            residence_status="留学",
            period_of_stay_until=date(2027, 3, 31),
        ),
    ).resident
    changed = kojin.register.change_residence_status(
        r.resident_id, residence_status="技術・人文知識・国際業務", period_of_stay_until=date(2031, 3, 31), today=TODAY
    )
    assert changed.residence_status == "技術・人文知識・国際業務"
    assert kojin.register.history_of(r.resident_id)[-1].kind is EventKind.RESIDENCE_STATUS_CHANGE
    japanese = register(kojin).resident
    with pytest.raises(InvalidInput):
        kojin.register.change_residence_status(
            japanese.resident_id, residence_status="留学", period_of_stay_until=None, today=TODAY
        )


def test_number_change_changes_nothing_in_the_register(kojin: Kojin) -> None:
    reg = register(kojin)
    r = reg.resident
    new = kojin.register.change_number(r.resident_id, reason="漏えい")
    assert new != reg.number_notice
    assert kojin.register.get(r.resident_id) == r
    assert kojin.register.history_of(r.resident_id)[-1].kind is EventKind.NUMBER_CHANGE


def test_unknown_resident(kojin: Kojin) -> None:
    with pytest.raises(NotFound) as err:
        kojin.register.get(999)
    assert err.value.field == "resident_id"


def test_failed_event_handler_stays_in_the_outbox(kojin: Kojin) -> None:
    calls: list[int] = []

    def flaky(event: Event) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("CA unavailable")

    kojin.bus.subscribe(NAME_CHANGED, flaky)
    r = register(kojin).resident
    with pytest.raises(RuntimeError):
        kojin.register.change_name(r.resident_id, name="山田　次郎", kana="ヤマダ　ジロウ", today=TODAY)
    # The change itself was committed; its event waits in the outbox.
    assert kojin.register.get(r.resident_id).name == "山田　次郎"
    with kojin.register.engine.connect() as conn:
        pending = conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.delivered_at.is_(None))
        ).scalar_one()
    assert pending == 1
    assert kojin.register.dispatch_events() == 1
    assert len(calls) == 2


def test_bulk_enrolment(kojin: Kojin) -> None:
    drafts = [
        HouseholdDraft(
            [
                (person(f"山田　{i}郎", "ヤマダ　タロウ", date(1980, 1, 1 + i % 28)), "世帯主"),
                (person(f"山田　{i}子", "ヤマダ　ハナコ", date(1982, 1, 1 + i % 28), Sex.FEMALE), "妻"),
            ]
        )
        for i in range(50)
    ]
    assert kojin.register.enroll_households(drafts, municipality_code="13105", today=TODAY) == 100
    assert counts(kojin) == (100, 100, 100)
    members = kojin.register.household_members(kojin.register.get(2).household_id)
    assert [m.relationship for m in members] == ["世帯主", "妻"]


def _drafts(n: int) -> list[HouseholdDraft]:
    return [
        HouseholdDraft([(person(f"佐藤　{i}郎", "サトウ　ジロウ", date(1975, 3, 1 + i % 28)), "世帯主")])
        for i in range(n)
    ]


def test_bulk_enrolment_numbers_everyone_in_one_jlis_batch(kojin: Kojin, monkeypatch: pytest.MonkeyPatch) -> None:
    # Parts smaller than the batch: several parts share one J-LIS transaction.
    monkeypatch.setattr("kojin.registry.enrolment.ENROL_PART", 7)
    assert kojin.register.enroll_households(_drafts(30), municipality_code="13105", today=TODAY, validated=True) == 30
    codes = [r.juminhyo_code for r in kojin.register.iter_residents()]
    assert len(set(codes)) == 30
    assert all(kojin.numbering.number_for(c) for c in codes)
    assert kojin.numbering.count() == 30


def test_a_failed_bulk_batch_leaves_neither_store_changed(kojin: Kojin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kojin.registry.enrolment.ENROL_PART", 4)
    drafts = _drafts(10)
    # A row the register's store refuses (kana is NOT NULL) in the last part.
    bad = drafts[9].members[0][0]
    # kana None on purpose: typed out, it reaches the store, which refuses it.
    drafts[9] = HouseholdDraft([(PersonDetails(bad.name, None, bad.sex, bad.birth_date, bad.address), "世帯主")])  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        kojin.register.enroll_households(drafts, municipality_code="13105", today=TODAY, validated=True)
    assert counts(kojin) == (0, 0, 0)
    # J-LIS rolled its batch back too: no orphaned numbers for codes nobody holds.
    assert kojin.numbering.count() == 0


def test_a_bad_record_stops_enrolment_at_its_batch_and_keeps_the_earlier_ones(kojin: Kojin) -> None:
    good = _drafts(5)
    bad = _drafts(3)
    first = bad[1].members[0][0]
    hiragana = PersonDetails(first.name, "やまだ", first.sex, first.birth_date, first.address)
    bad[1] = HouseholdDraft([(hiragana, "世帯主")])
    with pytest.raises(InvalidInput) as err:
        kojin.register.enroll_batches([good, bad], municipality_code="13105", today=TODAY)
    assert err.value.field == "kana"
    # The first batch is committed at both parties; nothing of the second is.
    assert counts(kojin) == (5, 5, 5)


def test_bulk_enrolment_through_a_numbering_process(kojin: Kojin) -> None:
    from kojin.numbering.process import NumberingProcess

    totals: list[int] = []
    process = NumberingProcess(kojin.settings)
    try:
        enrolled = kojin.register.enroll_batches(
            [_drafts(4), [], _drafts(6), _drafts(3)],
            municipality_code="13105",
            today=TODAY,
            validated=True,
            numbering_process=process,
            on_batch=totals.append,
        )
    finally:
        process.close()
    assert enrolled == 13
    assert totals == [4, 10, 13]
    assert counts(kojin) == (13, 13, 13)
    assert all(kojin.numbering.number_for(r.juminhyo_code) for r in kojin.register.iter_residents())
