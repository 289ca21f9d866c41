"""The clerk's review pages (要確認案件の審査画面), server-rendered, no JavaScript.

``/linkage/review`` lists open cases; ``/linkage/review/{id}`` shows the member
beside each candidate with per-item agreement (marked with ○ △ × as well as
colour) and a plain form to decide. Every POST carries a signed CSRF token
bound to the case; a decision is recorded with the clerk's name and the time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kojin.core.errors import KojinError, NotFound
from kojin.core.i18n import pick
from kojin.linkage import reasons
from kojin.linkage.matcher import LINK_AT
from kojin.linkage.records import FIELD_LABELS, REASON_LABELS, ReasonItem
from kojin.linkage.report import environment
from kojin.linkage.review import CandidateView, CaseView, Clerk
from kojin.linkage.service import MatchingService
from kojin.staff.domain import Organisation, OrganisationKind, Role, StaffPrincipal
from kojin.staff.guard import StaffDoors
from kojin.staff.service import StaffService
from kojin.web.errors import register_html_prefix
from kojin.web.params import INT_MAX, RowId, RowOffset

BASE = "/linkage/review"
_PAGE = 50
_STATUS = {
    "open": ("未処理", "open"),
    "pending_second": ("別の担当者の確認待ち", "waiting for a second clerk"),
    "linked": ("紐付け済み", "linked"),
    "no_match": ("該当者なし", "no match"),
    "superseded": ("再照会により終了", "superseded by a later submission"),
}
_SEX = {"1": "男 (1)", "2": "女 (2)"}


def reason_label(reason: ReasonItem) -> str:
    ja, en = REASON_LABELS[reason.code]
    if reason.field:
        field_ja, field_en = FIELD_LABELS.get(reason.field, (reason.field, reason.field))
        return f"{ja}（{field_ja}） / {en} ({field_en})"
    return f"{ja} / {en}"


@dataclass(frozen=True)
class _Cell:
    value: str
    mark: str
    css: str
    note: str = ""


@dataclass(frozen=True)
class _Row:
    label: str
    label_en: str
    member: str
    cells: list[_Cell]


_AGREE, _PART, _NO = ("○", "agree"), ("△", "partial"), ("×", "disagree")
_KANJI = {"exact": _AGREE, "kanji_kana_close": _AGREE, "kanji_only": _AGREE, "kana_kanji_close": _PART, "close": _PART}
_KANA = {"exact": _AGREE, "kana_kanji_close": _AGREE, "kana_only": _AGREE, "kanji_kana_close": _PART, "close": _PART}
_ADDRESS = {"full": _AGREE, "full_no_postal": _PART, "partial": _PART, "postal_only": _PART, "town_only": _PART}


def _worst(*marks: tuple[str, str]) -> tuple[str, str]:
    order = [_AGREE, _PART, _NO]
    return max(marks, key=order.index)


def _cell(value: str, mark: tuple[str, str], note: str = "") -> _Cell:
    return _Cell(value, mark[0], mark[1], note)


def _rows(case: CaseView) -> list[_Row]:
    member = case.member
    cs: list[CandidateView] = list(case.candidates)

    def name_cell(c: CandidateView) -> _Cell:
        mark = _worst(_KANJI.get(c.levels.get("surname", ""), _NO), _KANJI.get(c.levels.get("given", ""), _NO))
        note = ("旧氏名: " + "、".join(c.old_names)) if c.old_names else ""
        return _cell(c.name, mark, note)

    def kana_cell(c: CandidateView) -> _Cell:
        mark = _worst(_KANA.get(c.levels.get("surname", ""), _NO), _KANA.get(c.levels.get("given", ""), _NO))
        return _cell(c.kana, mark)

    def address_cell(c: CandidateView) -> _Cell:
        note = ("旧住所: " + "、".join(c.old_addresses)) if c.old_addresses else ""
        if c.via_old_address:
            note = "旧住所で一致 (agrees with an old address). " + note
        return _cell(c.address, _ADDRESS.get(c.levels.get("address", ""), _NO), note)

    return [
        _Row("氏名", "name", member.name, [name_cell(c) for c in cs]),
        _Row("フリガナ", "kana", member.kana, [kana_cell(c) for c in cs]),
        _Row(
            "性別",
            "sex",
            _SEX.get(member.sex.value, member.sex.value),
            [_cell(_SEX.get(c.sex, c.sex), _AGREE if c.levels.get("sex") == "agree" else _NO) for c in cs],
        ),
        _Row(
            "生年月日",
            "birth date",
            member.birth_date.isoformat(),
            [
                _cell(
                    c.birth_date.isoformat(), {"exact": _AGREE, "near": _PART}.get(c.levels.get("birth_date", ""), _NO)
                )
                for c in cs
            ],
        ),
        _Row(
            "郵便番号",
            "postal code",
            member.postal_code,
            [_cell(c.postal_code, _AGREE if c.postal_code == member.postal_code else _NO) for c in cs],
        ),
        _Row("住所", "address", member.address, [address_cell(c) for c in cs]),
        _Row("住民の状態", "status", "", [_cell(c.status, _AGREE if c.status == "resident" else _NO) for c in cs]),
    ]


LINKAGE_OFFICE = Organisation(OrganisationKind.LINKAGE, "linkage")
REVIEW_PURPOSE = "名寄せの確認"


def _clerk(staff: StaffService, principal: StaffPrincipal) -> Clerk:
    """The clerk as decisions record them, once they are shown to be the linkage office's."""
    staff.authorise(principal, Role.LINKAGE_CLERK, LINKAGE_OFFICE)
    return Clerk(principal.staff_id, staff.member(principal.staff_id).display_name)


