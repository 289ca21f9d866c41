"""HTTP API of the hub (情報提供ネットワークシステム API).

``POST /hub/exchange`` (and ``POST /hub/exchange/batch`` for 一括照会) takes
the signed body as raw JSON and lets the hub validate it, so that a malformed
body is refused with the hub's own reason (without a leaf, as anything not
signed by a registered agency is; see :mod:`kojin.hub.leaves`); the documented
schemas are ``SignedRequestIn`` and ``SignedBatchIn``.

``GET /hub/metrics`` shows those unlogged refusals' counts to the system
administrator and the auditor, in the Prometheus text format.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from kojin.core import json_depth
from kojin.core.errors import KojinError
from kojin.core.i18n import pick
from kojin.core.metrics import render
from kojin.hub.domain import AGENCY_KIND_LABELS, BATCH_MAX, AgencyKind, permitted_exchanges
from kojin.hub.service import HubService
from kojin.staff.domain import Role
from kojin.staff.guard import StaffDoors
from kojin.web.limits import register_body
from kojin.web.params import BigInt

log = logging.getLogger("kojin.hub.api")

MAX_BATCH_BODY = 4 * 1024 * 1024
"""A batch of 1,000 requests with every field at its longest is about 2 MiB; anything beyond is not one."""


class ExchangeRequestIn(BaseModel):
    """A request for specific personal information (情報照会)."""

    requester: Annotated[str, Field(max_length=40, description="照会機関の ID")]
    provider: Annotated[str, Field(max_length=40, description="提供機関の ID")]
    task: Annotated[str, Field(max_length=200, description="事務 (a task of the permitted table)")]
    item: Annotated[str, Field(max_length=200, description="特定個人情報の項目")]
    code: Annotated[str, Field(max_length=200, description="照会機関自身の機関別符号")]
    request_id: Annotated[str, Field(max_length=64, description="処理通番, unique per requester")]
    time: Annotated[BigInt, Field(description="Unix seconds; within ±300 s of the hub's clock")]


def _signed_request_schema() -> dict[str, Any]:
    # Inlined: the body is read raw (see the module docstring), so no model
    # of it is registered among the OpenAPI components to refer to.
    return {
        "title": "SignedRequestIn",
        "type": "object",
        "required": ["request", "signature"],
        "properties": {
            "request": ExchangeRequestIn.model_json_schema(),
            "signature": {"type": "string", "description": "base64 Ed25519 signature over the canonical request"},
        },
    }


def _signed_batch_schema() -> dict[str, Any]:
    return {
        "title": "SignedBatchIn",
        "type": "object",
        "required": ["requests", "signature"],
        "properties": {
            "requests": {
                "type": "array",
                "minItems": 1,
                "maxItems": BATCH_MAX,
                "items": ExchangeRequestIn.model_json_schema(),
                "description": "requests of one requester (一括照会), each with its own request id",
            },
            "signature": {
                "type": "string",
                "description": (
                    "base64 Ed25519 signature over the canonical JSON of "
                    '{"kojin": "exchange-batch/1", "requests": [...]}'
                ),
            },
        },
    }


class ExchangeAnswerOut(BaseModel):
    request_id: str
    requester: str
    provider: str
    provider_name: str
    task: str
    item: str
    outcome: str = Field(description="answered | withheld (不開示) | no_data")
    sealed: str | None = Field(
        description=(
            "base64 answer box: 0x02 ‖ 96-bit nonce ‖ AES-256-GCM under the key the provider's and the requester's "
            "X25519 keys share (HKDF-SHA-256, provider → requester); AD = 0x02 ‖ request_id"
        )
    )
    requested_at: int
    provided_at_ms: int
    leaf_index: int = Field(description="index of the exchange's leaf in the exchange log")


class ExchangeErrorOut(BaseModel):
    code: str
    message: str
    field: str | None
    status: int = Field(description="the HTTP status the same refusal has from POST /hub/exchange")


class BatchRefusalOut(BaseModel):
    request_id: str | None
    leaf_index: int = Field(description="index of the refusal's leaf in the exchange log")
    error: ExchangeErrorOut


class BatchAnswerOut(BaseModel):
    requester: str
    results: list[ExchangeAnswerOut | BatchRefusalOut] = Field(description="one per request, in order")


class CodeRequestIn(BaseModel):
    """J-LIS asking for an agency's code (取得番号): the link id only, never the number."""

    link_id: Annotated[str, Field(max_length=64)]
    time: BigInt
    mac: Annotated[str, Field(max_length=64, description="HMAC-SHA-256 under the J-LIS↔hub channel key")]


