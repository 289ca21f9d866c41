"""Staff access tokens: OAuth 2 bearer tokens as signed JWTs (RFC 9068 style), made and checked with joserfc.

A token names one staff member and the role and organisation they held when it
was issued (``sub``, ``role``, ``org``), when it was issued and until when it
holds (``iat``, ``exp``; short-lived), its own id (``jti``), by which a
logout revokes it, and the staff card it was issued for (``card``: the card's
certificate serial, absent for a token issued without a card), by which a
revoked or replaced card stops it. It is signed with Ed25519 (JOSE ``alg`` ``Ed25519``, RFC 9864)
under the staff party's own key. Each way a token can fail has its own reason
code: malformed, signed by another key, expired, revoked.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, JoseError
from joserfc.jwk import OKPKey

from kojin.core.errors import KojinError
from kojin.staff import reasons
from kojin.staff.domain import Organisation, StaffMember, StaffPrincipal, parse_role

TOKEN_TTL_S = 15 * 60
ISSUER = "kojin-staff"
TOKEN_TYPE = "at+jwt"
ALGORITHMS = ["Ed25519"]
MAX_TOKEN_CHARS = 2048
VERIFIED_KEPT = 4096
"""Tokens whose signature this signer remembers having checked (every staff member's current ones, many times over)."""


@dataclass(frozen=True)
class IssuedToken:
    """An access token as the token endpoint returns it (RFC 6749 §5.1)."""

    access_token: str
    token_id: str
    expires_at: datetime
    expires_in: int
    token_type: str = "Bearer"
    scope: str = ""  # what it lets its holder do: the role, in the organisation


class TokenSigner:
    """Issues and checks staff tokens under one Ed25519 key (its 32-byte seed)."""

    def __init__(self, seed: bytes, *, clock: Callable[[], float] = time.time, ttl_s: int = TOKEN_TTL_S) -> None:
        self._key = OKPKey.import_key(Ed25519PrivateKey.from_private_bytes(seed))
        self._clock = clock
        self.ttl_s = ttl_s
        # Token → its claims, once its signature and header were found good. A
        # signature stays good for ever under this key, so only the check of
        # the claims against the clock (and the caller's look-ups) runs again:
        # the signature check is most of a token check's CPU, and a member
        # presents the same token on every request for its quarter of an hour.
        self._verified: dict[str, dict[str, object]] = {}
        self._verified_lock = threading.Lock()

    def issue(self, member: StaffMember) -> IssuedToken:
        now = int(self._clock())
        token_id = secrets.token_urlsafe(18)
        claims: dict[str, object] = {
            "iss": ISSUER,
            "sub": member.staff_id,
            "role": member.role.value,
            "org": str(member.organisation),
            "iat": now,
            "exp": now + self.ttl_s,
            "jti": token_id,
        }
        if member.card_serial is not None:
            claims["card"] = member.card_serial
        token = jwt.encode({"alg": ALGORITHMS[0], "typ": TOKEN_TYPE}, claims, self._key, algorithms=ALGORITHMS)
        scope = f"role:{member.role.value} org:{member.organisation}"
        return IssuedToken(token, token_id, datetime.fromtimestamp(now + self.ttl_s, UTC), self.ttl_s, scope=scope)

    def check(self, token: str | None, *, revoked: Callable[[str], bool] | None = None) -> StaffPrincipal:
        """The principal the token names, or a 401 with the reason it fails.

        ``revoked`` is asked about the token's id once everything else holds;
        without it the caller checks revocation itself.
        """
        if not token:
            raise reasons.TOKEN_MISSING.error()
        if len(token) > MAX_TOKEN_CHARS:
            raise reasons.TOKEN_MALFORMED.error()
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
        # Built per check: "now" is this check's time.
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock()),
            iss={"essential": True, "value": ISSUER},
            sub={"essential": True},
            role={"essential": True},
            org={"essential": True},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise reasons.TOKEN_EXPIRED.error() from None
        except JoseError:
            raise reasons.TOKEN_MALFORMED.error() from None
        return self._principal(claims, revoked)

    def _verify(self, token: str) -> dict[str, object]:
        """The claims of a token signed under this key with our header; remembered (the clock is not asked here)."""
        try:
            decoded = jwt.decode(token, self._key, algorithms=ALGORITHMS)
        except BadSignatureError:
            raise reasons.TOKEN_BAD_SIGNATURE.error() from None
        except (JoseError, ValueError, TypeError):
            raise reasons.TOKEN_MALFORMED.error() from None
        if decoded.header.get("typ") != TOKEN_TYPE:
            raise reasons.TOKEN_MALFORMED.error()
        claims: dict[str, object] = decoded.claims
        with self._verified_lock:
            if len(self._verified) >= VERIFIED_KEPT:
                self._verified.pop(next(iter(self._verified)))  # the longest remembered: likely expired by now
            self._verified[token] = claims
        return claims

    @staticmethod
    def _principal(claims: dict[str, object], revoked: Callable[[str], bool] | None) -> StaffPrincipal:
        values = (claims["sub"], claims["role"], claims["org"], claims["jti"])
        if not all(isinstance(v, str) for v in values) or not isinstance(claims["exp"], int):
            raise reasons.TOKEN_MALFORMED.error()
        staff_id, role, org, token_id = (str(v) for v in values)
        card = claims.get("card")
        if card is not None and not isinstance(card, str):
            raise reasons.TOKEN_MALFORMED.error()
        try:
            principal = StaffPrincipal(
                staff_id,
                parse_role(role),
                Organisation.parse(org),
                token_id,
                datetime.fromtimestamp(claims["exp"], UTC),
                card,
            )
        except KojinError:  # a role or organisation this installation does not know
            raise reasons.TOKEN_MALFORMED.error() from None
        if revoked is not None and revoked(token_id):
            raise reasons.TOKEN_REVOKED.error()
        return principal