def make_router(service: MatchingService, doors: StaffDoors) -> APIRouter:
    """The review pages, self-contained under ``/linkage/review``: the linkage clerks' office only.

    A case shows its candidates' basic four items, so opening one records a
    look at each candidate; a decision is recorded under the logged-in clerk.
    """
    router = APIRouter(prefix=BASE, include_in_schema=False)
    clerk_door = Depends(doors.role(Role.LINKAGE_CLERK))
    staff = doors.staff
    clerk_of = functools.partial(_clerk, staff)

    register_html_prefix(BASE)  # the app's own errors here (422, 404) are pages too, and bodies are limited
    env = environment()

    def page(template: str, status: int = 200, **values: object) -> HTMLResponse:
        html = env.get_template(template).render(base=BASE, reason_label=reason_label, link_at=LINK_AT, **values)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def error_page(exc: KojinError) -> HTMLResponse:
        return page("review_error.html", exc.status, message_ja=exc.message_ja, message_en=exc.message_en)

    def case_page(
        case_id: int, principal: StaffPrincipal, *, status: int = 200, message: str = "", error: str = ""
    ) -> HTMLResponse:
        clerk = clerk_of(principal)
        case = service.case(case_id)
        staff.record_shown(principal, [str(c.resident_id) for c in case.candidates], REVIEW_PURPOSE, "search")
        ja, en = _STATUS.get(case.status, (case.status, case.status))
        return page(
            "review_case.html",
            status,
            case=case,
            rows=_rows(case),
            status_label=f"{ja} / {en}",
            csrf_token=service.csrf_token(f"case:{case_id}"),
            clerk=clerk,
            message=message,
            error=error,
        )

    @router.get("", response_class=HTMLResponse)
    def queue(offset: RowOffset = 0, principal: StaffPrincipal = clerk_door) -> HTMLResponse:
        clerk_of(principal)
        cases = service.cases(status="open", limit=_PAGE, offset=offset)
        return page("review_list.html", cases=cases, open_count=service.count_cases("open"), offset=offset, limit=_PAGE)

    @router.get("/{case_id}", response_class=HTMLResponse)
    def show(case_id: RowId, done: RowOffset = 0, principal: StaffPrincipal = clerk_door) -> HTMLResponse:
        try:
            message = pick("判断を記録しました。", "The decision was recorded.") if done else ""
            return case_page(case_id, principal, message=message)
        except NotFound as exc:
            return error_page(exc)

    @router.post("/{case_id}", response_class=HTMLResponse)
    def decide(
        case_id: RowId,
        choice: Annotated[str, Form(max_length=20)] = "",
        csrf_token: Annotated[str, Form(max_length=200)] = "",
        principal: StaffPrincipal = clerk_door,
    ) -> Response:
        clerk = clerk_of(principal)
        try:
            service.check_csrf(csrf_token, f"case:{case_id}")
            if choice == "no_match":
                service.decide(case_id, clerk=clerk, no_match=True)
            elif choice.isascii() and choice.isdigit() and int(choice) <= INT_MAX:
                service.decide(case_id, clerk=clerk, resident_id=int(choice))
            else:
                raise reasons.CHOICE.error()
        except NotFound as exc:
            return error_page(exc)
        except KojinError as exc:
            try:
                return case_page(case_id, principal, status=exc.status, error=f"{exc.message_ja} / {exc.message_en}")
            except NotFound as missing:
                return error_page(missing)
        return RedirectResponse(f"{BASE}/{case_id}?done=1", status_code=303)

    return router
