"""The composition root (bootstrap): builds every party and wires them together.

``kojin up``, the CLI, the tests and the benchmarks all call :func:`build`, so
there is exactly one way the system is assembled. Each party gets the engine of
its own store and nothing else; parties reach one another only through the
services handed to them here and through the event bus.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from kojin.agency.directory import AgencyDirectory
from kojin.audit.service import ExchangeLog
from kojin.auth.service import CardAuthService
from kojin.card.issuance import CardOffice
from kojin.clinic.service import ClinicService  # clinics (issue 6)
from kojin.core.config import Settings
from kojin.core.db import Database, register_party
from kojin.core.events import EventBus
from kojin.corporate.service import CorporateRegister
from kojin.ehr.service import EhrService  # clinics (issue 6)
from kojin.eligibility.insurer.service import InsurerDirectory  # clinics (issue 6)
from kojin.eligibility.links import JlisHubLinks  # clinics (issue 6)
from kojin.eligibility.service import EligibilityService  # clinics (issue 6)
from kojin.hub.service import HubService
from kojin.hub.transport import IntermediateRouter
from kojin.linkage.audit import AuditReport, HeldLink, LinkPath
from kojin.linkage.records import MemberRecord
from kojin.linkage.service import MatchingService  # linkage (issue 7)
from kojin.numbering.holder import HolderCheck
from kojin.numbering.service import NumberingService
from kojin.pki.domain import REVOKED_ON_EVENT
from kojin.pki.linkage import RelyingPartyKind, SerialLinkage
from kojin.pki.ocsp import OcspResponder
from kojin.pki.service import CertificateAuthority
from kojin.pki.verify import OcspCache, OcspClient
from kojin.portal.service import Portal  # portal (issue 5)
from kojin.registry.domain import CardProof, Sex
from kojin.registry.service import RegisterService
from kojin.staff.cardlogin import CardVerifier
from kojin.staff.service import StaffService

register_party("registry", "kojin.registry")
register_party("numbering", "kojin.numbering")
register_party("corporate", "kojin.corporate")
register_party("pki", "kojin.pki")
register_party("auth", "kojin.auth")
# Information linkage: the hub and the exchange log. Each agency is a party
# too (agency_<id>), registered when it is created or found at the hub.
register_party("hub", "kojin.hub")
register_party("audit", "kojin.audit")
# Record linkage by the four basic items (issue 7): J-LIS's matching service.
register_party("linkage", "kojin.linkage")
# The citizen portal (issue 5): sessions, public-funds accounts, proxies, notices.
register_party("portal", "kojin.portal")
# Clinics (issue 6): the eligibility service (支払基金・国保中央会) and the
# e-health record service; each insurer is a party too (insurer_<id>).
register_party("eligibility", "kojin.eligibility")
register_party("ehr", "kojin.ehr")
# Staff identities, their access tokens, the staff access log and bulk approvals.
register_party("staff", "kojin.staff")

# Relying parties registered with J-LIS in every installation (検証者).
# The counter reads a moving-in person's card to confirm their 住民票コード.
COUNTER_RELYING_PARTY = "counter"

PUBLIC_RELYING_PARTIES = {
    COUNTER_RELYING_PARTY: "市区町村窓口（転入の本人確認）",
    "portal": "マイナポータル",
    "eligibility": "オンライン資格確認（支払基金・国保中央会）",
    "kiosk": "コンビニ交付",
}


@dataclass
class Kojin:
    """Every party of one kojin installation."""

    settings: Settings
    db: Database
    bus: EventBus
    numbering: NumberingService
    register: RegisterService
    corporate: CorporateRegister
    ca: CertificateAuthority
    ocsp: OcspResponder
    linkage: SerialLinkage
    cards: CardOffice
    auth: CardAuthService
    hub: HubService
    agencies: AgencyDirectory
    matching: MatchingService  # linkage (issue 7): 基本4情報による照合
    portal: Portal  # portal (issue 5): マイナポータル
    eligibility: EligibilityService  # clinics (issue 6): オンライン資格確認
    insurers: InsurerDirectory  # clinics (issue 6): 医療保険者
    ehr: EhrService  # clinics (issue 6): 電子カルテ情報共有
    clinics: ClinicService  # clinics (issue 6): the clinic walk
    staff: StaffService  # 職員: identities, tokens, the access log, the two-person rule
    # The exchange log is opened on first use: opening reads the whole tree,
    # and a store must not be read before the tests have emptied it.
    _exchange_log: ExchangeLog | None = field(default=None, repr=False)
    _log_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def exchange_log(self) -> ExchangeLog:
        """The durable exchange log (やりとり履歴ログ) of the audit party."""
        opened = self._exchange_log
        if opened is not None:
            return opened  # read on every exchange: no lock once it is open
        with self._log_lock:
            if self._exchange_log is None:
                self._exchange_log = ExchangeLog(self.db.engine("audit"))
            return self._exchange_log

    def initialise(self) -> None:
        """Create what every installation needs once: keys, CAs, relying parties (idempotent)."""
        self.numbering.ensure_key()
        self.ca.bootstrap()
        self.linkage.ensure_key()
        self.auth.ensure_key()
        self.hub.ensure_keys()
        self.matching.ensure_key()  # linkage (issue 7)
        self.eligibility.ensure_key()  # clinics (issue 6)
        self.staff.ensure_key()
        for rp_id, name in PUBLIC_RELYING_PARTIES.items():
            self.linkage.ensure_registered(rp_id, name, RelyingPartyKind.PUBLIC)

    def audit_links(self) -> AuditReport:
        """The integrity audit (総点検) over every link, by every path it was made: the matching service's
        (the matcher alone, one clerk, two clerks), the codes agencies obtained with a number, insurers'
        enrolments, and public-funds accounts. Only the matching service reads whom a code names."""
        by_code = [
            HeldLink(agency_id, local_id, code, None, LinkPath.NUMBER)
            for agency_id in self.agencies.ids()
            for local_id, code in self.agencies.get(agency_id).iter_people()
        ]
        for insurer_id in self.insurers.ids():
            for m in self.insurers.get(insurer_id).iter_members():
                member = MemberRecord(
                    m["local_id"], m["name"], m["kana"], Sex(m["sex"]), m["birth_date"], m["postal_code"], m["address"]
                )
                by_code.append(HeldLink(insurer_id, m["local_id"], m["member_code"], member, LinkPath.INSURER))
        return self.matching.audit(by_code=by_code, accounts=self.portal.accounts.iter_accounts())

    def close(self) -> None:
        self.auth.close()
        self.hub.close()
        self.agencies.close()
        self.matching.close()  # linkage (issue 7)
        self.eligibility.close()  # clinics (issue 6)
        self.staff.close()
        if self._exchange_log is not None:
            self._exchange_log.close()
        self.db.dispose()


def build(settings: Settings | None = None, *, migrate: bool = True) -> Kojin:
    """Assemble kojin; with ``migrate`` the stores are brought up to date first."""
    settings = settings or Settings()
    db = Database(settings)
    if migrate:
        db.migrate_all()
    bus = EventBus()
    numbering = NumberingService(db.engine("numbering"))
    register = RegisterService(db.engine("registry"), numbering, bus)
    corporate = CorporateRegister(db.engine("corporate"))
    ca = CertificateAuthority(db.engine("pki"), base_url=settings.base_url)
    # The register tells the CA what happened; the CA decides what to revoke.
    for event_name in REVOKED_ON_EVENT:
        bus.subscribe(event_name, ca.handle_register_event)
    cards = CardOffice(db.engine("pki"), register, numbering, ca, settings.cards_dir, algorithm=settings.card_algorithm)
    cards.follow(bus)
    ocsp, linkage, auth = _card_checks(db, ca)
    register.confirm_cards_with(*_counter_cards(auth))
    # Information linkage: the hub reaches agencies hosted here in process and
    # the others at their registered endpoint; the log is the audit party's.
    # (The lambdas are late-bound: the directory and kojin exist before any exchange.)
    hub = HubService(
        db.engine("hub"),
        lambda: kojin.exchange_log,
        IntermediateRouter(lambda agency_id: directory.intermediate(agency_id)),
        jlis_channel_key=numbering.hub_channel_key,
    )
    directory = AgencyDirectory(db, hub, numbering, HolderCheck(numbering, register.find_by_code))
    if migrate:
        directory.migrate_known()
    # Clinics (issue 6): J-LIS and the hub reach the eligibility service through links.
    links = JlisHubLinks(numbering, hub)
    eligibility = EligibilityService(db.engine("eligibility"), links)
    insurers = InsurerDirectory(db, eligibility, links.obtain_codes, links.number_tail)
    ehr = EhrService(db.engine("ehr"))
    if migrate:
        insurers.migrate_known()
    staff = _staff(db, settings, ca, ocsp, cards, lambda: kojin.exchange_log)
    kojin = Kojin(
        settings=settings,
        db=db,
        bus=bus,
        numbering=numbering,
        register=register,
        corporate=corporate,
        ca=ca,
        ocsp=ocsp,
        linkage=linkage,
        cards=cards,
        auth=auth,
        hub=hub,
        agencies=directory,
        matching=MatchingService(db.engine("linkage"), register, numbering, hub, bus),  # linkage (issue 7)
        portal=Portal(  # portal (issue 5)
            db.engine("portal"),
            register=register,
            cards=cards,
            auth=auth,
            hub=hub,
            numbering=numbering,
            agencies=directory,
            exchange_log=lambda: kojin.exchange_log,
            staff=staff,
            eligibility=eligibility,
        ),
        eligibility=eligibility,
        insurers=insurers,
        ehr=ehr,  # clinics (issue 6)
        clinics=ClinicService(auth, eligibility, ehr, insurers, links),
        staff=staff,
    )
    if migrate:
        kojin.initialise()
    return kojin


def _card_checks(db: Database, ca: CertificateAuthority) -> tuple[OcspResponder, SerialLinkage, CardAuthService]:
    """J-LIS's OCSP responder, serial linkage, and the card authentication every relying party uses."""
    ocsp = OcspResponder(ca)
    linkage = SerialLinkage(db.engine("pki"))
    # In one process the relying parties ask the responder directly; deployed
    # apart they would use kojin.pki.verify.http_fetch(ca.ocsp_url).
    ocsp_lookup = OcspCache(OcspClient(ocsp.respond))
    # A revocation here reaches the cache at once; one made by another process
    # is seen when the cache re-asks (it believes "good" for a second at most).
    ca.on_revoked(ocsp_lookup.forget)
    return ocsp, linkage, CardAuthService(db.engine("auth"), ca.trust_store, ocsp_lookup, linkage)


