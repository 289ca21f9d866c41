"""Logging in as staff from Python with a staff card (tests, the CLI, the benchmarks).

:func:`token_with_card` does what a staff workstation's client does: asks the
token endpoint for a challenge, has the card sign it after the PIN (through
APDUs, as the reader software does), and trades the answer for a bearer
token. :func:`login_in_process` does the same against a
:class:`~kojin.staff.service.StaffService` without HTTP.
"""

from __future__ import annotations

import base64
from typing import Any, Protocol

from kojin.card.emulator import MyNumberCard
from kojin.card.reader import CardReader
from kojin.card.transport import CardTransport, InProcessTransport
from kojin.staff.tokens import IssuedToken

GRANT_TYPE = "urn:kojin:params:oauth:grant-type:card-signature"


class _Response(Protocol):
    status_code: int

    def json(self) -> Any: ...


class HttpClient(Protocol):
    """What the helper needs of an HTTP client: httpx.Client and FastAPI's TestClient both are one."""

    def post(self, url: str, *, data: Any = None) -> Any: ...


class _Service(Protocol):
    def challenge(self) -> Any: ...

    def login_with_card(self, challenge: str, certificate_der: bytes, signature: bytes) -> IssuedToken: ...


class TokenRefused(Exception):
    """The token endpoint said no: the OAuth error and kojin's reason code."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.error = str(body.get("error", ""))
        self.reason = str(body.get("reason", ""))
        self.description = str(body.get("error_description", ""))
        super().__init__(f"{status} {self.error} ({self.reason}): {self.description}")


def _transport(card: CardTransport | MyNumberCard) -> CardTransport:
    return InProcessTransport(card) if isinstance(card, MyNumberCard) else card


def sign_with_card(card: CardTransport | MyNumberCard, pin: str, challenge: str) -> tuple[bytes, bytes]:
    """The card's authentication certificate and its signature over ``challenge`` after ``pin``."""
    with CardReader(_transport(card)) as reader:
        certificate = reader.read_auth_certificate()
        signature = reader.sign_with_auth_key(pin, challenge.encode())
    return certificate, signature


def token_with_card(card: CardTransport | MyNumberCard, pin: str, client: HttpClient, base: str = "") -> dict[str, Any]:
    """Log in over HTTP: the token endpoint's answer (``access_token``, ``expires_in`` …) or :class:`TokenRefused`."""
    answer = client.post(f"{base}/staff/token/challenge")
    if answer.status_code != 200:
        raise TokenRefused(answer.status_code, answer.json())
    challenge = str(answer.json()["challenge"])
    certificate, signature = sign_with_card(card, pin, challenge)
    reply = client.post(
        f"{base}/staff/token",
        data={
            "grant_type": GRANT_TYPE,
            "challenge": challenge,
            "certificate": base64.b64encode(certificate).decode(),
            "signature": base64.b64encode(signature).decode(),
        },
    )
    body = reply.json()
    if reply.status_code != 200:
        raise TokenRefused(reply.status_code, body)
    return dict(body)


def login_in_process(service: _Service, card: CardTransport | MyNumberCard, pin: str) -> IssuedToken:
    """Log in without HTTP: a bearer token from the staff service itself."""
    challenge = service.challenge().value
    certificate, signature = sign_with_card(card, pin, challenge)
    return service.login_with_card(challenge, certificate, signature)
