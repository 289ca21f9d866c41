"""Staff card login to a bearer token: the whole walk, and every way it is refused (nothing written)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import pytest

from kojin.app import Kojin
from kojin.card.transport import InProcessTransport
from kojin.core.errors import KojinError
from kojin.staff.domain import Role
from kojin.staff.login import login_in_process, sign_with_card
from kojin.staff.service import StaffService
from tests.portal.helpers import card as resident_card
from tests.portal.helpers import resident
from tests.staff.helpers import CITY, OTHER_CITY, PIN, staff_with_card, written


def _refused(kojin: Kojin, attempt: Callable[[], object]) -> str:
    before = written(kojin)
    with pytest.raises(KojinError) as refused:
        attempt()
    assert written(kojin) == before, "a refused login wrote something"
    # ... but the refusal itself is recorded, for the auditor.
    assert [r.code for r in kojin.staff.refusals.recent(1)] == [refused.value.code]
    return refused.value.code


def test_a_staff_card_logs_in_to_a_token_that_names_the_card(kojin: Kojin) -> None:
    holder = staff_with_card(kojin)
    issued = login_in_process(kojin.staff, InProcessTransport(holder.load(kojin)), PIN)
    principal = kojin.staff.check_token(issued.access_token)
    assert (principal.staff_id, principal.role, principal.organisation) == ("c.tanaka", Role.COUNTER_CLERK, CITY)
    assert principal.card_serial == holder.card.card_serial == kojin.staff.member("c.tanaka").card_serial
    assert issued.scope == "role:counter_clerk org:municipality:131016"
    kojin.staff.authorise(principal, Role.COUNTER_CLERK, CITY)


def test_a_challenge_is_spent_once(kojin: Kojin) -> None:
    holder = staff_with_card(kojin)
    challenge = kojin.staff.challenge().value
    certificate, signature = sign_with_card(holder.load(kojin), PIN, challenge)
    kojin.staff.login_with_card(challenge, certificate, signature)
    code = _refused(kojin, lambda: kojin.staff.login_with_card(challenge, certificate, signature))
    assert code == "staff.challenge_replayed"


def test_an_expired_staff_certificate_is_refused(kojin: Kojin) -> None:
    holder = staff_with_card(kojin)
    four_years_on = time.time() + 4 * 365 * 86400
    later = StaffService(kojin.staff.engine, cards=kojin.staff.login.verifier, clock=lambda: four_years_on)
    code = _refused(kojin, lambda: login_in_process(later, holder.load(kojin), PIN))
    assert code == "staff.certificate_expired"


def test_a_revoked_staff_certificate_is_refused(kojin: Kojin) -> None:
    holder = staff_with_card(kojin)
    kojin.ca.revoke(holder.card.serial, "key_compromise")  # revoked at the CA, roster not told yet
    code = _refused(kojin, lambda: login_in_process(kojin.staff, holder.load(kojin), PIN))
    assert code == "staff.certificate_revoked"


def test_a_card_of_another_organisations_ca_is_refused(kojin: Kojin) -> None:
    holder = staff_with_card(kojin, organisation=OTHER_CITY, card_organisation=CITY)
    code = _refused(kojin, lambda: login_in_process(kojin.staff, holder.load(kojin), PIN))
    assert code == "staff.card_other_organisation"


def test_a_card_the_roster_does_not_record_is_refused(kojin: Kojin) -> None:
    stranger = kojin.cards.issue_staff_card("nobody", str(CITY), pin=PIN, algorithm="p256")
    code = _refused(kojin, lambda: login_in_process(kojin.staff, kojin.cards.load(stranger.card_id), PIN))
    assert code == "staff.unknown_card"
    # A second card made for a registered member, but not recorded as theirs.
    holder = staff_with_card(kojin)
    spare = kojin.cards.issue_staff_card(holder.staff_id, str(CITY), pin=PIN, algorithm="p256")
    code = _refused(kojin, lambda: login_in_process(kojin.staff, kojin.cards.load(spare.card_id), PIN))
    assert code == "staff.unknown_card"


def test_a_residents_card_gets_no_staff_token(kojin: Kojin) -> None:
    person = resident(kojin, "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1))
    issued = resident_card(kojin, person)
    code = _refused(kojin, lambda: login_in_process(kojin.staff, kojin.cards.load(issued.card_id), "1234"))
    assert code == "staff.not_staff_card"


def test_a_wrong_signature_and_a_forged_challenge_are_refused(kojin: Kojin) -> None:
    holder = staff_with_card(kojin)
    challenge = kojin.staff.challenge().value
    certificate, signature = sign_with_card(holder.load(kojin), PIN, challenge)
    other = kojin.staff.challenge().value
    assert _refused(kojin, lambda: kojin.staff.login_with_card(other, certificate, signature)) == "auth.bad_signature"
    forged = challenge[:-4] + ("AAAA" if not challenge.endswith("AAAA") else "BBBB")
    assert _refused(kojin, lambda: kojin.staff.login_with_card(forged, certificate, signature)) in (
        "auth.challenge_forged",
        "auth.challenge_malformed",
    )


def test_a_token_after_logout_is_refused(kojin: Kojin) -> None:
    holder = staff_with_card(kojin)
    token = login_in_process(kojin.staff, holder.load(kojin), PIN).access_token
    kojin.staff.revoke_token(kojin.staff.check_token(token))
    with pytest.raises(KojinError) as refused:
        kojin.staff.check_token(token)
    assert refused.value.code == "staff.token_revoked"


def test_a_token_after_its_card_is_revoked_is_refused(kojin: Kojin) -> None:
    holder = staff_with_card(kojin)
    token = login_in_process(kojin.staff, holder.load(kojin), PIN).access_token
    assert kojin.staff.revoke_card(holder.staff_id) == holder.card.card_serial
    assert kojin.staff.member(holder.staff_id).card_serial is None
    assert kojin.ca.status(holder.card.serial).status.value == "revoked"
    with pytest.raises(KojinError) as refused:
        kojin.staff.check_token(token)
    assert refused.value.code == "staff.token_card_revoked"
    # And the card itself cannot log in again.
    with pytest.raises(KojinError) as again:
        login_in_process(kojin.staff, holder.load(kojin), PIN)
    assert again.value.code == "staff.certificate_revoked"
    with pytest.raises(KojinError) as no_card:
        kojin.staff.revoke_card(holder.staff_id)
    assert no_card.value.code == "staff.no_card"


def test_a_replacement_card_stops_the_old_cards_tokens(kojin: Kojin) -> None:
    holder = staff_with_card(kojin)
    token = login_in_process(kojin.staff, holder.load(kojin), PIN).access_token
    new = kojin.cards.issue_staff_card(holder.staff_id, str(CITY), pin=PIN, algorithm="p256")
    kojin.staff.set_card(holder.staff_id, new.card_serial)
    with pytest.raises(KojinError) as refused:
        kojin.staff.check_token(token)
    assert refused.value.code == "staff.token_card_revoked"
    fresh = login_in_process(kojin.staff, kojin.cards.load(new.card_id), PIN).access_token
    assert kojin.staff.check_token(fresh).card_serial == new.card_serial
