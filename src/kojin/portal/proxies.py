"""Appointed proxies (任意代理人): invitations, acceptance, scope, expiry, revocation.

The person (principal) issues an invitation code with a scope and an expiry
and hands the code to the proxy out of band; the proxy logs in with their own
card and enters it. No resident id ever crosses a form: the code is the only
link, it is single use, valid for 24 hours, and stored only as a hash.
Whether a proxy may still act is checked on every request
(:meth:`ProxyService.active`), so a revocation or an expiry takes effect on
the proxy's next click.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, insert, or_, select, update

from kojin.core.errors import InvalidInput, NotFound
from kojin.portal import reasons
from kojin.portal.domain import Scope, check_proxy_expiry, scope_from_text, scope_text
from kojin.portal.store import proxies, proxy_invitations

INVITATION_HOURS = 24
# No 0/O, 1/I/L: the code is read aloud or copied from paper.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LEN = 12


def _code_hash(code: str) -> str:
    text = unicodedata.normalize("NFKC", code).upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(f"kojin-proxy-invitation|{text}".encode()).hexdigest()


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ProxyRecord:
    """A proxy relation (代理人の登録)."""

    proxy_id: int
    principal_id: int
    proxy_resident_id: int
    scope: tuple[Scope, ...]
    expires_on: date
    created_at: datetime
    revoked_at: datetime | None

    def in_force(self, today: date) -> bool:
        return self.revoked_at is None and today <= self.expires_on

    def as_record(self, today: date) -> dict[str, object]:
        return {
            "scope": [s.value for s in self.scope],
            "expires_on": self.expires_on.isoformat(),
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "in_force": self.in_force(today),
        }


@dataclass(frozen=True)
class Invitation:
    code: str
    scope: tuple[Scope, ...]
    expires_on: date
    valid_until: datetime


def _record(row: object) -> ProxyRecord:
    r = row._mapping  # type: ignore[attr-defined]
    return ProxyRecord(
        int(r["proxy_id"]),
        int(r["principal_id"]),
        int(r["proxy_resident_id"]),
        scope_from_text(r["scope"]),
        r["expires_on"],
        _utc(r["created_at"]) or datetime.now(UTC),
        _utc(r["revoked_at"]),
    )


def _bad_code() -> InvalidInput:
    return reasons.PROXY_BAD_INVITATION.error()


class ProxyService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def invite(self, principal_id: int, scope: tuple[Scope, ...], expires_on: date, *, today: date) -> Invitation:
        check_proxy_expiry(expires_on, today)
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LEN))
        code = "-".join(raw[i : i + 4] for i in range(0, _CODE_LEN, 4))
        now = datetime.now(UTC)
        valid_until = now + timedelta(hours=INVITATION_HOURS)
        with self.engine.begin() as conn:
            conn.execute(
                insert(proxy_invitations).values(
                    code_hash=_code_hash(code),
                    principal_id=principal_id,
                    scope=scope_text(scope),
                    expires_on=expires_on,
                    valid_until=valid_until,
                    created_at=now,
                )
            )
        return Invitation(code, scope, expires_on, valid_until)

    def accept(self, proxy_resident_id: int, code: str, *, today: date) -> ProxyRecord:
        """The proxy, logged in with their own card, takes up an invitation."""
        if not code or len(code) > 40:
            raise _bad_code()
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            inv = conn.execute(
                select(proxy_invitations).where(proxy_invitations.c.code_hash == _code_hash(code))
            ).first()
            valid_until = _utc(inv.valid_until) if inv is not None else None
            if inv is None or inv.used_at is not None or valid_until is None or valid_until < now:
                raise _bad_code()
            if int(inv.principal_id) == proxy_resident_id:
                raise reasons.PROXY_SELF.error()
            if inv.expires_on <= today:
                raise _bad_code()
            conn.execute(
                update(proxy_invitations).where(proxy_invitations.c.code_hash == inv.code_hash).values(used_at=now)
            )
            # A new appointment of the same pair replaces the old one.
            conn.execute(
                update(proxies)
                .where(
                    proxies.c.principal_id == inv.principal_id,
                    proxies.c.proxy_resident_id == proxy_resident_id,
                    proxies.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            result = conn.execute(
                insert(proxies).values(
                    principal_id=inv.principal_id,
                    proxy_resident_id=proxy_resident_id,
                    scope=inv.scope,
                    expires_on=inv.expires_on,
                    created_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            proxy_id = int(key[0])
        return self.get(proxy_id)

    def get(self, proxy_id: int) -> ProxyRecord:
        with self.engine.connect() as conn:
            row = conn.execute(select(proxies).where(proxies.c.proxy_id == proxy_id)).first()
        if row is None:
            raise reasons.PROXY_NOT_FOUND.error()
        return _record(row)

    def involving(self, resident_id: int) -> list[ProxyRecord]:
        """Every relation where the person is principal or proxy, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(proxies)
                .where(or_(proxies.c.principal_id == resident_id, proxies.c.proxy_resident_id == resident_id))
                .order_by(proxies.c.proxy_id.desc())
            ).all()
        return [_record(r) for r in rows]

    def principals_of(self, proxy_resident_id: int, today: date) -> list[ProxyRecord]:
        """The relations in force in which this person is the proxy."""
        return [
            p
            for p in self.involving(proxy_resident_id)
            if p.proxy_resident_id == proxy_resident_id and p.in_force(today)
        ]

    def active(self, proxy_id: int, proxy_resident_id: int, principal_id: int, today: date) -> ProxyRecord | None:
        """The relation, if it is still in force for exactly these two people."""
        try:
            record = self.get(proxy_id)
        except NotFound:
            return None
        if (
            record.proxy_resident_id != proxy_resident_id
            or record.principal_id != principal_id
            or not record.in_force(today)
        ):
            return None
        return record

    def revoke(self, resident_id: int, proxy_id: int) -> ProxyRecord:
        """Either side may end a relation; no one else can (they get "not found")."""
        record = self.get(proxy_id)
        if resident_id not in (record.principal_id, record.proxy_resident_id):
            raise reasons.PROXY_NOT_FOUND.error()
        with self.engine.begin() as conn:
            conn.execute(
                update(proxies)
                .where(proxies.c.proxy_id == proxy_id, proxies.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return self.get(proxy_id)
