from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kojin.app import Kojin, build
from kojin.auth.service import sign_challenge_with_card
from kojin.card.issuance import IssuedCard
from kojin.card.transport import InProcessTransport
from kojin.core.errors import KojinError
from kojin.pki.linkage import RelyingPartyKind
from kojin.pki.verify import OcspCache, OcspClient
from kojin.registry.domain import Address, PersonDetails, Sex
from tests.pki import Clock

TODAY = date(2026, 11, 24)


@pytest.fixture
def issued(kojin: Kojin) -> Iterator[IssuedCard]:
    details = PersonDetails(
        "山田　太郎", "ヤマダ　タロウ", Sex.MALE, date(1980, 4, 1), Address("1130033", "", "", "", "1")
    )
    rid = kojin.register.register(details, municipality_code="13105", today=TODAY).resident.resident_id
    yield kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)


def login(kojin: Kojin, card: IssuedCard, rp: str = "portal", pin: str = "1234") -> tuple[str, bytes, bytes]:
    challenge = kojin.auth.challenge(rp).value
    cert, sig = sign_challenge_with_card(InProcessTransport(kojin.cards.load(card.card_id)), pin, challenge)
    return challenge, cert, sig


def test_public_relying_party_learns_the_person(kojin: Kojin, issued: IssuedCard) -> None:
    challenge, cert, sig = login(kojin, issued)
    result = kojin.auth.verify("portal", challenge, cert, sig)
    assert result.serial == issued.auth_serial
    assert result.subject.juminhyo_code == kojin.register.get(issued.resident_id).juminhyo_code
    assert result.subject.pseudonym is None


def test_private_relying_parties_get_pairwise_pseudonyms(kojin: Kojin, issued: IssuedCard) -> None:
    kojin.linkage.register("bank-a", "A銀行", RelyingPartyKind.PRIVATE)
    kojin.linkage.register("shop-b", "B商店", RelyingPartyKind.PRIVATE)
    a = kojin.auth.verify("bank-a", *login(kojin, issued, "bank-a")).subject
    b = kojin.auth.verify("shop-b", *login(kojin, issued, "shop-b")).subject
    again = kojin.auth.verify("bank-a", *login(kojin, issued, "bank-a")).subject
    assert a.juminhyo_code is None and b.juminhyo_code is None
    assert a.pseudonym and b.pseudonym and a.pseudonym != b.pseudonym
    assert again.pseudonym == a.pseudonym


def test_a_relying_party_id_must_be_a_slug(kojin: Kojin) -> None:
    for bad in ("bank-c\n", "Bank", "x", "銀行"):
        with pytest.raises(KojinError) as err:
            kojin.linkage.register(bad, "C銀行", RelyingPartyKind.PRIVATE)
        assert err.value.code == "rp.bad_id", bad


def test_unregistered_relying_party_gets_no_challenge(kojin: Kojin) -> None:
    with pytest.raises(KojinError) as err:
        kojin.auth.challenge("nobody")
    assert err.value.code == "rp.not_registered"


def test_replayed_challenge(kojin: Kojin, issued: IssuedCard) -> None:
    answer = login(kojin, issued)
    kojin.auth.verify("portal", *answer)
    with pytest.raises(KojinError) as err:
        kojin.auth.verify("portal", *answer)
    assert err.value.code == "auth.challenge_replayed"


def test_expired_forged_and_foreign_challenges(kojin: Kojin, issued: IssuedCard) -> None:
    challenge, cert, sig = login(kojin, issued)
    cases = {
        "auth.challenge_other_rp": ("kiosk", challenge, cert, sig),
        "auth.challenge_forged": (
            "portal",
            challenge[:-2] + ("AA" if not challenge.endswith("AA") else "BB"),
            cert,
            sig,
        ),
        "auth.challenge_malformed": ("portal", "hello", cert, sig),
        "auth.bad_signature": ("portal", challenge, cert, sig[:-1] + bytes([sig[-1] ^ 1])),
        "pki.malformed": ("portal", challenge, b"\x30\x03garbage", sig),
    }
    for code, args in cases.items():
        with pytest.raises(KojinError) as err:
            kojin.auth.verify(*args)
        assert err.value.code == code, code
    # None of the failures used the challenge up.
    assert kojin.auth.verify("portal", challenge, cert, sig).serial == issued.auth_serial
    late = kojin.auth.challenge("portal", ttl_s=-1).value
    certificate, signature = sign_challenge_with_card(
        InProcessTransport(kojin.cards.load(issued.card_id)), "1234", late
    )
    with pytest.raises(KojinError) as err:
        kojin.auth.verify("portal", late, certificate, signature)
    assert err.value.code == "auth.challenge_expired"