def make_router(hub: HubService, doors: StaffDoors) -> APIRouter:
    router = APIRouter(prefix="/hub", tags=["hub 情報提供ネットワークシステム"])
    operator_door = Depends(doors.role(Role.SYSADMIN, Role.AUDITOR))
    # The batch route's body is larger than any other JSON API's (it still streams and checks its own).
    register_body("/hub/exchange/batch", limit=MAX_BATCH_BODY)

    @router.post("/exchange", response_model=ExchangeAnswerOut, openapi_extra=_raw_body(_signed_request_schema()))
    async def exchange(request: Request) -> JSONResponse:
        """Route one signed request; the answer is sealed to the requester (the hub cannot read it)."""
        status, payload = await exchange_http_async(hub, await request.body())
        return JSONResponse(payload, status_code=status)

    @router.post("/exchange/batch", response_model=BatchAnswerOut, openapi_extra=_raw_body(_signed_batch_schema()))
    async def exchange_batch(request: Request) -> JSONResponse:
        """Route a signed batch of requests (一括照会): each answered or refused, logged and recorded on its own."""
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BATCH_BODY:
                return JSONResponse(too_large(), status_code=413)
            chunks.append(chunk)
        status, payload = await _answer(hub.exchange_batch_async, b"".join(chunks))
        return JSONResponse(payload, status_code=status)

    @router.get("/metrics", response_class=PlainTextResponse, dependencies=[operator_door])
    def metrics() -> PlainTextResponse:
        """The hub's counters (Prometheus text format): requests refused without a leaf, by reason."""
        return PlainTextResponse(render([hub.unlogged_refusals]), media_type="text/plain; version=0.0.4")

    @router.post("/agencies/{agency_id}/codes")
    def issue_code(agency_id: str, body: CodeRequestIn) -> dict[str, str]:
        """J-LIS's side of 取得番号: a link id in, the agency's code out."""
        return {"agency_id": agency_id, "code": hub.issue_code_signed(agency_id, body.model_dump())}

    @router.get("/agencies")
    def list_agencies() -> dict[str, Any]:
        """Registered agencies and their public keys (never the channel keys)."""
        return {
            "agencies": [{**a.public_record(), "kind_label": AGENCY_KIND_LABELS[a.kind][0]} for a in hub.agencies()]
        }

    @router.get("/agencies/{agency_id}")
    def get_agency(agency_id: str) -> dict[str, Any]:
        """One agency's public record: the keys its requests are checked and its answers opened with."""
        entry = hub.agency(agency_id)
        return {**entry.public_record(), "kind_label": AGENCY_KIND_LABELS[entry.kind][0]}

    @router.get("/permitted")
    def permitted(
        requester_kind: Annotated[AgencyKind | None, Query()] = None,
        provider_kind: Annotated[AgencyKind | None, Query()] = None,
        item: Annotated[str | None, Query(max_length=200)] = None,
    ) -> dict[str, Any]:
        """The permitted-exchange table (利用特定個人情報; formerly 番号法別表第二)."""
        rows = [
            {
                "row": p.row,
                "requester_kind": p.requester_kind.value,
                "task": p.task,
                "provider_kind": p.provider_kind.value,
                "item": p.item,
                "legal_basis": p.legal_basis,
            }
            for p in permitted_exchanges()
            if (requester_kind is None or p.requester_kind is requester_kind)
            and (provider_kind is None or p.provider_kind is provider_kind)
            and (item is None or p.item == item)
        ]
        return {"permitted": rows}

    return router


def _body(raw: bytes) -> object:
    try:
        return json_depth.loads(raw, field="body")  # too deep: request.too_deep, refused here
    except KojinError:
        raise
    except ValueError:
        return None  # not JSON: still the hub's to refuse and log, not the framework's


def _error(exc: Exception) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, KojinError):
        return exc.status, {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}
    reference = secrets.token_hex(6)
    log.error("unexpected error ref=%s type=%s", reference, type(exc).__name__, exc_info=exc)
    message = pick(f"内部エラーが発生しました（参照番号 {reference}）。", f"Internal error (reference {reference}).")
    return 500, {"error": {"code": "internal", "message": message, "field": None}}


async def exchange_http_async(hub: HubService, raw: bytes) -> tuple[int, dict[str, Any]]:
    """One ``POST /hub/exchange``: the status and the JSON body (answer or error).

    The exchange runs on the event loop and awaits its durable commits.
    """
    return await _answer(hub.exchange_async, raw)


async def _answer(call: Callable[[object], Awaitable[dict[str, Any]]], raw: bytes) -> tuple[int, dict[str, Any]]:
    try:
        return 200, await call(_body(raw))
    except Exception as exc:
        return _error(exc)


def too_large() -> dict[str, Any]:
    """The error body of a request refused unread for its size (HTTP 413)."""
    message = pick("要求が大きすぎます。", "The request is too large.")
    return {"error": {"code": "request.too_large", "message": message, "field": None}}


def _raw_body(schema: dict[str, Any]) -> dict[str, Any]:
    # The body is read raw (see the module docstring): its schema is documented here.
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
