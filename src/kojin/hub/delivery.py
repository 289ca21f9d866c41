"""Delivery to providers: a query (or a batch's share of queries) out, its checked answers back.

What comes back from an intermediate server is authenticated with the
provider's channel key and matched to the query it answers before the hub
passes anything on; a wrong or unauthenticated answer reads as the provider
being unavailable, never as the requester's fault.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from kojin.core.aio import Resolver
from kojin.core.errors import InvalidInput, KojinError
from kojin.hub import reasons
from kojin.hub.agencies import AgencyEntry
from kojin.hub.domain import ANSWERS_KIND, QUERIES_KIND, ProvisionAnswer, channel_mac, check_channel_mac
from kojin.hub.steps import Links, Op
from kojin.hub.transport import ProviderUnavailable, Settlement, provider_unavailable

Delivered = tuple[object, object, Settlement]


class Deliver(Op):
    """Ask the provider's intermediate server: in process it answers at once; over HTTP it is a round trip.

    ``many``: the message is a batch's share of queries (``provision-queries/1``).
    """

    __slots__ = ("many", "message", "provider")

    def __init__(self, provider: AgencyEntry, message: dict[str, Any], *, many: bool = False) -> None:
        self.provider = provider
        self.message = message
        self.many = many

    def run(self, links: Links) -> Delivered:
        provider = self.provider
        deliver = links.transport.deliver_many if self.many else links.transport.deliver
        return deliver(
            provider.agency_id, provider.endpoint, self.message, channel_mac(provider.channel_key, self.message)
        )

    async def run_async(self, links: Links, wake: Resolver) -> Delivered:
        if self.provider.endpoint:
            # A blocking HTTP round trip: off the loop.
            return await asyncio.get_running_loop().run_in_executor(None, self.run, links)
        return self.run(links)


def queries_message(queries: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch's share of queries for one provider, in one message."""
    return {"kojin": QUERIES_KIND, "queries": queries}


def check_answer(
    provider: AgencyEntry, query: dict[str, Any], delivered: Delivered
) -> tuple[ProvisionAnswer, Settlement]:
    """The provider's answer to one query, authenticated, and when its record is durable."""
    raw, mac, settlement = delivered
    if not isinstance(raw, dict) or not check_channel_mac(provider.channel_key, raw, mac):
        raise _unauthenticated_answer()
    return _one_answer(provider, query["request_id"], raw), settlement


def check_answers(
    provider: AgencyEntry, request_ids: Sequence[str], delivered: Delivered
) -> tuple[list[ProvisionAnswer | KojinError], Settlement]:
    """The provider's answers to a batch's share, in its order: each an answer or why it is none."""
    raw, mac, settlement = delivered
    if not isinstance(raw, dict) or not check_channel_mac(provider.channel_key, raw, mac):
        raise _unauthenticated_answer()
    answers = raw.get("answers") if raw.get("kojin") == ANSWERS_KIND else None
    if not isinstance(answers, list) or len(answers) != len(request_ids):
        raise reasons.PROVIDER_UNAVAILABLE.error(
            detail_ja="一括応答が照会と対応しません", detail_en="its batch answer does not match the queries"
        )
    out: list[ProvisionAnswer | KojinError] = []
    for request_id, answer in zip(request_ids, answers, strict=True):
        try:
            if isinstance(answer, dict) and "error" in answer:
                raise provider_unavailable(provider.agency_id, str(answer.get("error"))[:80])
            out.append(_one_answer(provider, request_id, answer))
        except KojinError as exc:
            out.append(exc)
    return out, settlement


def _unauthenticated_answer() -> ProviderUnavailable:
    return reasons.PROVIDER_UNAVAILABLE.error(
        detail_ja="応答を認証できません", detail_en="its answer does not authenticate"
    )


def _one_answer(provider: AgencyEntry, request_id: str, raw: object) -> ProvisionAnswer:
    """A provider's answer to ``request_id`` from an authenticated message, checked."""
    try:
        answer = ProvisionAnswer.from_wire(raw)
    except InvalidInput as exc:
        raise reasons.PROVIDER_UNAVAILABLE.error(
            detail_ja=f"応答が不正です: {exc.field}", detail_en=f"its answer is malformed: {exc.field}"
        ) from None
    if answer.request_id != request_id or answer.provider != provider.agency_id:
        raise reasons.PROVIDER_UNAVAILABLE.error(
            detail_ja="応答が別の照会のものです", detail_en="it answered a different request"
        )
    return answer
