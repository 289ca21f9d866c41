"""The relying parties' HTTP API: a challenge, then the card's answer to it."""

from __future__ import annotations

import base64
from datetime import date

from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.auth.service import sign_challenge_with_card
from kojin.card.transport import InProcessTransport
from kojin.entrypoints.http.app import create_app
from kojin.pki.linkage import RelyingPartyKind
from kojin.registry.domain import Address, PersonDetails, Sex

TODAY = date(2026, 11, 24)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_challenge_and_verify_over_http(kojin: Kojin) -> None:
    # Registrations outlive a test on PostgreSQL (installation-wide), so the
    # id is this test's own.
    kojin.linkage.ensure_registered("shop-http", "HTTP商店", RelyingPartyKind.PRIVATE)
    details = PersonDetails(
        "山田　花子", "ヤマダ　ハナコ", Sex.FEMALE, date(1990, 2, 3), Address("1130033", "", "", "", "2")
    )
    rid = kojin.register.register(details, municipality_code="13105", today=TODAY).resident.resident_id
    card = kojin.cards.issue(rid, auth_pin="1234", signature_password="ABC123", algorithm="p256", today=TODAY)
    with TestClient(create_app(kojin)) as client:
        issued = client.post("/auth/shop-http/challenge")
        assert issued.status_code == 200
        challenge = issued.json()["challenge"]
        cert, sig = sign_challenge_with_card(InProcessTransport(kojin.cards.load(card.card_id)), "1234", challenge)
        body = {"challenge": challenge, "certificate": b64(cert), "signature": b64(sig)}
        answer = client.post("/auth/shop-http/verify", json=body)
        assert answer.status_code == 200
        assert answer.json()["serial"] == str(card.auth_serial)
        assert answer.json()["subject_kind"] == "private" and len(answer.json()["pseudonym"]) == 40
        replay = client.post("/auth/shop-http/verify", json=body)
        assert replay.status_code == 401
        assert replay.json()["error"]["code"] == "auth.challenge_replayed"
        fresh = client.post("/auth/shop-http/challenge").json()["challenge"]
        cert, sig = sign_challenge_with_card(InProcessTransport(kojin.cards.load(card.card_id)), "1234", fresh)
        flipped = sig[:32] + bytes([sig[32] ^ 1]) + sig[33:]
        forged = {"challenge": fresh, "certificate": b64(cert), "signature": b64(flipped)}
        refused = client.post("/auth/shop-http/verify", json=forged)
        assert (refused.status_code, refused.json()["error"]["code"]) == (401, "auth.bad_signature")
        # The refused answer spent nothing: the genuine one still logs in.
        genuine = {**forged, "signature": b64(sig)}
        assert client.post("/auth/shop-http/verify", json=genuine).status_code == 200
        assert client.post("/auth/nobody/challenge").json()["error"]["code"] == "rp.not_registered"
