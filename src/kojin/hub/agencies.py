"""The hub's registry of agencies (機関情報): their keys, kinds and where their intermediate server is.

Every statement on the ``agencies`` table is here. Entries are cached once
read: every exchange looks up its requester and its provider, and an entry
changes only through :meth:`AgencyRegistry.set_endpoint`, which drops it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from kojin.core.crypto import b64
from kojin.core.keys import open_secret, sealed_if_asked
from kojin.hub import reasons
from kojin.hub.domain import AgencyKind, invalid, validate_agency_id
from kojin.hub.store import agencies


@dataclass(frozen=True, slots=True)
class AgencyEntry:
    """A registered agency as the hub knows it (機関情報)."""

    agency_id: str
    name: str
    kind: AgencyKind
    sign_public: bytes
    box_public: bytes
    channel_key: bytes = field(repr=False)
    endpoint: str | None
    box_public_b64: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Sent in every query to this agency's providers: encoded once.
        object.__setattr__(self, "box_public_b64", b64(self.box_public))

    def public_record(self) -> dict[str, Any]:
        return {
            "agency_id": self.agency_id,
            "name": self.name,
            "kind": self.kind.value,
            "sign_public": b64(self.sign_public),
            "box_public": b64(self.box_public),
        }


class AgencyRegistry:
    """Registered agencies, read through a cache of entries."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._entries: dict[str, AgencyEntry] = {}

    def register(
        self,
        agency_id: str,
        *,
        name: str,
        kind: AgencyKind | str,
        sign_public: bytes,
        box_public: bytes,
        channel_key: bytes,
        endpoint: str | None = None,
    ) -> AgencyEntry:
        """Enter an agency with its public keys and the channel key for its intermediate server."""
        validate_agency_id(agency_id)
        kind = _kind(kind)
        if not name or len(name) > 200:
            raise invalid("name", "名称は200文字以内です。", "a name is 1–200 characters.")
        if len(sign_public) != 32 or len(box_public) != 32 or len(channel_key) != 32:
            raise invalid("keys", "鍵の長さが不正です。", "keys must be 32 bytes.")
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(agencies).values(
                        agency_id=agency_id,
                        name=name,
                        kind=kind.value,
                        sign_public=sign_public,
                        box_public=box_public,
                        channel_key=sealed_if_asked(channel_key),
                        endpoint=endpoint or None,
                        registered_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            raise reasons.AGENCY_EXISTS.error(agency_id=agency_id) from None
        return self.get(agency_id)

    def set_endpoint(self, agency_id: str, endpoint: str | None) -> AgencyEntry:
        """Point the hub at an agency's intermediate server over HTTP (None: in process)."""
        self.get(agency_id)
        with self._engine.begin() as conn:
            conn.execute(update(agencies).where(agencies.c.agency_id == agency_id).values(endpoint=endpoint or None))
        self._entries.pop(agency_id, None)
        return self.get(agency_id)

    def find(self, agency_id: str) -> AgencyEntry | None:
        entry = self._entries.get(agency_id)
        if entry is None:
            with self._engine.connect() as conn:
                row = conn.execute(select(agencies).where(agencies.c.agency_id == agency_id)).first()
            if row is None:
                return None  # not cached: an agency registered later by another process is found then
            entry = AgencyEntry(
                row.agency_id,
                row.name,
                AgencyKind(row.kind),
                bytes(row.sign_public),
                bytes(row.box_public),
                open_secret(bytes(row.channel_key), "hub.agencies.channel_key"),
                row.endpoint,
            )
            self._entries[agency_id] = entry
        return entry

    def get(self, agency_id: str, field: str = "agency_id") -> AgencyEntry:
        entry = self.find(agency_id)
        if entry is None:
            raise reasons.UNKNOWN_AGENCY.error(role_ja="機関", agency_id=agency_id, role_en="Agency", field=field)
        return entry

    def all(self) -> list[AgencyEntry]:
        with self._engine.connect() as conn:
            ids = [str(r[0]) for r in conn.execute(select(agencies.c.agency_id).order_by(agencies.c.agency_id))]
        return [self.get(i) for i in ids]


def _kind(kind: AgencyKind | str) -> AgencyKind:
    try:
        return AgencyKind(kind)
    except ValueError:
        raise invalid("kind", "機関の種別が不明です。", "unknown agency kind.") from None