def _counter_cards(auth: CardAuthService) -> tuple[Callable[[CardProof], str], Callable[[], str]]:
    """How the register checks a card read at the counter, and where its challenges come from."""

    def holder(card: CardProof) -> str:
        """The card's 住民票コード, once its challenge, chain, revocation and signature are checked."""
        subject = auth.verify(COUNTER_RELYING_PARTY, card.challenge, card.certificate, card.signature).subject
        if subject.juminhyo_code is None:  # a public relying party is always told the code
            raise RuntimeError("the counter is not a public relying party")
        return subject.juminhyo_code

    return holder, lambda: auth.challenge(COUNTER_RELYING_PARTY).value


def _staff(
    db: Database,
    settings: Settings,
    ca: CertificateAuthority,
    ocsp: OcspResponder,
    cards: CardOffice,
    exchange_log: Callable[[], ExchangeLog],
) -> StaffService:
    """The staff party: staff cards checked by OCSP uncached (a card revoked a minute ago cannot log in),
    and every staff look at a person also a leaf of the tamper-evident exchange log."""
    return StaffService(
        db.engine("staff"),
        cards=CardVerifier(ca.staff_trust, OcspClient(ocsp.respond)),
        revoke_card_certificate=cards.revoke_staff_card,
        exports_dir=settings.data_dir / "exports",
        leaves=exchange_log,
    )
