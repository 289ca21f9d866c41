"""The citizen portal (マイナポータル): the person's own window on kojin.

:class:`Portal` is the one entry the web pages call. It logs people in with
the card (never with the number), decides on every request whose pages the
session may show (:meth:`Portal.context`), and records in the activity log
everything done for someone else.

The session alone decides whose data a page shows: no URL or form carries a
resident id. Acting for another person is a choice among opaque handles,
each derived from the session's own key, re-checked on every request.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from kojin.auth.service import CardAuthService
from kojin.card import reasons as card_reasons
from kojin.card.issuance import CardOffice, CardState
from kojin.core.errors import InvalidInput, KojinError, NotFound
from kojin.pki import reasons as pki_reasons
from kojin.pki.domain import CertStatus
from kojin.portal import reasons
from kojin.portal import reasons as portal_reasons
from kojin.portal.accounts import AccountRecord, PublicFundsAccounts
from kojin.portal.activity import ActivityEntry, ActivityLog
from kojin.portal.disputes import Dispute, DisputeStore
from kojin.portal.domain import (
    PARENT_SCOPES,
    SCOPE_LABELS,
    AccountStatus,
    ActingKind,
    DisputeState,
    LinkKind,
    Scope,
    dispute_note,
    dispute_outcome,
    is_parent_of,
    validate_account,
)
from kojin.portal.history import ExchangeHistory
from kojin.portal.links import Link, PersonLinks
from kojin.portal.notices import NoticeService
from kojin.portal.proxies import Invitation, ProxyRecord, ProxyService
from kojin.portal.selfinfo import SelfInfoResult, SelfInformation
from kojin.portal.sessions import PortalSession, SessionStore
from kojin.portal.staff_looks import StaffLooks
from kojin.registry.domain import Resident
from kojin.registry.service import RegisterService
from kojin.staff.domain import Organisation, OrganisationKind, Role, StaffPrincipal
from kojin.staff.service import StaffService

if TYPE_CHECKING:
    from kojin.agency.directory import AgencyDirectory
    from kojin.audit.service import ExchangeLog
    from kojin.eligibility.service import EligibilityService
    from kojin.hub.service import HubService
    from kojin.numbering.service import NumberingService

RELYING_PARTY = "portal"
DISPUTE_PURPOSE = "ひも付けの誤りの申し出の確認"
_INSERTION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")
MAX_ANSWER_B64 = 12_000


@dataclass(frozen=True)
class ActingChoice:
    """Someone whose pages the logged-in person may open (本人・子・委任者)."""

    handle: str
    resident: Resident
    kind: ActingKind
    proxy_id: int | None = None
    scopes: tuple[Scope, ...] = ()


@dataclass(frozen=True)
class PortalContext:
    """One request's view: who is at the screen, whose pages, and how far."""

    session: PortalSession
    user: Resident
    subject: Resident
    kind: ActingKind
    scopes: tuple[Scope, ...]
    choices: list[ActingChoice] = field(default_factory=list)

    @property
    def acting(self) -> bool:
        return self.kind is not ActingKind.SELF

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes

    def require(self, scope: Scope) -> None:
        if not self.allows(scope):
            ja, en = SCOPE_LABELS[scope]
            raise reasons.OUT_OF_SCOPE.error(label_ja=ja, label_en=en)


def _b64(value: str, field_name: str) -> bytes:
    if not value or len(value) > MAX_ANSWER_B64:
        raise reasons.BAD_ANSWER.error(what_ja="カード", what_en="card", field=field_name)
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise reasons.BAD_ANSWER.error(what_ja="カード", what_en="card", field=field_name) from None


