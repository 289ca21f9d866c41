from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kojin.app import Kojin
from kojin.card.errors import PinLocked, PinWrong
from kojin.card.issuance import card_expiry, load_card_secret
from kojin.card.reader import CardReader
from kojin.card.transport import InProcessTransport
from kojin.core.errors import Conflict, InvalidInput, KojinError
from kojin.core.key_passphrase import KEY_PASSPHRASE_ENV, is_sealed
from kojin.pki.domain import CertKind
from kojin.registry.domain import Address, PersonDetails, Sex

TODAY = date(2026, 11, 24)


def resident(
    kojin: Kojin, born: date = date(1980, 4, 1), name: str = "山田　太郎", kana: str = "ヤマダ　タロウ"
) -> int:
    details = PersonDetails(name, kana, Sex.MALE, born, Address("1130033", "", "", "", "4-15-14"))
    return kojin.register.register(details, municipality_code="13105", today=TODAY).resident.resident_id


def test_issue_writes_a_working_card(kojin: Kojin) -> None:
    rid = resident(kojin)
    issued = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    assert issued.sign_serial is not None
    assert issued.expires_on == date(2036, 4, 1)
    card = kojin.cards.load(issued.card_id)
    with CardReader(InProcessTransport(card)) as reader:
        cert = reader.read_auth_certificate()
        items = reader.read_basic_items("1234")
        number = reader.read_individual_number("1234")
    assert items["name"] == "山田　太郎" and items["address"] == "東京都文京区本郷4-15-14"
    assert number == kojin.numbering.number_for(kojin.register.get(rid).juminhyo_code)
    assert kojin.ca.status(issued.auth_serial).status == "good"
    from cryptography import x509

    assert x509.load_der_x509_certificate(cert).serial_number == issued.auth_serial


def test_rsa_card_by_default_profile(kojin: Kojin) -> None:
    rid = resident(kojin)
    issued = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", today=TODAY)
    assert issued.algorithm == "rsa2048"
    card = kojin.cards.load(issued.card_id)
    with CardReader(InProcessTransport(card)) as reader:
        signature = reader.sign_with_auth_key("1234", b"hello")
    assert len(signature) == 256


def test_no_signature_certificate_under_15(kojin: Kojin) -> None:
    rid = resident(kojin, born=date(2015, 1, 1), name="山田　一郎", kana="ヤマダ　イチロウ")
    issued = kojin.cards.issue(rid, auth_pin="1234", algorithm="p256", today=TODAY)
    assert issued.sign_serial is None
    assert issued.expires_on == date(2031, 1, 1)  # minors: the 5th birthday
    assert [c.kind for c in kojin.ca.certificates_for(kojin.register.get(rid).juminhyo_code)] == [CertKind.AUTH]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"auth_pin": "12"}, "card.pin_format"),
        ({"auth_pin": "1234", "signature_password": "abc"}, "card.pin_format"),
        ({"auth_pin": "1234"}, "card.signature_password_missing"),
    ],
)
def test_bad_pins_issue_nothing(kojin: Kojin, kwargs: dict[str, str], code: str) -> None:
    rid = resident(kojin)
    with pytest.raises(KojinError) as err:
        kojin.cards.issue(rid, algorithm="p256", today=TODAY, **kwargs)
    assert err.value.code == code
    assert kojin.ca.certificates_for(kojin.register.get(rid).juminhyo_code) == []
    assert kojin.cards.card_files() == []


def test_lock_and_counter_reset_recorded(kojin: Kojin) -> None:
    rid = resident(kojin)
    issued = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    card = kojin.cards.load(issued.card_id)
    with CardReader(InProcessTransport(card)) as reader:
        for left in (2, 1):
            with pytest.raises(PinWrong) as wrong:
                reader.sign_with_auth_key("0000", b"x")
            assert wrong.value.tries_left == left
        with pytest.raises(PinLocked):
            reader.sign_with_auth_key("0000", b"x")
    assert kojin.cards.status(issued.card_id).pin_tries["auth"] == 0
    state = kojin.cards.reset_pin(issued.card_id, "auth", "5678", clerk="窓口 佐藤")
    assert state.pin_tries["auth"] == 3
    [(pin, _at, by)] = kojin.cards.pin_resets(issued.card_id)
    assert (pin, by) == ("auth", "窓口 佐藤")
    with pytest.raises(InvalidInput):
        kojin.cards.reset_pin(issued.card_id, "auth", "5678", clerk=" ")


