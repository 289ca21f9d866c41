"""The hub's code registry (機関別符号): its key, the persons it knows and the codes it handed out.

Every statement on ``hub_keys``, ``persons`` and ``codes`` is here, with the
caches the exchange path reads instead of the store: codes never change once
issued and are derived from the one code key, so a cached code or subject key
is never stale (the caches are only bounded, so a national population does
not live in one process).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from kojin.core.bulk import bulk_insert, select_in
from kojin.core.group_commit import ThreadReaders
from kojin.core.keys import party_secret
from kojin.hub import reasons
from kojin.hub.agencies import AgencyRegistry
from kojin.hub.disputes import DisputedCodes, LinkState
from kojin.hub.domain import (
    FRESHNESS_SECONDS,
    CodeDeriver,
    ExchangeRequest,
    check_channel_mac,
    invalid,
    subject_commitment,
    subject_tag,
)
from kojin.hub.store import codes, hub_keys, persons

_LINK_ID = re.compile(r"^[0-9a-f]{64}\Z")
_CODE_CACHE_MAX = 1_000_000


def jlis_code_message(agency_id: str, link_id: str, sent: int) -> dict[str, Any]:
    """What J-LIS MACs when it asks the hub for an agency's code over HTTP."""
    return {"kojin": "jlis-code-request/1", "agency_id": agency_id, "link_id": link_id, "time": sent}


