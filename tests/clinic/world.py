"""A small insured population for the clinic tests: people, insurers, cards, clinics.

Built through the public services only: the register, the card office, the
insurers (which obtain their codes through J-LIS) and the eligibility service.
P-256 cards keep it fast.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kojin.app import Kojin
from kojin.auth.service import sign_challenge_with_card
from kojin.card.transport import InProcessTransport
from kojin.core.japan import JST
from kojin.demo.insurance import ensure_insurers, synthetic_claims
from kojin.eligibility.domain import Clinic, Membership
from kojin.eligibility.insurer.service import MemberDraft
from kojin.registry.domain import Address, PersonDetails, Sex

# The world is built today, by the services' own clock (JST): the 資格確認書 it
# issues are checked against that clock, so a fixed date would expire with time.
TODAY = datetime.now(JST).date()
PIN = "1234"


@dataclass
class Person:
    key: str
    resident_id: int
    juminhyo_code: str
    name: str
    insurer_id: str
    membership: Membership
    local_id: str
    card_id: str | None


@dataclass
class World:
    kojin: Kojin
    clinic: Clinic
    clinic_key: str
    other: Clinic
    other_key: str
    people: dict[str, Person]

    def card_answer(self, key: str, pin: str = PIN) -> tuple[str, bytes, bytes]:
        """What the reader sends back: challenge, certificate, signature (over APDUs)."""
        card_id = self.people[key].card_id
        assert card_id is not None
        challenge = self.kojin.clinics.challenge().value
        cert, sig = sign_challenge_with_card(InProcessTransport(self.kojin.cards.load(card_id)), pin, challenge)
        return challenge, cert, sig

    def spec(self) -> dict[str, Any]:
        """What a copy of this world's stores needs besides them (keys, who is who)."""
        return {
            "clinic_key": self.clinic_key,
            "other_key": self.other_key,
            "people": {k: {**asdict(p), "membership": asdict(p.membership)} for k, p in self.people.items()},
        }

    @classmethod
    def from_spec(cls, kojin: Kojin, spec: dict[str, Any]) -> World:
        people = {k: Person(**{**p, "membership": Membership(**p["membership"])}) for k, p in spec["people"].items()}
        return cls(
            kojin,
            kojin.eligibility.authenticate_clinic(spec["clinic_key"]),
            spec["clinic_key"],
            kojin.eligibility.authenticate_clinic(spec["other_key"]),
            spec["other_key"],
            people,
        )

    def ids(self, key: str) -> dict[str, str]:
        """The 資格確認書's identifiers of a person."""
        q = self.kojin.eligibility.qualification(self.people[key].membership)
        assert q is not None
        return {"insurer_number": q.insurer_number, "symbol": q.symbol, "number": q.number, "branch": q.branch}


# key, name, kana, sex, birth date, insurer, symbol, dependant of, card, registered
PEOPLE = (
    ("taro", "保険　太郎", "ホケン　タロウ", Sex.MALE, date(1978, 5, 12), "kyokai", "50110037", None, True, True),
    ("hanako", "保険　花子", "ホケン　ハナコ", Sex.FEMALE, date(1981, 9, 3), "kyokai", "50110037", "taro", True, True),
    ("ume", "長寿　うめ", "チョウジュ　ウメ", Sex.FEMALE, date(1944, 2, 20), "tokyo_kouki", "", None, True, True),
    ("jiro", "国保　次郎", "コクホ　ジロウ", Sex.MALE, date(1995, 7, 7), "13105", "文01", None, False, False),
    (
        "saburo",
        "組合　三郎",
        "クミアイ　サブロウ",
        Sex.MALE,
        date(1990, 1, 15),
        "kenpo_kojin",
        "1201",
        None,
        True,
        False,
    ),
)


def build_world(kojin: Kojin) -> World:
    ensure_insurers(kojin)
    residents = {}
    cards: dict[str, str | None] = {}
    for n, (key, name, kana, sex, birth, _ins, _sym, _dep, has_card, _reg) in enumerate(PEOPLE):
        details = PersonDetails(name, kana, sex, birth, Address("1130033", "", "", "", f"1-{n + 1}"))
        residents[key] = kojin.register.register(details, municipality_code="13105", today=TODAY).resident
        cards[key] = None
        if has_card:
            cards[key] = kojin.cards.issue(
                residents[key].resident_id, auth_pin=PIN, signature_password="ABC123", algorithm="p256", today=TODAY
            ).card_id
    # One batch per insurer, dependants pointing at their insured in the batch.
    batches: dict[str, list[tuple[str, MemberDraft]]] = {}
    for key, name, kana, sex, birth, insurer_id, symbol, dep_of, _card, registered in PEOPLE:
        batch = batches.setdefault(insurer_id, [])
        index = next((i for i, (k, _d) in enumerate(batch) if k == dep_of), None) if dep_of else None
        r = residents[key]
        batch.append(
            (
                key,
                MemberDraft(
                    juminhyo_code=r.juminhyo_code,
                    name=name,
                    kana=kana,
                    sex=sex.value,
                    birth_date=birth,
                    address=r.address.one_line(),
                    postal_code=r.address.postal_code,
                    qualified_on=date(2015, 4, 1),
                    ratio=10 if insurer_id == "tokyo_kouki" else 30,
                    symbol=symbol,
                    insured_index=index,
                    family=dep_of is not None,
                    card_registered=registered,
                ),
            )
        )
    people: dict[str, Person] = {}
    for insurer_id, batch in batches.items():
        service = kojin.insurers.get(insurer_id)
        memberships = service.enrol([d for _k, d in batch], today=TODAY)
        for (key, draft), membership in zip(batch, memberships, strict=True):
            r = residents[key]
            people[key] = Person(
                key,
                r.resident_id,
                r.juminhyo_code,
                draft.name,
                insurer_id,
                membership,
                service.local_id_of(membership.member_code),
                cards[key],
            )
            meds, checks = synthetic_claims(membership, draft.birth_date, TODAY, random.Random(key))
            kojin.eligibility.register_medications(meds)
            kojin.eligibility.register_checkups(checks)
    key_a = kojin.eligibility.register_clinic("1310512345", "小石川内科クリニック")
    key_b = kojin.eligibility.register_clinic("1310567890", "本郷総合病院", "hospital")
    return World(
        kojin, kojin.eligibility.clinic("1310512345"), key_a, kojin.eligibility.clinic("1310567890"), key_b, people
    )


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)
