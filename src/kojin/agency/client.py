"""The agencies' query client (情報照会クライアント) and its transports to the hub.

An :class:`AgencyClient` signs a request with the agency's Ed25519 key, sends
it through a :class:`HubTransport` — :class:`InProcessHub` beside the hub, or
:class:`HttpHub` over HTTP — opens the answer box with the key its X25519 key
shares with the provider's (the provider's public key is taken from the hub's
registry once and kept), and records the exchange in the agency's §23 log
before returning.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

import httpx
import orjson

from kojin.agency import reasons
from kojin.agency.domain import Ask, ExchangeResult, LogEntry, Role
from kojin.agency.service import AgencyService
from kojin.core import reasons as core_reasons
from kojin.core.aio import until_done
from kojin.core.crypto import b64, unb64
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound, NotPermitted, Unauthenticated
from kojin.hub import reasons as hub_reasons
from kojin.hub.domain import BATCH_MAX, SEALED_KIND, ExchangeRequest, Outcome, batch_signing_input
from kojin.hub.reasons import HubUnreachable, RemoteRefusal

if TYPE_CHECKING:
    from kojin.hub.service import HubService


class HubTransport(Protocol):
    """Carries a signed request to the hub and its answer back; refusals raise KojinError."""

    def exchange(self, signed: dict[str, Any]) -> dict[str, Any]: ...

    def exchange_batch(self, signed: dict[str, Any]) -> dict[str, Any]:
        """A signed batch (一括照会) to the hub; its per-request results back."""
        ...

    def box_key(self, agency_id: str) -> bytes:
        """The agency's X25519 public key from the hub's registry (answer boxes are opened with it)."""
        ...


class AsyncHubTransport(HubTransport, Protocol):
    """A transport a client on an event loop can await."""

    async def exchange_async(self, signed: dict[str, Any]) -> dict[str, Any]: ...

    async def exchange_batch_async(self, signed: dict[str, Any]) -> dict[str, Any]: ...


class InProcessHub:
    """The hub in this process: a direct call, the same dictionaries as over HTTP."""

    def __init__(self, hub: HubService) -> None:
        self._hub = hub

    def exchange(self, signed: dict[str, Any]) -> dict[str, Any]:
        return self._hub.exchange(signed)

    async def exchange_async(self, signed: dict[str, Any]) -> dict[str, Any]:
        return await self._hub.exchange_async(signed)

    def exchange_batch(self, signed: dict[str, Any]) -> dict[str, Any]:
        return self._hub.exchange_batch(signed)

    async def exchange_batch_async(self, signed: dict[str, Any]) -> dict[str, Any]:
        return await self._hub.exchange_batch_async(signed)

    def box_key(self, agency_id: str) -> bytes:
        return self._hub.agency(agency_id, "provider").box_public


_STATUS_CLASSES: dict[int, type[KojinError]] = {
    401: Unauthenticated,
    403: NotPermitted,
    404: NotFound,
    409: Conflict,
    422: InvalidInput,
}


def remote_error(status: int, body: object) -> KojinError:
    """The KojinError an HTTP error answer stands for (same code, message and field)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return hub_reasons.UNAVAILABLE.error(detail=f"HTTP {status}")
    cls = _STATUS_CLASSES.get(status, RemoteRefusal)
    message = str(error.get("message") or "")
    field = error.get("field")
    return cls(str(error.get("code")), message, message, field=field if isinstance(field, str) else None)


def _unreachable(base: str, exc: httpx.HTTPError) -> HubUnreachable:
    return hub_reasons.UNAVAILABLE.error(detail=f"{base}, {type(exc).__name__}")


class HttpHub:
    """The hub over HTTP (``POST /hub/exchange``); ``client`` may be a shared pool or a test client."""

    def __init__(self, base_url: str = "", *, client: httpx.Client | None = None, timeout: float = 10.0) -> None:
        self._own = client is None
        self._client = client or httpx.Client(timeout=timeout)
        self._base = base_url.rstrip("/")
        self._url = f"{self._base}/hub/exchange"

    def exchange(self, signed: dict[str, Any]) -> dict[str, Any]:
        return self._post(self._url, signed)

    def exchange_batch(self, signed: dict[str, Any]) -> dict[str, Any]:
        return self._post(f"{self._url}/batch", signed)

    def _post(self, url: str, signed: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.post(url, json=signed)
        except httpx.HTTPError as exc:
            raise _unreachable(self._base, exc) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            raise remote_error(response.status_code, body)
        return body

    def box_key(self, agency_id: str) -> bytes:
        try:
            response = self._client.get(f"{self._base}/hub/agencies/{agency_id}")
        except httpx.HTTPError as exc:
            raise _unreachable(self._base, exc) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("box_public"), str):
            raise remote_error(response.status_code, body)
        return unb64(body["box_public"], "box_public")

    def close(self) -> None:
        if self._own:
            self._client.close()


