"""The reader's pages (カードリーダー画面), mounted at ``/reader``.

A relying party sends the person here with its challenge (``challenge``), its
own state token (``state``, handed back untouched) and where to answer
(``return``, one of :data:`~kojin.reader.service.RETURN_PATHS`). The person
puts a card in by typing its id, types the PIN here — never into the relying
party's page — and the reader posts the certificate and signature back.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from kojin.card.errors import PinFormatError, PinLocked, PinWrong
from kojin.core.errors import KojinError, NotFound
from kojin.core.i18n import language, pick
from kojin.reader import reasons
from kojin.reader.service import RETURN_PATHS, CardView, ReaderService, Slot
from kojin.web.i18n import request_language
from kojin.web.security import FormFields, check_csrf, read_cookie, set_cookie
from kojin.web.templating import render

COOKIE = "kojin_reader"
_STATE = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")
# A card id as typed: 32 hex digits, with the spaces of the printed groups, perhaps full-width.
_TYPED_ID_CHARS = 100
_CHALLENGE = re.compile(r"^kojin-challenge/1\.[A-Za-z0-9_.-]{10,280}\Z")


@dataclass(frozen=True)
class LoginRequest:
    """A relying party's request to sign (its challenge, state and return path)."""

    challenge: str
    state: str
    return_path: str

    @property
    def party(self) -> str:
        return RETURN_PATHS[self.return_path]

    def query(self) -> str:
        return urlencode({"challenge": self.challenge, "state": self.state, "return": self.return_path})


def login_request(challenge: str | None, state: str | None, return_path: str | None) -> LoginRequest | None:
    if not challenge and not state and not return_path:
        return None
    if (
        not challenge
        or not _CHALLENGE.match(challenge)
        or not state
        or not _STATE.match(state)
        or return_path not in RETURN_PATHS
    ):
        raise reasons.BAD_REQUEST.error(what_ja="ログイン", what_en="login")
    return LoginRequest(challenge, state, return_path)


@dataclass(frozen=True)
class ReaderPages:
    """The reader and the steps its pages take: the slot kept in a cookie, the page, the posted form, signing."""

    reader: ReaderService

    def slot_of(self, request: Request) -> Slot:
        return self.reader.decode(read_cookie(request, COOKIE)) or self.reader.new_slot()

    def with_slot(self, response: Response, request: Request, slot: Slot) -> Response:
        set_cookie(response, request, COOKIE, self.reader.encode(slot), path="/reader")
        return response

    def page(
        self, request: Request, slot: Slot, login: LoginRequest | None, *, status: int = 200, **extra: Any
    ) -> Response:
        view: CardView | None = None
        if slot.card_id is not None:
            try:
                view = self.reader.read(slot.card_id)
            except KojinError:
                # The card file went away (or cannot be read): the slot is empty.
                slot = self.reader.remove(slot)
        context = {
            "slot": slot,
            "view": view,
            "cards": self.reader.listed_cards(),
            "demo_cards": self.reader.list_cards,
            "login": login,
            "reader_csrf": slot.csrf,
            **extra,
        }
        return self.with_slot(render(request, "reader/index.html", context, status_code=status), request, slot)

    def back(self, request: Request, slot: Slot, login: LoginRequest | None) -> Response:
        url = "/reader/" + (f"?{login.query()}" if login else "")
        return self.with_slot(RedirectResponse(url, status_code=303), request, slot)

    async def form_of(self, request: Request, slot: Slot) -> tuple[FormFields, LoginRequest | None]:
        form = await FormFields.read(request)
        check_csrf(slot.csrf, form.get("reader_csrf", max_chars=200))
        login = login_request(
            form.get("challenge", max_chars=300),
            form.get("state", max_chars=100),
            form.get("return", max_chars=100),
        )
        return form, login

    def sign(self, request: Request, slot: Slot, login: LoginRequest | None, form: FormFields) -> Response:
        """The card in the slot signs the login's challenge with the PIN typed: the answer, or why there is none."""
        if login is None:
            raise reasons.BAD_REQUEST.error(what_ja="署名", what_en="signature")
        if slot.card_id is None or slot.insertion_id is None:
            raise reasons.NO_CARD.error()
        pin = form.get("pin", max_chars=16)
        with language(request_language(request)):
            try:
                certificate, signature = self.reader.sign(slot.card_id, pin, login.challenge)
            except PinWrong as exc:
                return self.page(request, slot, login, status=401, error=exc.message, tries_left=exc.tries_left)
            except PinLocked:
                message = pick(
                    "暗証番号がロックされています。カードを持って、お住まいの市区町村の窓口で暗証番号の初期化（再設定）を受けてください。",
                    "The PIN is locked. Take the card to your municipal office (市区町村の窓口) to have the PIN reset.",
                )
                return self.page(request, slot, login, status=403, error=message, locked=True)
            except PinFormatError as exc:
                return self.page(request, slot, login, status=422, error=exc.message)
        answer = {
            "challenge": login.challenge,
            "certificate": base64.b64encode(certificate).decode(),
            "signature": base64.b64encode(signature).decode(),
            "insertion_id": slot.insertion_id,
            "csrf_token": login.state,
        }
        return self.with_slot(render(request, "reader/answer.html", {"login": login, "answer": answer}), request, slot)


def make_router(reader: ReaderService) -> APIRouter:
    router = APIRouter(prefix="/reader", include_in_schema=False)
    pages = ReaderPages(reader)

    @router.get("/")
    def index(request: Request) -> Response:
        slot = pages.slot_of(request)
        q = request.query_params
        login = login_request(q.get("challenge"), q.get("state"), q.get("return"))
        return pages.page(request, slot, login)

    @router.post("/insert")
    async def insert(request: Request) -> Response:
        slot = pages.slot_of(request)
        form, login = await pages.form_of(request, slot)
        typed = form.get("card_id", max_chars=_TYPED_ID_CHARS, required=True)
        try:
            slot = reader.insert(slot, typed)
        except NotFound as exc:
            # Kept on the reader (the login request with it), the slot as it was; the id typed is not shown back.
            with language(request_language(request)):
                message = exc.message
            return pages.page(request, slot, login, status=404, error=message, error_code=exc.code)
        return pages.back(request, slot, login)

    @router.post("/remove")
    async def remove(request: Request) -> Response:
        slot = pages.slot_of(request)
        _form, login = await pages.form_of(request, slot)
        return pages.back(request, reader.remove(slot), login)

    @router.post("/sign")
    async def sign(request: Request) -> Response:
        slot = pages.slot_of(request)
        form, login = await pages.form_of(request, slot)
        return pages.sign(request, slot, login, form)

    return router
