from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send

from kojin.app import Kojin
from kojin.core.config import Settings
from kojin.core.errors import KojinError
from kojin.entrypoints.http.app import create_app
from kojin.hub.api import MAX_BATCH_BODY
from kojin.web.limits import MAX_HEADER_BYTES, MAX_JSON_BYTES, MAX_JSON_DEPTH, RequestLimits, host_name, json_depth_over

JSON = {"content-type": "application/json"}


@pytest.fixture
def client(kojin: Kojin) -> Iterator[TestClient]:
    with TestClient(create_app(kojin), raise_server_exceptions=False) as c:
        yield c


def _shape(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    return body["error"]  # type: ignore[no-any-return]


# --- the middleware alone, to count what it reads --------------------------------------------


class _Streaming:
    """A client sending 64 KiB chunks for ever; counts the chunks the server took."""

    def __init__(self) -> None:
        self.read = 0

    async def __call__(self) -> Message:
        self.read += 1
        return {"type": "http.request", "body": b" " * 65536, "more_body": True}


def _run(headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[str, Any], int, bool]:
    reached = False

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal reached
        reached = True
        await PlainTextResponse("ok")(scope, receive, send)

    def page(request: Request, exc: KojinError) -> Response:
        raise AssertionError("not a page")

    limits = RequestLimits(
        app, allowed_hosts=lambda: frozenset({"localhost"}), is_page=lambda p: False, render_page=page
    )
    client = _Streaming()
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/registry/residents",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"content-type", b"application/json"), *headers],
    }
    asyncio.run(limits(scope, client, send))
    status = sent[0]["status"]
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    return status, body, client.read, reached


def test_a_declared_oversize_body_is_refused_unread() -> None:
    status, body, read, reached = _run([(b"content-length", str(100 * 1024 * 1024).encode())])
    assert (status, body["error"]["code"], read, reached) == (413, "request.too_large", 0, False)


def test_a_streamed_oversize_body_is_cut_off_at_the_limit() -> None:
    status, body, read, reached = _run([(b"transfer-encoding", b"chunked")])
    assert (status, body["error"]["code"], reached) == (413, "request.too_large", False)
    assert read == MAX_JSON_BYTES // 65536 + 1


# --- the whole app ---------------------------------------------------------------------------


def test_deep_json_is_refused_before_any_parser(client: TestClient) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    for path in ("/hub/exchange", "/registry/residents", "/hub/exchange/batch"):
        response = client.post(f"{path}?lang=en", content=deep, headers=JSON)
        error = _shape(response)
        assert (response.status_code, error["code"]) == (422, "request.too_deep")
        assert str(MAX_JSON_DEPTH) in error["message"]


def test_a_json_api_takes_json_only(client: TestClient) -> None:
    # A cross-site form or fetch may send text/plain without a preflight: refused before the route.
    response = client.post("/hub/exchange", content=b'{"kojin": 1}', headers={"content-type": "text/plain"})
    error = _shape(response)
    assert (response.status_code, error["code"], error["field"]) == (415, "request.content_type", "content-type")
    assert "application/json" in error["message"]
    bare = client.post("/registry/residents", content=b"{}")
    assert (bare.status_code, _shape(bare)["code"]) == (415, "request.content_type")


def test_an_oversize_json_body_is_refused_in_the_error_shape(client: TestClient) -> None:
    response = client.post("/registry/residents?lang=en", content=b" " * (MAX_JSON_BYTES + 1), headers=JSON)
    error = _shape(response)
    assert (response.status_code, error["code"]) == (413, "request.too_large")
    assert error["message"].startswith("The submitted data is too large")


def test_the_batch_route_keeps_its_larger_limit(client: TestClient) -> None:
    # Over the common limit, under the batch's: the hub reads it and answers (not JSON → its own 422).
    response = client.post("/hub/exchange/batch", content=b"x" + b" " * (2 * MAX_JSON_BYTES), headers=JSON)
    assert (response.status_code, _shape(response)["code"]) == (422, "request.invalid")
    huge = client.post("/hub/exchange/batch", content=b" " * (MAX_BATCH_BODY + 1), headers=JSON)
    assert (huge.status_code, _shape(huge)["code"]) == (413, "request.too_large")


def test_an_unknown_host_is_refused(kojin: Kojin) -> None:
    # DNS rebinding: the attacker's page talks to 127.0.0.1 under its own name.
    with TestClient(create_app(kojin), base_url="http://rebind.example:8000") as c:
        for response in (c.get("/healthz"), c.get("/portal/"), c.post("/hub/exchange", json={})):
            error = _shape(response)
            assert (response.status_code, error["code"], error["field"]) == (400, "request.bad_host", "host")
    with TestClient(create_app(kojin), base_url="http://127.0.0.1:8000") as c:
        assert c.get("/healthz").status_code == 200


def test_oversize_headers_are_refused(client: TestClient) -> None:
    response = client.get("/healthz", headers={"x-junk": "a" * MAX_HEADER_BYTES})
    assert (response.status_code, _shape(response)["code"]) == (431, "request.headers_too_large")


def test_pages_keep_their_form_limit_and_page_errors(client: TestClient) -> None:
    response = client.post("/portal/login", content=b"a=" + b"b" * 70_000, headers={"content-type": "text/plain"})
    assert response.status_code == 413
    assert "text/html" in response.headers["content-type"]


# --- the parts -------------------------------------------------------------------------------


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert not json_depth_over(b'{"a": "' + b"[" * 100 + b'"}')
    assert not json_depth_over(b'{"a": "\\"' + b"[" * 100 + b'"}')
    assert json_depth_over(b"[" * (MAX_JSON_DEPTH + 1))
    assert not json_depth_over(b"[]" * 1000)
    assert not json_depth_over(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)


def test_host_names() -> None:
    assert host_name("LocalHost:8000") == "localhost"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("127.0.0.1") == "127.0.0.1"


def test_allowed_hosts_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOJIN_ALLOWED_HOSTS", raising=False)
    monkeypatch.setenv("KOJIN_BIND_HOST", "192.0.2.7")
    assert Settings().allowed_hosts == {"localhost", "127.0.0.1", "::1", "192.0.2.7"}
    monkeypatch.setenv("KOJIN_ALLOWED_HOSTS", "kojin.example, Portal.Example")
    monkeypatch.delenv("KOJIN_BIND_HOST")
    assert Settings().allowed_hosts == {"kojin.example", "portal.example"}
