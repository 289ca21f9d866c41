"""Everything kojin holds about a person, in one download (データの書き出し).

A ZIP with ``kojin-export.json`` (everything, nested) and one CSV per part
(UTF-8 with a byte-order mark so spreadsheet software opens the Japanese
right). Cards are described by their state only: no private key and no PIN
ever leaves the card, and the individual number is not included (it reaches
the person by the notice and the card, never through a download).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kojin.portal.domain import Scope
from kojin.registry.domain import history_record, resident_record

if TYPE_CHECKING:
    from kojin.portal.service import Portal, PortalContext

FORMAT = "kojin-portal-export/1"


def _card(state: Any) -> dict[str, object]:
    return {
        "card_id": state.card_id,
        "status": state.status,
        "issued_on": state.issued_on.isoformat(),
        "expires_on": state.expires_on.isoformat(),
        "auth_serial": str(state.auth_serial),
        "sign_serial": str(state.sign_serial) if state.sign_serial else None,
        "auth_status": state.auth_status,
        "sign_status": state.sign_status,
        "pin_tries_left": dict(state.pin_tries),
        "chip_stale": state.chip_stale,
    }


def collect(portal: Portal, ctx: PortalContext) -> dict[str, Any]:
    """The person's data as one JSON-ready mapping."""
    ctx.require(Scope.EXPORT)
    person = ctx.subject
    today = portal.today()
    household = [
        {"name": m.name, "kana": m.kana, "relationship": m.relationship, "birth_date": m.birth_date.isoformat()}
        for m in portal.register.household_members(person.household_id)
        if m.status.value == "resident"
    ]
    register = resident_record(person)
    # The register's own row id is an internal key of the municipality; the
    # export names the person by their data, not by a database id.
    register.pop("resident_id", None)
    register.pop("household_id", None)
    account = portal.accounts.get(person.resident_id)
    proxies = []
    for relation in portal.proxies.involving(person.resident_id):
        role = "principal" if relation.principal_id == person.resident_id else "proxy"
        other = relation.proxy_resident_id if role == "principal" else relation.principal_id
        proxies.append({"role": role, "other": portal.name_of(other), **relation.as_record(today)})
    exchanges: list[dict[str, Any]] = []
    if portal.history is not None:
        exchanges = [e.as_record() for e in portal.history.entries(person)]
    return {
        "format": FORMAT,
        "exported_at": datetime.now(UTC).isoformat(),
        "register": register,
        "household": household,
        "register_history": [history_record(h) for h in portal.register.history_of(person.resident_id)],
        "cards": [_card(c) for c in portal.cards.cards_of(person)],
        "public_funds_account": account.as_record() if account else None,
        "proxies": proxies,
        "notices": [n.as_record() for n in portal.notices.of(person.resident_id)],
        "portal_activity": [a.as_record() for a in portal.activity.for_person(person.resident_id)],
        "exchange_history": exchanges,
        "link_disputes": [d.for_person() for d in portal.disputes.of(person.resident_id)],
        "staff_looks": [
            {
                "at": look.at.isoformat(),
                "office": look.organisation,
                "role": look.role,
                "purpose": look.purpose,
                "what": look.what,
            }
            for look in (portal.staff_looks.of(person) if portal.staff_looks is not None else [])
        ],
    }


def _csv(rows: Iterable[Mapping[str, Any]]) -> bytes:
    rows = list(rows)
    buf = io.StringIO()
    if rows:
        names: list[str] = []
        for row in rows:
            names.extend(k for k in row if k not in names)
        writer = csv.DictWriter(buf, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v for k, v in row.items()}
            )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def build_export(portal: Portal, ctx: PortalContext) -> tuple[bytes, str]:
    """The ZIP and its file name; the export is recorded in the activity log."""
    data = collect(portal, ctx)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("kojin-export.json", json.dumps(data, ensure_ascii=False, indent=2))
        zf.writestr("register.csv", _csv([data["register"]]))
        zf.writestr("household.csv", _csv(data["household"]))
        zf.writestr("register_history.csv", _csv(data["register_history"]))
        zf.writestr("cards.csv", _csv(data["cards"]))
        zf.writestr(
            "public_funds_account.csv", _csv([data["public_funds_account"]] if data["public_funds_account"] else [])
        )
        zf.writestr("proxies.csv", _csv(data["proxies"]))
        zf.writestr("notices.csv", _csv(data["notices"]))
        zf.writestr("portal_activity.csv", _csv(data["portal_activity"]))
        zf.writestr("exchange_history.csv", _csv(data["exchange_history"]))
        zf.writestr("staff_looks.csv", _csv(data["staff_looks"]))
        zf.writestr("link_disputes.csv", _csv(data["link_disputes"]))
    portal.record(ctx, "export")
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return out.getvalue(), f"kojin-export-{stamp}.zip"
