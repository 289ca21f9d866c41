"""The staff token endpoint over HTTP: RFC 6749 answers and errors, RFC 7009 logout with the bearer token."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.staff.login import GRANT_TYPE, TokenRefused, sign_with_card, token_with_card
from tests.staff.helpers import PIN, staff_with_card, written


@pytest.fixture
def client(kojin: Kojin) -> TestClient:
    return TestClient(create_app(kojin), raise_server_exceptions=False)


def test_card_login_over_http_gives_a_bearer_token(kojin: Kojin, client: TestClient) -> None:
    holder = staff_with_card(kojin)
    answer = token_with_card(holder.load(kojin), PIN, client)
    assert answer["token_type"] == "Bearer" and answer["expires_in"] > 0
    assert answer["scope"] == "role:counter_clerk org:municipality:131016"
    assert kojin.staff.check_token(answer["access_token"]).staff_id == holder.staff_id


def test_the_token_answer_is_not_stored_and_json_works_too(kojin: Kojin, client: TestClient) -> None:
    holder = staff_with_card(kojin)
    challenge = client.post("/staff/token/challenge").json()["challenge"]
    certificate, signature = sign_with_card(holder.load(kojin), PIN, challenge)
    body = {
        "grant_type": GRANT_TYPE,
        "challenge": challenge,
        "certificate": base64.b64encode(certificate).decode(),
        "signature": base64.b64encode(signature).decode(),
    }
    reply = client.post("/staff/token", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.headers["cache-control"] == "no-store"
    again = client.post("/staff/token", data=body)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant" and again.json()["reason"] == "staff.challenge_replayed"


def test_token_errors_follow_rfc_6749(kojin: Kojin, client: TestClient) -> None:
    before = written(kojin)
    wrong_grant = client.post("/staff/token", data={"grant_type": "password", "username": "x"})
    assert wrong_grant.status_code == 400 and wrong_grant.json()["error"] == "unsupported_grant_type"
    missing = client.post("/staff/token", data={"grant_type": GRANT_TYPE})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert missing.json()["reason"] == "staff.bad_token_request" and missing.json()["field"] == "challenge"
    twice = client.post(
        "/staff/token",
        content=f"grant_type={GRANT_TYPE}&grant_type=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 400 and twice.json()["error"] == "invalid_request"
    assert written(kojin) == before


def test_a_staff_card_of_no_one_is_an_invalid_grant(kojin: Kojin, client: TestClient) -> None:
    stranger = kojin.cards.issue_staff_card("nobody", "jlis", pin=PIN, algorithm="p256")
    with pytest.raises(TokenRefused) as refused:
        token_with_card(kojin.cards.load(stranger.card_id), PIN, client)
    assert (refused.value.status, refused.value.error, refused.value.reason) == (
        400,
        "invalid_grant",
        "staff.unknown_card",
    )


def test_revoking_needs_the_bearer_token_itself(kojin: Kojin, client: TestClient) -> None:
    holder = staff_with_card(kojin)
    token = token_with_card(holder.load(kojin), PIN, client)["access_token"]
    other = token_with_card(holder.load(kojin), PIN, client)["access_token"]
    anonymous = client.post("/staff/token/revoke", data={"token": token})
    assert anonymous.status_code == 401 and anonymous.json()["reason"] == "staff.token_missing"
    assert "invalid_token" in anonymous.headers["www-authenticate"]
    # Another token of the same member cannot revoke this one.
    crossed = client.post("/staff/token/revoke", data={"token": token}, headers={"Authorization": f"Bearer {other}"})
    assert crossed.status_code == 400
    assert kojin.staff.check_token(token).staff_id == holder.staff_id
    done = client.post("/staff/token/revoke", data={"token": token}, headers={"Authorization": f"Bearer {token}"})
    assert done.status_code == 200
    after = client.post("/staff/token/revoke", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401 and after.json()["reason"] == "staff.token_revoked"
    assert kojin.staff.check_token(other).staff_id == holder.staff_id


def test_the_token_endpoints_errors_are_documented_as_oauths(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    for path in ("/staff/token", "/staff/token/revoke"):
        responses = spec["paths"][path]["post"]["responses"]
        required = responses["400"]["content"]["application/json"]["schema"]["required"]
        assert responses["401"] == responses["400"]
        refused = client.post(path, data={"grant_type": "password"})
        assert refused.status_code in (400, 401)
        assert sorted(refused.json()) == sorted(required)