def test_loss_revokes_both_certificates(kojin: Kojin) -> None:
    rid = resident(kojin)
    issued = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    state = kojin.cards.report_lost(issued.card_id)
    assert (state.status, state.auth_status, state.sign_status) == ("lost", "revoked", "revoked")
    with pytest.raises(Conflict):
        kojin.cards.report_lost(issued.card_id)


def test_address_change_revokes_only_the_signature_certificate(kojin: Kojin) -> None:
    rid = resident(kojin)
    issued = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    kojin.register.move_within(rid, Address("1120012", "", "", "", "1-2-3"), today=TODAY)
    state = kojin.cards.status(issued.card_id)
    assert (state.auth_status, state.sign_status) == ("good", "revoked")


def test_death_revokes_both(kojin: Kojin) -> None:
    rid = resident(kojin)
    issued = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    kojin.register.record_death(rid, effective_date=TODAY, today=TODAY)
    state = kojin.cards.status(issued.card_id)
    assert (state.auth_status, state.sign_status) == ("revoked", "revoked")
    with pytest.raises(Conflict):
        kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)


def test_reissue_replaces_and_links_serials(kojin: Kojin) -> None:
    rid = resident(kojin)
    first = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    second = kojin.cards.issue(rid, auth_pin="4321", signature_password="XYZ789", algorithm="p256", today=TODAY)
    assert kojin.cards.status(first.card_id).status == "replaced"
    assert kojin.cards.status(first.card_id).auth_status == "revoked"
    assert kojin.ca.current_serial(first.auth_serial) == second.auth_serial


def test_card_expiry_rules() -> None:
    assert card_expiry(date(1980, 4, 1), date(2026, 11, 24)) == date(2036, 4, 1)
    assert card_expiry(date(1980, 11, 25), date(2026, 11, 24)) == date(2035, 11, 25)
    assert card_expiry(date(2012, 2, 29), date(2026, 11, 24)) == date(2031, 2, 28)


def test_the_card_file_secret_is_sealed_under_the_key_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain_dir, sealed_dir = tmp_path / "plain", tmp_path / "sealed"
    monkeypatch.delenv(KEY_PASSPHRASE_ENV, raising=False)
    plain = load_card_secret(plain_dir)
    assert (plain_dir / ".card-secret").read_bytes() == plain
    assert (plain_dir / ".card-secret").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv(KEY_PASSPHRASE_ENV, "correct horse")
    # A key stored plain before the passphrase was set is sealed in place, unchanged.
    assert load_card_secret(plain_dir) == plain
    assert is_sealed((plain_dir / ".card-secret").read_bytes())
    assert (plain_dir / ".card-secret").stat().st_mode & 0o777 == 0o600
    secret = load_card_secret(sealed_dir)
    stored = (sealed_dir / ".card-secret").read_bytes()
    assert is_sealed(stored) and secret not in stored and len(secret) == 32
    assert load_card_secret(sealed_dir) == secret
    assert sorted(p.name for p in sealed_dir.iterdir()) == [".card-secret"]  # nothing left aside
    monkeypatch.setenv(KEY_PASSPHRASE_ENV, "battery staple")
    with pytest.raises(KojinError) as wrong:
        load_card_secret(sealed_dir)
    assert wrong.value.code == "key.passphrase_wrong"
    monkeypatch.delenv(KEY_PASSPHRASE_ENV)
    with pytest.raises(KojinError) as missing:
        load_card_secret(sealed_dir)
    assert missing.value.code == "key.passphrase_needed"