class CodeRegistry:
    """Issues and resolves agency codes; derives subject keys."""

    def __init__(
        self,
        engine: Engine,
        readers: ThreadReaders,
        agencies: AgencyRegistry,
        disputes: DisputedCodes,
        *,
        jlis_channel_key: Callable[[], bytes] | None,
        clock: Callable[[], float],
    ) -> None:
        self._engine = engine
        self._readers = readers
        self._agencies = agencies
        self._disputes = disputes
        # The key J-LIS MACs link-id messages with, asked of J-LIS when needed.
        self._jlis_channel_key = jlis_channel_key
        self._clock = clock
        self._deriver: CodeDeriver | None = None
        self._owners: dict[str, tuple[str, str]] = {}
        # The reverse (agency, person) -> code, and each person's subject key:
        # both derived from the code key, computed once per person here
        # rather than per exchange (base32 alone costs more than the lookup).
        self._codes_of: dict[tuple[str, str], str] = {}
        self._subject_keys: dict[str, bytes] = {}

    # -- the key ---------------------------------------------------------------
    def ensure_keys(self) -> None:
        """Create the code key on first start (idempotent, safe between processes)."""
        self.deriver()

    def deriver(self) -> CodeDeriver:
        if self._deriver is None:
            self._deriver = CodeDeriver(party_secret(self._engine, hub_keys, "code_key"))
        return self._deriver

    # -- issuing ---------------------------------------------------------------
    def issue_code(self, agency_id: str, link_id: str) -> str:
        """The agency's code for the person behind J-LIS's link id; the same on every call.

        Only J-LIS calls this: it turns an agency's number into a link id and
        passes that here, so the number itself never reaches the hub.
        """
        self._agencies.get(agency_id)
        _check_link_id(link_id)
        internal_id = self.person(link_id, create=True)
        assert internal_id is not None
        code = self.deriver().code(agency_id, internal_id)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(codes).values(
                        code=code, agency_id=agency_id, internal_id=internal_id, issued_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            pass  # issued before: the same code again
        return code

    def issue_codes(self, agency_id: str, link_ids: Sequence[str]) -> list[str]:
        """:meth:`issue_code` for many people in one transaction (an insurer's first enrolment).

        Codes are the same as one at a time would give; people and codes the
        hub already has are reused. On a clash with a concurrent issuer the
        batch falls back to one at a time.
        """
        self._agencies.get(agency_id)
        for link_id in link_ids:
            _check_link_id(link_id)
        wanted = list(dict.fromkeys(link_ids))
        deriver = self.deriver()
        now = datetime.now(UTC)
        try:
            with self._engine.begin() as conn:
                known = {
                    str(a): str(b) for a, b in select_in(conn, persons, ("link_id", "internal_id"), "link_id", wanted)
                }
                fresh = [(secrets.token_hex(16), lid, now) for lid in wanted if lid not in known]
                bulk_insert(conn, persons, ("internal_id", "link_id", "created_at"), fresh)
                known.update({lid: iid for iid, lid, _ in fresh})
                code_of = {lid: deriver.code(agency_id, known[lid]) for lid in wanted}
                issued = {str(c) for (c,) in select_in(conn, codes, ("code",), "code", list(code_of.values()))}
                bulk_insert(
                    conn,
                    codes,
                    ("code", "agency_id", "internal_id", "issued_at"),
                    [(code, agency_id, known[lid], now) for lid, code in code_of.items() if code not in issued],
                )
        except IntegrityError:
            return [self.issue_code(agency_id, lid) for lid in link_ids]
        return [code_of[lid] for lid in link_ids]

    def issue_code_signed(self, agency_id: str, body: Mapping[str, Any]) -> str:
        """:meth:`issue_code` for a message from J-LIS over HTTP, MACed with the J-LIS channel key."""
        link_id, sent, mac = body.get("link_id"), body.get("time"), body.get("mac")
        if not isinstance(link_id, str):
            raise invalid("link_id", "ありません。", "missing.")
        if not isinstance(sent, int) or isinstance(sent, bool):
            raise invalid("time", "整数（Unix 秒）ではありません。", "must be Unix seconds.")
        key = self._jlis_channel_key() if self._jlis_channel_key is not None else None
        message = jlis_code_message(agency_id, link_id, sent)
        if key is None or not check_channel_mac(key, message, mac):
            raise reasons.BAD_CHANNEL_MAC.error()
        if abs(self._clock() - sent) > FRESHNESS_SECONDS:
            raise reasons.STALE_REQUEST.error(what_ja="通知", freshness_seconds=FRESHNESS_SECONDS, what_en="message")
        return self.issue_code(agency_id, link_id)

    # -- resolving -------------------------------------------------------------
    def subject_key_for(self, link_id: str) -> bytes:
        """The person's own key to recognise their leaves in the log (for the portal only)."""
        internal_id = self.person(link_id, create=False)
        if internal_id is None:
            raise reasons.UNKNOWN_PERSON.error()
        return self.deriver().subject_key(internal_id)

    def find_code(self, agency_id: str, link_id: str) -> str | None:
        """The agency's code for the person behind ``link_id`` if one was issued; issues none.

        The eligibility service asks this for each insurer it knows, so that
        a person's check does not hand codes to insurers they never joined.
        A code a supervisor found wrongly linked no longer names the person.
        """
        self._agencies.get(agency_id)
        _check_link_id(link_id)
        internal_id = self.person(link_id, create=False)
        if internal_id is None:
            return None
        code = self.deriver().code(agency_id, internal_id)
        if self.owner(code) is None or self._disputes.state(code) is LinkState.RETIRED:
            return None
        return code

    def link_id_of(self, agency_id: str, code: str) -> str | None:
        """J-LIS's link id for the person behind an agency's code (None: not that agency's code).

        Only J-LIS asks, for a narrow answer about the person it gives the
        agency (:meth:`kojin.numbering.service.NumberingService.last_four_for_link`).
        """
        owner = self.owner(code)
        if owner is None or owner[0] != agency_id:
            return None
        with self._engine.connect() as conn:
            found = conn.execute(select(persons.c.link_id).where(persons.c.internal_id == owner[1])).scalar()
        return None if found is None else str(found)

    def person(self, link_id: str, *, create: bool) -> str | None:
        query = select(persons.c.internal_id).where(persons.c.link_id == link_id)
        with self._engine.connect() as conn:
            found = conn.execute(query).scalar()
        if found is not None or not create:
            return None if found is None else str(found)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(persons).values(
                        internal_id=secrets.token_hex(16), link_id=link_id, created_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            pass  # created concurrently: use that one
        with self._engine.connect() as conn:
            return str(conn.execute(query).scalar_one())

    def holders(self, codes_: Sequence[str]) -> dict[str, tuple[str, str]]:
        """For each of ``codes_`` the hub issued: the agency it was issued to and the person's link id."""
        found: dict[str, tuple[str, str]] = {}
        with self._engine.connect() as conn:
            for i in range(0, len(codes_), 20_000):
                rows = select_in(conn, codes, ("code", "agency_id", "internal_id"), "code", codes_[i : i + 20_000])
                internal = {str(r[2]) for r in rows}
                link_of = {
                    str(p[0]): str(p[1])
                    for p in select_in(conn, persons, ("internal_id", "link_id"), "internal_id", sorted(internal))
                }
                for code, agency_id, internal_id in rows:
                    found[str(code)] = (str(agency_id), link_of[str(internal_id)])
        return found

    def owner(self, code: str) -> tuple[str, str] | None:
        """The agency a code was issued to and the person's internal id; None if it never was."""
        owner = self._owners.get(code)
        if owner is None:
            row = self._readers.first("SELECT agency_id, internal_id FROM codes WHERE code = ?", (code,))
            if row is None:
                return None
            owner = (str(row[0]), str(row[1]))
            if len(self._owners) >= _CODE_CACHE_MAX:
                self._owners.clear()
            self._owners[code] = owner
        return owner

    def code_for(self, agency_id: str, internal_id: str) -> str:
        """The agency's code for the person (derived, so cached as freely as the code table)."""
        code = self._codes_of.get((agency_id, internal_id))
        if code is None:
            code = self.deriver().code(agency_id, internal_id)
            if len(self._codes_of) >= _CODE_CACHE_MAX:
                self._codes_of.clear()
            self._codes_of[(agency_id, internal_id)] = code
        return code

    def subject(self, internal_id: str, request: ExchangeRequest) -> str:
        """The commitment to the person a request is about, for its leaf."""
        return subject_commitment(self._subject_key(internal_id), request.requester, request.request_id)

    def tag(self, internal_id: str) -> bytes:
        """The person's tag in the log's index of leaves."""
        return subject_tag(self._subject_key(internal_id))

    def _subject_key(self, internal_id: str) -> bytes:
        key = self._subject_keys.get(internal_id)
        if key is None:
            key = self.deriver().subject_key(internal_id)
            if len(self._subject_keys) >= _CODE_CACHE_MAX:
                self._subject_keys.clear()
            self._subject_keys[internal_id] = key
        return key


def _check_link_id(link_id: object) -> None:
    if not isinstance(link_id, str) or not _LINK_ID.match(link_id):
        raise invalid("link_id", "連携用符号は64桁の16進数です。", "a link id is 64 hex digits.")
