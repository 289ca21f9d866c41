"""Staff access tokens: issued, checked, and refused for each reason with its own code."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

from kojin.app import Kojin
from kojin.core.errors import NotPermitted, Unauthenticated
from kojin.staff.domain import Organisation, Role, StaffMember
from kojin.staff.service import StaffService
from kojin.staff.tokens import TOKEN_TTL_S, TokenSigner

CITY = Organisation.of("municipality", "131016")
MEMBER = StaffMember("c.tanaka", "田中 一郎", CITY, Role.COUNTER_CLERK, None, True)
SEED = bytes(range(32))


class Clock:
    def __init__(self, now: float = 1_796_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _seed_key() -> OKPKey:
    """The key TokenSigner(SEED) signs with, for tokens it would never make."""
    return OKPKey.import_key(Ed25519PrivateKey.from_private_bytes(SEED))


def _never(_: str) -> bool:
    return False


def _refused(signer: TokenSigner, token: str | None, code: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        signer.check(token, revoked=_never)
    assert caught.value.code == code
    assert caught.value.status == 401


def test_a_token_carries_the_staff_member_role_and_organisation() -> None:
    clock = Clock()
    signer = TokenSigner(SEED, clock=clock)
    issued = signer.issue(MEMBER)
    assert issued.token_type == "Bearer"
    assert issued.expires_in == TOKEN_TTL_S == 15 * 60
    header = json.loads(base64.urlsafe_b64decode(issued.access_token.split(".")[0] + "=="))
    assert header == {"alg": "Ed25519", "typ": "at+jwt"}
    principal = signer.check(issued.access_token, revoked=_never)
    assert (principal.staff_id, principal.role, principal.organisation) == ("c.tanaka", Role.COUNTER_CLERK, CITY)
    assert principal.token_id == issued.token_id
    assert principal.expires_at == issued.expires_at
    assert signer.issue(MEMBER).token_id != issued.token_id


def test_an_expired_token_is_refused() -> None:
    clock = Clock()
    signer = TokenSigner(SEED, clock=clock)
    token = signer.issue(MEMBER).access_token
    clock.now += TOKEN_TTL_S
    signer.check(token, revoked=_never)  # still good at its last second
    clock.now += 1
    _refused(signer, token, "staff.token_expired")


def test_a_token_signed_by_another_key_is_refused() -> None:
    token = TokenSigner(secrets.token_bytes(32)).issue(MEMBER).access_token
    _refused(TokenSigner(SEED), token, "staff.token_bad_signature")


def test_a_tampered_token_is_refused() -> None:
    signer = TokenSigner(SEED)
    header, _, signature = signer.issue(MEMBER).access_token.split(".")
    claims = base64.urlsafe_b64encode(json.dumps({"sub": "admin", "role": "sysadmin"}).encode()).rstrip(b"=").decode()
    _refused(signer, f"{header}.{claims}.{signature}", "staff.token_bad_signature")


@pytest.mark.parametrize("token", ["", None, "abc", "a.b.c", "x" * 5000, "eyJhbGciOiJub25lIn0.e30."])
def test_missing_and_malformed_tokens_are_refused(token: str | None) -> None:
    code = "staff.token_missing" if not token else "staff.token_malformed"
    _refused(TokenSigner(SEED), token, code)


@pytest.mark.parametrize(
    "drop_or_change",
    [{"jti": None}, {"exp": None}, {"role": "root"}, {"org": "city:1"}, {"iss": "someone"}, {"sub": 7}],
)
def test_a_well_signed_token_with_wrong_claims_is_malformed(drop_or_change: dict[str, object]) -> None:
    clock = Clock()
    key = _seed_key()
    claims: dict[str, object] = {
        "iss": "kojin-staff",
        "sub": "c.tanaka",
        "role": "counter_clerk",
        "org": "municipality:131016",
        "iat": int(clock.now),
        "exp": int(clock.now) + 60,
        "jti": "j1",
    }
    for name, value in drop_or_change.items():
        if value is None:
            del claims[name]
        else:
            claims[name] = value
    token = jwt.encode({"alg": "Ed25519", "typ": "at+jwt"}, claims, key, algorithms=["Ed25519"])
    _refused(TokenSigner(SEED, clock=clock), token, "staff.token_malformed")


def test_a_token_of_another_type_is_malformed() -> None:
    key = _seed_key()
    token = jwt.encode({"alg": "Ed25519"}, {"sub": "c.tanaka"}, key, algorithms=["Ed25519"])
    _refused(TokenSigner(SEED), token, "staff.token_malformed")


def test_the_service_issues_checks_and_revokes_tokens(kojin: Kojin) -> None:
    kojin.staff.register("c.tanaka", "田中 一郎", CITY, Role.COUNTER_CLERK, "SC0001")
    issued = kojin.staff.issue_token("c.tanaka")
    principal = kojin.staff.check_token(issued.access_token)
    assert principal.staff_id == "c.tanaka"
    other = kojin.staff.issue_token("c.tanaka")
    kojin.staff.revoke_token(principal)
    kojin.staff.revoke_token(principal)  # logging out twice is fine
    with pytest.raises(Unauthenticated) as caught:
        kojin.staff.check_token(issued.access_token)
    assert caught.value.code == "staff.token_revoked"
    assert kojin.staff.check_token(other.access_token).token_id == other.token_id


def test_the_service_key_is_its_own_and_survives_a_restart(kojin: Kojin) -> None:
    kojin.staff.register("c.tanaka", "田中 一郎", CITY, Role.COUNTER_CLERK)
    token = kojin.staff.issue_token("c.tanaka").access_token
    again = StaffService(kojin.db.engine("staff"))
    assert again.check_token(token).staff_id == "c.tanaka"
    with pytest.raises(Unauthenticated) as caught:
        TokenSigner(SEED).check(token, revoked=_never)
    assert caught.value.code == "staff.token_bad_signature"


def test_the_service_refuses_an_expired_token(kojin: Kojin) -> None:
    clock = Clock()
    staff = StaffService(kojin.db.engine("staff"), clock=clock)
    staff.register("c.tanaka", "田中 一郎", CITY, Role.COUNTER_CLERK)
    token = staff.issue_token("c.tanaka").access_token
    clock.now += TOKEN_TTL_S + 1
    with pytest.raises(Unauthenticated) as caught:
        staff.check_token(token)
    assert caught.value.code == "staff.token_expired"


def test_a_stopped_member_gets_no_token_and_their_tokens_stop_working(kojin: Kojin) -> None:
    kojin.staff.register("c.tanaka", "田中 一郎", CITY, Role.COUNTER_CLERK)
    token = kojin.staff.issue_token("c.tanaka").access_token
    kojin.staff.deactivate("c.tanaka")
    for attempt in (lambda: kojin.staff.check_token(token), lambda: kojin.staff.issue_token("c.tanaka")):
        with pytest.raises(NotPermitted) as caught:
            attempt()
        assert caught.value.code == "staff.inactive"