class Portal:
    """The portal party: sessions, the person's pages, and what they may change."""

    def __init__(
        self,
        engine: Engine,
        *,
        register: RegisterService,
        cards: CardOffice,
        auth: CardAuthService,
        hub: HubService | None = None,
        numbering: NumberingService | None = None,
        agencies: AgencyDirectory | None = None,
        exchange_log: Callable[[], ExchangeLog] | None = None,
        staff: StaffService | None = None,
        eligibility: EligibilityService | None = None,
        clock: Callable[[], float] = time.time,
        idle_seconds: int | None = None,
    ) -> None:
        self.engine = engine
        self.register = register
        self.cards = cards
        self.auth = auth
        self.hub = hub
        self.sessions = SessionStore(engine, idle_seconds=idle_seconds, clock=clock)
        self.accounts = PublicFundsAccounts(engine)
        self.proxies = ProxyService(engine)
        self.activity = ActivityLog(engine)
        self.notices = NoticeService(engine)
        self.disputes = DisputeStore(engine)
        self.links = PersonLinks(hub, numbering, eligibility)
        # The hub-facing pages need the hub, J-LIS (link ids) and the log.
        self.history: ExchangeHistory | None = None
        self.selfinfo: SelfInformation | None = None
        if hub is not None and numbering is not None and exchange_log is not None:
            self.history = ExchangeHistory(exchange_log, hub, numbering)
        if hub is not None and numbering is not None and agencies is not None:
            self.selfinfo = SelfInformation(hub, agencies, numbering)
        # Staff looks at the person (あなたの情報を見た職員の記録).
        self.staff_looks = StaffLooks(staff, hub, numbering) if staff is not None else None
        self.staff = staff

    def today(self) -> date:
        return self.cards.ca.today()

    # -- login (card + PIN through the reader) -------------------------------------
    def begin_login(self, old_token: str | None) -> tuple[str, PortalSession]:
        """A new login ends whatever session this browser had, then waits for the card."""
        self._end(old_token, "logout")
        return self.sessions.start_login(self.auth.challenge(RELYING_PARTY).value)

    def complete_login(
        self, token: str | None, *, challenge: str, certificate_b64: str, signature_b64: str, insertion_id: str
    ) -> tuple[str, PortalSession]:
        """Check the card's answer to this browser's challenge and open a session for that card."""
        # The pending login is spent whatever the outcome: a failed answer
        # cannot be retried against the same challenge, and an answer never
        # extends a session that was already open here.
        pending = self.sessions.take_pending(token)
        if pending is None or self.sessions.expired(pending):
            self._end(token, "logout")
            raise reasons.LOGIN_RESTART.error()
        if not hmac.compare_digest((pending.challenge or "").encode(), (challenge or "").encode()):
            raise reasons.CHALLENGE_MISMATCH.error()
        if not _INSERTION_ID.match(insertion_id or ""):
            raise reasons.BAD_ANSWER.error(what_ja="カードリーダー", what_en="reader")
        certificate = _b64(certificate_b64, "certificate")
        signature = _b64(signature_b64, "signature")
        try:
            result = self.auth.verify(RELYING_PARTY, challenge, certificate, signature)
        except KojinError as exc:
            if exc.code == pki_reasons.REVOKED.code:  # said in the portal's words: report, reissue
                raise reasons.CARD_REVOKED.error() from None
            raise
        # A cached "good" lasts a second at most; a card reported lost in another
        # process that second ago must not log in either, so ask the CA's record.
        if self._revoked(result.serial):
            raise reasons.CARD_REVOKED.error()
        card_id = self.cards.card_for_serial(result.serial)
        code = result.subject.juminhyo_code
        resident = self.register.find_by_code(code) if code else None
        if card_id is None or resident is None:
            raise reasons.UNKNOWN_CARD.error()
        new_token, session = self.sessions.open(
            card_id=card_id, auth_serial=result.serial, insertion_id=insertion_id, resident_id=resident.resident_id
        )
        self.activity.record(resident.resident_id, resident.resident_id, ActingKind.SELF, "login")
        return new_token, session

    def logout(self, token: str | None) -> None:
        self._end(token, "logout")

    def _end(self, token: str | None, action: str) -> None:
        session = self.sessions.end(token)
        if session is not None and session.active and session.resident_id is not None:
            self.activity.record(session.resident_id, session.resident_id, ActingKind.SELF, action)

    # -- every request -------------------------------------------------------------
    def context(self, token: str | None) -> PortalContext:
        """The checked session and whose pages it shows; ends the session when its card is gone."""
        session = self.sessions.check(token)
        assert session.resident_id is not None and session.auth_serial is not None
        if self._revoked(session.auth_serial):
            self.sessions.end_hash(session.token_hash)
            raise portal_reasons.SESSION_ENDED.error()
        user = self.register.get(session.resident_id)
        choices = self.acting_choices(session, user)
        chosen = None
        if session.acting_for is not None:
            chosen = next(
                (
                    c
                    for c in choices
                    if c.resident.resident_id == session.acting_for
                    and c.kind is session.acting_kind
                    and c.proxy_id == session.proxy_id
                ),
                None,
            )
            if chosen is None:
                # The relation ended (revoked, expired, the child turned 15, a
                # move): back to the person's own pages, at once.
                self.sessions.set_acting(session, None, ActingKind.SELF)
                session = self.sessions.check(token)
        if chosen is None or chosen.kind is ActingKind.SELF:
            return PortalContext(session, user, user, ActingKind.SELF, tuple(Scope), choices)
        return PortalContext(session, user, chosen.resident, chosen.kind, chosen.scopes, choices)

    def _revoked(self, serial: int) -> bool:
        try:
            return self.cards.ca.status(serial).status is not CertStatus.GOOD
        except KojinError:
            return True

    def _handle(self, session: PortalSession, kind: ActingKind, resident_id: int, proxy_id: int | None) -> str:
        mac = hmac.digest(session.handle_key, f"acting|{kind.value}|{resident_id}|{proxy_id}".encode(), "sha256")
        return base64.urlsafe_b64encode(mac[:12]).decode()

    def acting_choices(self, session: PortalSession, user: Resident) -> list[ActingChoice]:
        today = self.today()
        out = [
            ActingChoice(
                self._handle(session, ActingKind.SELF, user.resident_id, None),
                user,
                ActingKind.SELF,
                scopes=tuple(Scope),
            )
        ]
        for member in self.register.household_members(user.household_id):
            if is_parent_of(user, member, today):
                out.append(
                    ActingChoice(
                        self._handle(session, ActingKind.PARENT, member.resident_id, None),
                        member,
                        ActingKind.PARENT,
                        scopes=PARENT_SCOPES,
                    )
                )
        for relation in self.proxies.principals_of(user.resident_id, today):
            try:
                principal = self.register.get(relation.principal_id)
            except NotFound:
                continue
            out.append(
                ActingChoice(
                    self._handle(session, ActingKind.PROXY, principal.resident_id, relation.proxy_id),
                    principal,
                    ActingKind.PROXY,
                    relation.proxy_id,
                    relation.scope,
                )
            )
        return out

    def switch_acting(self, ctx: PortalContext, handle: str) -> PortalContext:
        chosen = next((c for c in ctx.choices if hmac.compare_digest(c.handle.encode(), (handle or "").encode())), None)
        if chosen is None:
            raise reasons.NO_SUCH_PERSON.error()
        if chosen.kind is ActingKind.SELF:
            self.sessions.set_acting(ctx.session, None, ActingKind.SELF)
        else:
            self.sessions.set_acting(ctx.session, chosen.resident.resident_id, chosen.kind, chosen.proxy_id)
            self.activity.record(ctx.user.resident_id, chosen.resident.resident_id, chosen.kind, "acting_start")
        return PortalContext(
            ctx.session,
            ctx.user,
            chosen.resident,
            chosen.kind,
            chosen.scopes if chosen.scopes else tuple(Scope),
            ctx.choices,
        )

    def record(self, ctx: PortalContext, action: str, detail: str = "") -> None:
        self.activity.record(ctx.user.resident_id, ctx.subject.resident_id, ctx.kind, action, detail)

    def viewed(self, ctx: PortalContext, scope: Scope) -> None:
        """A page opened for someone else is shown to that person too."""
        ctx.require(scope)
        if ctx.acting:
            self.record(ctx, "view", SCOPE_LABELS[scope][0])

    # -- 自己情報取得 ------------------------------------------------------------------
    def fetch_self_info(self, ctx: PortalContext, key: str) -> SelfInfoResult:
        """Ask the hub for the subject's own item; the fetch is an exchange, shown to both people."""
        ctx.require(Scope.ME)
        if self.selfinfo is None:
            raise reasons.SELFINFO_UNAVAILABLE.error()
        result = self.selfinfo.fetch(ctx.subject, key)
        self.record(ctx, "self_info", f"{result.provider_name} {result.item}")
        return result

    # -- 公金受取口座 ----------------------------------------------------------------
    def register_account(
        self,
        ctx: PortalContext,
        *,
        bank_code: str,
        branch_code: str,
        account_type: str,
        account_number: str,
        holder_kana: str,
    ) -> AccountRecord:
        ctx.require(Scope.ACCOUNT)
        account = validate_account(bank_code, branch_code, account_type, account_number, holder_kana)
        try:
            record = self.accounts.register(ctx.subject, account)
        except InvalidInput as exc:
            self.record(ctx, "account_refused", exc.code)
            raise
        self.record(ctx, "account_review" if record.status is AccountStatus.REVIEW else "account_registered")
        return record

    # -- ひも付けの確認と誤りの申し出 ----------------------------------------------------
    def link_handle(self, ctx: PortalContext, link: Link) -> str:
        mac = hmac.digest(ctx.session.handle_key, f"link|{link.key}".encode(), "sha256")
        return base64.urlsafe_b64encode(mac[:12]).decode()

    def links_of(self, ctx: PortalContext) -> list[Link]:
        """Every agency code, insurance membership and the account tied to the subject."""
        ctx.require(Scope.LINKS)
        person = ctx.subject
        return self.links.of(person, self.accounts.get(person.resident_id), self.disputes.of(person.resident_id))

    def disputes_of(self, ctx: PortalContext) -> list[Dispute]:
        ctx.require(Scope.LINKS)
        return self.disputes.of(ctx.subject.resident_id)

    def dispute_link(self, ctx: PortalContext, handle: str, note: str | None) -> Dispute:
        """「これは自分ではない・誤りがある」: the link is suspended at once, for a supervisor to decide."""
        text = dispute_note(note)
        link = next(
            (
                found
                for found in self.links_of(ctx)
                if hmac.compare_digest(self.link_handle(ctx, found).encode(), (handle or "").encode())
            ),
            None,
        )
        if link is None:
            raise reasons.LINK_NOT_FOUND.error()
        if link.dispute is not None:
            raise reasons.LINK_ALREADY_DISPUTED.error()
        dispute = self.disputes.open(
            ctx.subject.resident_id,
            actor_id=ctx.user.resident_id,
            kind=link.kind,
            agency_id=link.agency_id,
            code=link.code,
            label=link.name,
            note=text,
        )
        self._suspend(dispute)
        self.record(ctx, "link_disputed", f"{dispute.kind_label} {dispute.label}")
        return dispute

    def _suspend(self, dispute: Dispute) -> None:
        if dispute.kind is LinkKind.ACCOUNT:
            self.accounts.suspend(dispute.resident_id)
        elif self.hub is not None and dispute.agency_id is not None and dispute.code is not None:
            self.hub.suspend_link(dispute.agency_id, dispute.code)

    def resolver_of(self, dispute: Dispute) -> Organisation:
        """Whose supervisor decides: J-LIS for a code or a membership, the person's municipality for the account."""
        if dispute.kind is LinkKind.ACCOUNT:
            return Organisation(OrganisationKind.MUNICIPALITY, self.register.get(dispute.resident_id).municipality_code)
        return Organisation(OrganisationKind.JLIS, OrganisationKind.JLIS.value)

    def disputes_for(self, principal: StaffPrincipal) -> list[Dispute]:
        """Undecided disputes this supervisor may decide, each look at the person recorded first."""
        found = [
            d
            for d in self.disputes.pending()
            if principal.role is Role.LOCAL_ADMIN or self.resolver_of(d) == principal.organisation
        ]
        if self.staff is not None:
            for d in found:
                self.staff.record_access(principal, str(d.resident_id), DISPUTE_PURPOSE, "search")
        return found

    def decide_dispute(
        self, principal: StaffPrincipal, dispute_id: int, outcome: str | None, note: str | None
    ) -> Dispute:
        """A supervisor of the deciding office decides; the decision is in the staff access log before it takes."""
        decided = dispute_outcome(outcome)
        dispute = self.disputes.get(dispute_id)
        organisation = self.resolver_of(dispute)
        if self.staff is None:
            raise reasons.DISPUTE_NOT_FOUND.error()
        if principal.role is not Role.LOCAL_ADMIN:
            self.staff.authorise(principal, [Role.SUPERVISOR], organisation)
        self.staff.record_access(principal, str(dispute.resident_id), DISPUTE_PURPOSE, "write")
        return self.resolve_dispute(
            dispute_id, decided, staff_id=principal.staff_id, organisation=organisation, note=note
        )

    def resolve_dispute(
        self, dispute_id: int, outcome: DisputeState, *, staff_id: str, organisation: Organisation, note: str | None
    ) -> Dispute:
        """A supervisor's decision: the link was right (lifted) or wrong (removed, to be made again correctly)."""
        text = dispute_note(note)
        if outcome is DisputeState.OPEN:
            raise reasons.DISPUTE_BAD_OUTCOME.error()
        # The decision is recorded first: of two supervisors deciding at once, one wins.
        dispute = self.disputes.resolve(
            dispute_id, outcome, staff_id=staff_id, organisation=str(organisation), note=text
        )
        if dispute.kind is LinkKind.ACCOUNT:
            key = dispute.code or ""
            if outcome is DisputeState.CONFIRMED:
                self.accounts.restore(dispute.resident_id, key)
            else:
                self.accounts.remove(dispute.resident_id, key)
        elif self.hub is not None and dispute.code is not None:
            if outcome is DisputeState.CONFIRMED:
                self.hub.lift_link(dispute.code)
            else:
                self.hub.retire_link(dispute.code)
        if self.links.eligibility is not None:  # its minute's cache of the person's memberships
            self.links.eligibility.forget_patient(self.register.get(dispute.resident_id).juminhyo_code)
        self.activity.record(
            dispute.resident_id, dispute.resident_id, ActingKind.SELF, f"link_{outcome.value}", dispute.label
        )
        return dispute

    # -- card ------------------------------------------------------------------------
    def cards_of(self, ctx: PortalContext) -> list[CardState]:
        ctx.require(Scope.CARD)
        return self.cards.cards_of(ctx.subject)

    def report_lost(self, ctx: PortalContext, which: int) -> CardState:
        """紛失届: revoke the card at once; every session opened with it ends."""
        ctx.require(Scope.CARD)
        # A card waiting to be returned still holds good certificates: it can be lost too.
        states = [c for c in self.cards.cards_of(ctx.subject) if c.status in ("active", "to_return")]
        if not 0 <= which < len(states):
            raise card_reasons.NOT_FOUND.error()
        state = self.cards.report_lost(states[which].card_id)
        self.record(ctx, "card_lost")
        self.sessions.end_card(state.card_id)
        return state

    # -- proxies ---------------------------------------------------------------------
    def proxy_handle(self, ctx: PortalContext, proxy_id: int) -> str:
        mac = hmac.digest(ctx.session.handle_key, f"proxy|{proxy_id}".encode(), "sha256")
        return base64.urlsafe_b64encode(mac[:12]).decode()

    def invite_proxy(self, ctx: PortalContext, scope: tuple[Scope, ...], expires_on: date) -> Invitation:
        """Only the person themself appoints a proxy (not a proxy, not a parent acting)."""
        ctx.require(Scope.PROXIES)
        self._own_pages_only(ctx)
        invitation = self.proxies.invite(ctx.user.resident_id, scope, expires_on, today=self.today())
        self.record(ctx, "proxy_invited", ",".join(s.value for s in scope))
        return invitation

    def accept_proxy(self, ctx: PortalContext, code: str) -> ProxyRecord:
        self._own_pages_only(ctx)
        record = self.proxies.accept(ctx.user.resident_id, code, today=self.today())
        # Shown to both: the proxy accepted, about the principal.
        self.activity.record(
            ctx.user.resident_id,
            record.principal_id,
            ActingKind.PROXY,
            "proxy_accepted",
            ",".join(s.value for s in record.scope),
        )
        return record

    def revoke_proxy(self, ctx: PortalContext, handle: str) -> ProxyRecord:
        self._own_pages_only(ctx)
        for relation in self.proxies.involving(ctx.user.resident_id):
            if hmac.compare_digest(self.proxy_handle(ctx, relation.proxy_id).encode(), (handle or "").encode()):
                record = self.proxies.revoke(ctx.user.resident_id, relation.proxy_id)
                other = record.proxy_resident_id if record.principal_id == ctx.user.resident_id else record.principal_id
                self.activity.record(ctx.user.resident_id, other, ActingKind.SELF, "proxy_revoked")
                self.sessions.end_acting_for(record.principal_id, record.proxy_resident_id)
                return record
        raise reasons.PROXY_NOT_FOUND.error()

    def _own_pages_only(self, ctx: PortalContext) -> None:
        if ctx.acting:
            raise reasons.OWN_PAGES_ONLY.error()

    def activity_of(self, ctx: PortalContext) -> list[ActivityEntry]:
        """The subject's activity log (done by them or about them), with names for the other side."""
        ctx.require(Scope.ACTIVITY)
        return self.activity.for_person(ctx.subject.resident_id)

    def name_of(self, resident_id: int) -> str:
        try:
            return self.register.get(resident_id).name
        except NotFound:
            return "—"

    # -- notices ---------------------------------------------------------------------
    def send_notice(self, resident_id: int, *, sender_id: str, title: str, body: str) -> int:
        """An agency posts a notice to one resident; the sender must be an agency known to the hub."""
        resident = self.register.get(resident_id)
        agency = self.hub.find_agency(sender_id) if self.hub is not None and len(sender_id) <= 40 else None
        if agency is None:
            raise reasons.NOTICE_UNKNOWN_SENDER.error(sender_id=sender_id[:40])
        return self.notices.send(
            resident.resident_id, sender_id=agency.agency_id, sender_name=agency.name, title=title, body=body
        )