def test_card_after_number_change_refuses(kojin: Kojin) -> None:
    rid = resident(kojin)
    issued = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    kojin.register.change_number(rid, reason="漏えい")
    card = kojin.cards.load(issued.card_id)
    with CardReader(InProcessTransport(card)) as reader:
        with pytest.raises(KojinError) as err:
            reader.read_individual_number("1234")
        # The basic items still hold: only the retired number is withheld.
        assert reader.read_basic_items("1234")["name"] == "山田　太郎"
    assert err.value.code == "card.number_withdrawn"
    state = kojin.cards.status(issued.card_id)
    assert state.status == "to_return"
    # Still able to log in and read why; no counter work on it but a loss report or a new card.
    assert state.auth_status == "good"
    with pytest.raises(Conflict) as refused:
        kojin.cards.reset_pin(issued.card_id, "auth", "9876", clerk="clerk")
    assert refused.value.code == "card.must_return"
    renewed = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    assert kojin.cards.status(issued.card_id).status == "replaced"
    with CardReader(InProcessTransport(kojin.cards.load(renewed.card_id))) as reader:
        assert reader.read_individual_number("1234") == kojin.numbering.number_for(
            kojin.register.get(rid).juminhyo_code
        )


def test_the_refusal_is_a_status_word_after_the_pin(kojin: Kojin) -> None:
    rid = resident(kojin)
    issued = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    kojin.register.change_number(rid, reason="漏えい")
    card = kojin.cards.load(issued.card_id)
    card.connect()
    assert card.transmit(bytes.fromhex("00A4040C0AD3921000310001010408"))[-2:] == b"\x90\x00"
    assert card.transmit(bytes.fromhex("00A4020C020001"))[-2:] == b"\x90\x00"
    assert card.transmit(bytes.fromhex("00B0000004"))[-2:] == b"\x69\x82"  # no PIN: nothing said
    assert card.transmit(bytes.fromhex("00A4020C020011"))[-2:] == b"\x90\x00"
    assert card.transmit(bytes.fromhex("00200080043132333400"[:-2]))[-2:] == b"\x90\x00"
    assert card.transmit(bytes.fromhex("00A4020C020001"))[-2:] == b"\x90\x00"
    answer = card.transmit(bytes.fromhex("00B0000004"))
    assert answer == b"\x69\x85"  # conditions of use not satisfied, and no data
    # The withdrawal is in the card file, not only in this object.
    assert kojin.cards.load(issued.card_id).number_withdrawn


def test_move_marks_the_chip_stale_until_rewritten(kojin: Kojin) -> None:
    rid = resident(kojin)
    issued = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    assert not kojin.cards.status(issued.card_id).chip_stale
    kojin.register.move_within(rid, Address("1120012", "", "", "", "1-2-3"), today=TODAY)
    stale = kojin.cards.status(issued.card_id)
    assert stale.chip_stale and stale.status == "active"
    with CardReader(InProcessTransport(kojin.cards.load(issued.card_id))) as reader:
        assert reader.read_basic_items("1234")["address"] == "東京都文京区本郷4-15-14"
    state = kojin.cards.rewrite(issued.card_id)
    assert not state.chip_stale
    with CardReader(InProcessTransport(kojin.cards.load(issued.card_id))) as reader:
        items = reader.read_basic_items("1234")
    assert items["address"] == kojin.register.get(rid).address.one_line() != "東京都文京区本郷4-15-14"
    assert items["name"] == "山田　太郎"


def test_rewrite_refuses_cards_out_of_use(kojin: Kojin) -> None:
    rid = resident(kojin)
    issued = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    kojin.register.change_number(rid, reason="漏えい")
    with pytest.raises(Conflict) as err:
        kojin.cards.rewrite(issued.card_id)
    assert err.value.code == "card.must_return"
    kojin.cards.report_lost(issued.card_id)
    with pytest.raises(Conflict) as err:
        kojin.cards.rewrite(issued.card_id)
    assert err.value.code == "card.not_active"