def test_a_store_failure_refuses_the_login_and_spends_nothing(kojin: Kojin, issued: IssuedCard) -> None:
    answer = login(kojin, issued)
    engine = kojin.db.engine("auth")
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE used_challenges RENAME TO used_challenges_away"))
    try:
        with pytest.raises(DBAPIError):
            kojin.auth.verify("portal", *answer)
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE used_challenges_away RENAME TO used_challenges"))
    assert kojin.auth.verify("portal", *answer).serial == issued.auth_serial
    with pytest.raises(KojinError) as err:
        kojin.auth.verify("portal", *answer)
    assert err.value.code == "auth.challenge_replayed"


def test_signature_certificate_is_the_wrong_kind(kojin: Kojin, issued: IssuedCard) -> None:
    challenge, _cert, sig = login(kojin, issued)
    sign_der = kojin.ca.certificate_der(issued.sign_serial or 0)
    with pytest.raises(KojinError) as err:
        kojin.auth.verify("portal", challenge, sign_der, sig)
    assert err.value.code == "pki.wrong_kind"


def test_revoked_card_is_refused_at_once(kojin: Kojin, issued: IssuedCard) -> None:
    # The first login leaves a good answer in the relying party's cache; the
    # loss report reaches that cache before the next login.
    kojin.auth.verify("portal", *login(kojin, issued))
    kojin.cards.report_lost(issued.card_id)
    with pytest.raises(KojinError) as err:
        kojin.auth.verify("portal", *login(kojin, issued))
    assert err.value.code == "pki.revoked"


def test_a_revocation_in_another_process_is_seen_within_a_second(kojin: Kojin, issued: IssuedCard) -> None:
    clock = Clock()
    cache = OcspCache(OcspClient(kojin.ocsp.respond), clock=clock)
    kojin.auth.ocsp = cache
    kojin.auth.verify("portal", *login(kojin, issued))
    # Another process on the same stores: its CA's listeners are not this one's.
    other = build(kojin.settings, migrate=False)
    try:
        other.cards.report_lost(issued.card_id)
    finally:
        other.close()
    clock.advance(timedelta(milliseconds=1001))
    with pytest.raises(KojinError) as err:
        kojin.auth.verify("portal", *login(kojin, issued))
    assert err.value.code == "pki.revoked"
    assert cache.misses == 2


def test_wrong_pin_changes_nothing_but_the_counter(kojin: Kojin, issued: IssuedCard) -> None:
    with pytest.raises(KojinError) as err:
        login(kojin, issued, pin="9999")
    assert err.value.code == "card.pin_wrong"
    assert kojin.cards.status(issued.card_id).pin_tries["auth"] == 2


def test_verify_async_checks_the_same_and_spends_once(kojin: Kojin, issued: IssuedCard) -> None:
    answer = login(kojin, issued)
    challenge, cert, sig = login(kojin, issued)

    async def scenario() -> None:
        result = await kojin.auth.verify_async("portal", *answer)
        assert result.serial == issued.auth_serial
        assert result.subject.juminhyo_code == kojin.register.get(issued.resident_id).juminhyo_code
        for args, code in (
            (("portal", *answer), "auth.challenge_replayed"),
            (("portal", challenge, cert, sig[:-1] + bytes([sig[-1] ^ 1])), "auth.bad_signature"),
            (("kiosk", challenge, cert, sig), "auth.challenge_other_rp"),
        ):
            with pytest.raises(KojinError) as err:
                await kojin.auth.verify_async(*args)
            assert err.value.code == code

    asyncio.run(scenario())
    # A sync caller sees the same record; the failures above spent nothing.
    with pytest.raises(KojinError) as err:
        kojin.auth.verify("portal", *answer)
    assert err.value.code == "auth.challenge_replayed"
    assert kojin.auth.verify("portal", challenge, cert, sig).serial == issued.auth_serial
