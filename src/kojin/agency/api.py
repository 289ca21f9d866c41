"""HTTP API of the agencies' intermediate servers (中間サーバー API).

Only the hub calls ``POST /agency/{id}/intermediate/answer`` (and
``…/answer-batch`` for a batch, 一括照会); every message is
MACed with the channel key the agency and the hub share from registration, so
nobody else can ask the server anything.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from kojin.agency import reasons
from kojin.agency.directory import AgencyDirectory
from kojin.agency.intermediate import IntermediateServer


class ProvisionQueryIn(BaseModel):
    query: dict[str, Any] = Field(description="provision-query/1 message from the hub")
    mac: Annotated[str, Field(max_length=64, description="HMAC-SHA-256 (hex) under the channel key")]


class ProvisionAnswerOut(BaseModel):
    answer: dict[str, Any] = Field(description="provision-answer/1 message; the copy is sealed to the requester")
    mac: str


class ProvisionQueriesIn(BaseModel):
    message: dict[str, Any] = Field(description="provision-queries/1 message from the hub (up to 1,000 queries)")
    mac: Annotated[str, Field(max_length=64, description="HMAC-SHA-256 (hex) under the channel key")]


class ProvisionAnswersOut(BaseModel):
    answers: dict[str, Any] = Field(
        description=("provision-answers/1 message: one provision-answer/1 per query in order, or {request_id, error}")
    )
    mac: str


def make_router(directory: AgencyDirectory) -> APIRouter:
    router = APIRouter(prefix="/agency", tags=["agency 中間サーバー"])

    def hosted(agency_id: str) -> IntermediateServer:
        server = directory.intermediate(agency_id)
        if server is None:
            raise reasons.NOT_HOSTED.error(agency_id=agency_id)
        return server

    @router.post("/{agency_id}/intermediate/answer", response_model=ProvisionAnswerOut)
    def answer(agency_id: str, body: ProvisionQueryIn) -> dict[str, Any]:
        """The hub → provider hop: answer a MACed query from this agency's copies (副本)."""
        reply, mac = hosted(agency_id).answer(body.query, body.mac)
        return {"answer": reply, "mac": mac}

    @router.post("/{agency_id}/intermediate/answer-batch", response_model=ProvisionAnswersOut)
    def answer_batch(agency_id: str, body: ProvisionQueriesIn) -> dict[str, Any]:
        """The hub → provider hop for a batch (一括照会): one MACed message of queries, one of answers."""
        reply, mac = hosted(agency_id).answer_many(body.message, body.mac)
        return {"answers": reply, "mac": mac}

    return router