def _load_json(data: bytes) -> Any:
    # orjson reads what json reads at a fraction of the cost, except integers
    # beyond 64 bits and the non-standard NaN/Infinity: json has the last word.
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def _answer_mismatch(what: str) -> NotPermitted:
    return reasons.ANSWER_MISMATCH.error(what=what, field=what)


class AgencyClient:
    """An agency asking the hub for another agency's copy of one item (情報照会)."""

    def __init__(self, agency: AgencyService, hub: HubTransport, *, clock: Callable[[], float] = time.time) -> None:
        self.agency = agency
        self.hub = hub
        self._clock = clock
        # Providers' box keys as the registry gave them the first time: a
        # registry that later swapped one could not make this client accept
        # an answer from someone else.
        self._box_keys: dict[str, bytes] = {}
        # 処理通番: a random prefix per client and a counter. Unique without
        # asking the OS for randomness on every request (which costs more
        # than the rest of making one); a request id need not be secret.
        self._id_prefix = f"{agency.agency_id[:16]}-{secrets.token_hex(8)}"
        self._ids = itertools.count()

    def provider_box_key(self, provider: str) -> bytes:
        """The provider's X25519 key, asked of the hub's registry the first time and kept."""
        key = self._box_keys.get(provider)
        if key is None:
            key = self._box_keys[provider] = self.hub.box_key(provider)
        return key

    def new_request(
        self,
        provider: str,
        task: str,
        item: str,
        *,
        code: str | None = None,
        local_id: str | None = None,
        request_id: str | None = None,
    ) -> ExchangeRequest:
        if code is None:
            if local_id is None:
                raise core_reasons.REQUEST_INVALID.error(
                    field_name="code",
                    what_ja="符号か宛名番号が必要です",
                    what_en="give a code or a local id",
                    field="code",
                )
            code = self.agency.code_of(local_id)
        return ExchangeRequest(
            self.agency.agency_id,
            provider,
            task,
            item,
            code,
            request_id or f"{self._id_prefix}{next(self._ids):08x}",
            int(self._clock()),
        )

    def sign(self, request: ExchangeRequest) -> dict[str, Any]:
        """The body the hub takes: the request and the requester's signature over its canonical form."""
        return {"request": request.as_dict(), "signature": b64(self.agency.keys.sign.sign(request.signing_input()))}

    def request(
        self,
        provider: str,
        task: str,
        item: str,
        *,
        code: str | None = None,
        local_id: str | None = None,
        request_id: str | None = None,
    ) -> ExchangeResult:
        """Ask, open, record (§23), return. Refusals raise the hub's KojinError."""
        req = self.new_request(provider, task, item, code=code, local_id=local_id, request_id=request_id)
        return self.complete(req, self.hub.exchange(self.sign(req)))

    async def request_async(
        self,
        provider: str,
        task: str,
        item: str,
        *,
        code: str | None = None,
        local_id: str | None = None,
        request_id: str | None = None,
    ) -> ExchangeResult:
        """:meth:`request` on an event loop (over a transport with ``exchange_async``)."""
        hub = self.hub
        if not hasattr(hub, "exchange_async"):
            raise TypeError(f"{type(hub).__name__} cannot be awaited; use request()")
        req = self.new_request(provider, task, item, code=code, local_id=local_id, request_id=request_id)
        answer = await cast("AsyncHubTransport", hub).exchange_async(self.sign(req))
        result, entry = self.open_answer(req, answer)
        await until_done(self.agency.record_soon(entry).then)
        return result

    def sign_batch(self, requests: Sequence[ExchangeRequest]) -> dict[str, Any]:
        """The body of a batch (一括照会): the requests and one signature over all of them in order."""
        bodies = [r.as_dict() for r in requests]
        return {"requests": bodies, "signature": b64(self.agency.keys.sign.sign(batch_signing_input(bodies)))}

    def request_many(self, asks: Sequence[Ask]) -> list[ExchangeResult | KojinError]:
        """Ask many things at once (一括照会): a result or the refusal for each, in order.

        Each answered request is opened, checked and recorded (§23) as
        :meth:`request` would, all records in one durable commit; a refused
        one comes back as the hub's :class:`KojinError`. A refusal of the
        whole batch (its signature, say) raises.
        """
        reqs = self._batch_requests(asks)
        results, entries = self.open_batch(reqs, self.hub.exchange_batch(self.sign_batch(reqs)))
        self.agency.record_many(entries)
        return results

    async def request_many_async(self, asks: Sequence[Ask]) -> list[ExchangeResult | KojinError]:
        """:meth:`request_many` on an event loop (over a transport with ``exchange_batch_async``)."""
        hub = self.hub
        if not hasattr(hub, "exchange_batch_async"):
            raise TypeError(f"{type(hub).__name__} cannot be awaited; use request_many()")
        reqs = self._batch_requests(asks)
        answer = await cast("AsyncHubTransport", hub).exchange_batch_async(self.sign_batch(reqs))
        results, entries = self.open_batch(reqs, answer)
        await until_done(self.agency.record_many_soon(entries).then)
        return results

    def _batch_requests(self, asks: Sequence[Ask]) -> list[ExchangeRequest]:
        if not asks or len(asks) > BATCH_MAX:
            raise core_reasons.REQUEST_INVALID.error(
                field_name="requests",
                what_ja=f"一括照会は1件から{BATCH_MAX}件までです",
                what_en=f"a batch holds 1 to {BATCH_MAX} requests",
                field="requests",
            )
        return [
            self.new_request(a.provider, a.task, a.item, code=a.code, local_id=a.local_id, request_id=a.request_id)
            for a in asks
        ]

    def open_batch(
        self, reqs: Sequence[ExchangeRequest], answer: dict[str, Any]
    ) -> tuple[list[ExchangeResult | KojinError], list[LogEntry]]:
        """Check and open a batch's results: one per request, and the §23 records of those answered."""
        items = answer.get("results")
        if answer.get("requester") != self.agency.agency_id or not isinstance(items, list) or len(items) != len(reqs):
            raise _answer_mismatch("results")
        results: list[ExchangeResult | KojinError] = []
        entries: list[LogEntry] = []
        for req, item in zip(reqs, items, strict=True):
            try:
                if not isinstance(item, dict):
                    raise _answer_mismatch("results")
                error = item.get("error")
                if error is not None:
                    if item.get("request_id") != req.request_id or not isinstance(error, dict):
                        raise _answer_mismatch("request_id")
                    status = error.get("status")
                    results.append(remote_error(status if isinstance(status, int) else 400, {"error": error}))
                    continue
                result, entry = self.open_answer(req, item)
            except KojinError as exc:
                results.append(exc)
                continue
            results.append(result)
            entries.append(entry)
        return results, entries

    def complete(self, req: ExchangeRequest, answer: dict[str, Any]) -> ExchangeResult:
        """Check and open the hub's answer to ``req``, and record it."""
        result, entry = self.open_answer(req, answer)
        self.agency.record(entry)
        return result

    def open_answer(self, req: ExchangeRequest, answer: dict[str, Any]) -> tuple[ExchangeResult, LogEntry]:
        """Check and open the hub's answer to ``req``: the result, and the §23 record still to be kept of it."""
        for name in ("request_id", "provider", "item", "task"):
            if answer.get(name) != getattr(req, name):
                raise _answer_mismatch(name)
        outcome = Outcome(answer["outcome"])
        payload: Any = None
        updated_at: str | None = None
        sealed = answer.get("sealed")
        if outcome is Outcome.ANSWERED:
            if not isinstance(sealed, str):
                raise _answer_mismatch("sealed")
            opened = _load_json(
                self.agency.keys.box.open_from(
                    self.provider_box_key(req.provider), unb64(sealed, "sealed"), req.request_id.encode()
                )
            )
            if not isinstance(opened, dict):
                raise _answer_mismatch("sealed")
            expect = {
                "kojin": SEALED_KIND,
                "request_id": req.request_id,
                "requester": req.requester,
                "provider": req.provider,
                "item": req.item,
            }
            for name, value in expect.items():
                if opened.get(name) != value:
                    raise _answer_mismatch(name)
            payload, updated_at = opened.get("payload"), opened.get("updated_at")
        provided_ms = int(answer["provided_at_ms"])
        result = ExchangeResult(
            req.request_id,
            req.provider,
            str(answer.get("provider_name", "")),
            req.task,
            req.item,
            outcome,
            payload,
            updated_at,
            req.time,
            provided_ms,
            int(answer["leaf_index"]),
        )
        entry = LogEntry(
            Role.REQUESTER,
            req.request_id,
            req.code,
            req.requester,
            self.agency.keys.name,
            req.provider,
            result.provider_name,
            req.task,
            req.item,
            datetime.fromtimestamp(req.time, UTC),
            datetime.fromtimestamp(provided_ms / 1000, UTC),
            outcome,
            result.leaf_index,
        )
        return result, entry
