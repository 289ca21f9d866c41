"""How the hub reaches an agency's intermediate server (中間サーバーへの経路).

In process when the agency is hosted with the hub (the embedded default, the
tests, and J-LIS hosting municipalities' servers beside the hub), over HTTP
when the agency registered an endpoint. Either way the messages are the same
MACed dictionaries (:mod:`kojin.hub.domain`), so the hub cannot tell and need
not care which one carried them.

A delivery comes back with a :class:`Settlement`: it tells when the
provider's §23 record of the answer is durable (and fails if it could not be
written). Over HTTP the server answers only after that, so there is nothing
left to wait for; in process the hub commits the exchange's leaf while the
provider's record commits, and settles before passing the answer on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import httpx

from kojin.core.errors import KojinError
from kojin.hub import reasons
from kojin.hub.reasons import ProviderUnavailable as ProviderUnavailable


class Settlement(Protocol):
    """When the provider's §23 record of an answer is durable (a group-commit ticket, or already)."""

    def wait(self) -> None:
        """Block until it is durable; raise if it could not be written."""
        ...

    def then(self, done: Callable[[BaseException | None], None]) -> None:
        """``done(error)`` once it is durable (or has failed), on whatever thread finishes it."""
        ...


class _Settled:
    """Nothing left to wait for: the provider answered only after its record was durable."""

    __slots__ = ()

    def wait(self) -> None:
        return None

    def then(self, done: Callable[[BaseException | None], None]) -> None:
        done(None)


SETTLED: Settlement = _Settled()


class _ProviderSettlement:
    """A provider's settlement whose failure reads as the provider failing (its store, not the hub's)."""

    __slots__ = ("_agency_id", "_inner")

    def __init__(self, agency_id: str, inner: Settlement) -> None:
        self._agency_id = agency_id
        self._inner = inner

    def _as_unavailable(self, exc: BaseException) -> ProviderUnavailable:
        return provider_unavailable(self._agency_id, getattr(exc, "code", None) or type(exc).__name__)

    def wait(self) -> None:
        try:
            self._inner.wait()
        except Exception as exc:
            raise self._as_unavailable(exc) from None

    def then(self, done: Callable[[BaseException | None], None]) -> None:
        self._inner.then(lambda error: done(None if error is None else self._as_unavailable(error)))


class IntermediateEndpoint(Protocol):
    """An intermediate server as the hub sees it: MACed query in, MACed answer out."""

    def answer_deferred(self, query: dict[str, Any], mac: str) -> tuple[dict[str, Any], str, Settlement]: ...

    def answer_many_deferred(self, message: dict[str, Any], mac: str) -> tuple[dict[str, Any], str, Settlement]: ...


class IntermediateTransport(Protocol):
    def deliver(
        self, agency_id: str, endpoint: str | None, query: dict[str, Any], mac: str
    ) -> tuple[object, object, Settlement]: ...

    def deliver_many(
        self, agency_id: str, endpoint: str | None, message: dict[str, Any], mac: str
    ) -> tuple[object, object, Settlement]:
        """A ``provision-queries/1`` message in, the MACed ``provision-answers/1`` message out."""
        ...

    def close(self) -> None: ...


def provider_unavailable(agency_id: str, detail: str) -> ProviderUnavailable:
    return reasons.PROVIDER_UNAVAILABLE.error(
        detail_ja=f"{agency_id} の中間サーバーが応答しません: {detail}",
        detail_en=f"the intermediate server of {agency_id} did not answer: {detail}",
    )


class HttpIntermediates:
    """Reaches intermediate servers at their registered base URL.

    ``client`` may be given (a shared pool, or a test client bound to an app);
    otherwise one pooled client is made for all providers.
    """

    def __init__(self, client: httpx.Client | None = None, *, timeout: float = 10.0) -> None:
        self._own = client is None
        self._client = client or httpx.Client(timeout=timeout)

    def deliver(
        self, agency_id: str, endpoint: str | None, query: dict[str, Any], mac: str
    ) -> tuple[object, object, Settlement]:
        body = self._post(agency_id, endpoint, "answer", {"query": query, "mac": mac})
        return body.get("answer"), body.get("mac"), SETTLED

    def deliver_many(
        self, agency_id: str, endpoint: str | None, message: dict[str, Any], mac: str
    ) -> tuple[object, object, Settlement]:
        body = self._post(agency_id, endpoint, "answer-batch", {"message": message, "mac": mac})
        return body.get("answers"), body.get("mac"), SETTLED

    def _post(self, agency_id: str, endpoint: str | None, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = f"{(endpoint or '').rstrip('/')}/agency/{agency_id}/intermediate/{path}"
        try:
            response = self._client.post(url, json=payload)
        except httpx.HTTPError as exc:
            raise provider_unavailable(agency_id, type(exc).__name__) from None
        try:
            body = response.json()
        except ValueError:
            raise provider_unavailable(agency_id, f"HTTP {response.status_code}") from None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            raise provider_unavailable(agency_id, str(code or f"HTTP {response.status_code}"))
        # The server answered after its records were durable: nothing to settle.
        return body

    def close(self) -> None:
        if self._own:
            self._client.close()


class IntermediateRouter:
    """In process for agencies hosted here, HTTP for agencies with an endpoint."""

    def __init__(
        self, local: Callable[[str], IntermediateEndpoint | None], http: HttpIntermediates | None = None
    ) -> None:
        self._local = local
        self._http = http

    def use_http(self, http: HttpIntermediates) -> None:
        """Reach endpoints through ``http`` (a shared pool, or a test client)."""
        if self._http is not None:
            self._http.close()
        self._http = http

    def deliver(
        self, agency_id: str, endpoint: str | None, query: dict[str, Any], mac: str
    ) -> tuple[object, object, Settlement]:
        if endpoint:
            return self._http_client().deliver(agency_id, endpoint, query, mac)
        return self._local_call(agency_id, lambda server: server.answer_deferred(query, mac))

    def deliver_many(
        self, agency_id: str, endpoint: str | None, message: dict[str, Any], mac: str
    ) -> tuple[object, object, Settlement]:
        if endpoint:
            return self._http_client().deliver_many(agency_id, endpoint, message, mac)
        return self._local_call(agency_id, lambda server: server.answer_many_deferred(message, mac))

    def _http_client(self) -> HttpIntermediates:
        if self._http is None:
            self._http = HttpIntermediates()
        return self._http

    def _local_call(
        self, agency_id: str, call: Callable[[IntermediateEndpoint], tuple[dict[str, Any], str, Settlement]]
    ) -> tuple[object, object, Settlement]:
        server = self._local(agency_id)
        if server is None:
            raise provider_unavailable(agency_id, "not hosted here")
        try:
            answer, answer_mac, settlement = call(server)
        except KojinError as exc:
            # The provider's own refusal is not the requester's fault: it is
            # reported as the provider failing, with its reason.
            raise provider_unavailable(agency_id, exc.code) from None
        return answer, answer_mac, _ProviderSettlement(agency_id, settlement)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
