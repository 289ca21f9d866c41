"""The /audit HTTP API on a tiny app: heads, proofs, bundles, the key, and bad input."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kojin.audit.api import make_router
from kojin.audit.merkle import MerkleTree, verify_consistency, verify_inclusion
from kojin.audit.service import PASSPHRASE_ENV, ExchangeLog
from kojin.audit.tree_head import SignedTreeHead, key_id, load_public_key, verify_tree_head
from kojin.audit.verify import verify_bundle
from kojin.web.errors import install_error_handlers
from tests.audit.test_store_service import audit_database, audit_settings, record


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ExchangeLog]:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    with audit_database(audit_settings("sqlite", tmp_path)) as db, ExchangeLog(db.engine("audit")) as exchange_log:
        yield exchange_log


@pytest.fixture
def client(log: ExchangeLog) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(make_router(log))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    return dict(body["error"])


def test_tree_heads(client: TestClient, log: ExchangeLog) -> None:
    response = client.get("/audit/sth")
    assert response.status_code == 404
    assert error(response)["code"] == "audit.no_tree_head"

    log.append_many([record(i) for i in range(9)])
    signed = log.sign_tree_head()
    response = client.get("/audit/sth")
    assert response.status_code == 200
    sth = SignedTreeHead.from_dict(response.json())
    assert sth == signed
    assert verify_tree_head(log.public_key, sth)
    assert client.get("/audit/sth/9").json() == response.json()

    missing = client.get("/audit/sth/5")
    assert missing.status_code == 404
    assert error(missing) == {
        "code": "audit.no_such_tree_head",
        "message": "サイズ5の署名付きツリーヘッドはありません。",
        "field": "size",
    }
    assert client.get("/audit/sth/-1").status_code == 422
    assert error(client.get("/audit/sth/-1"))["field"] == "size"
    assert client.get(f"/audit/sth/{1 << 70}").status_code == 422
    not_a_number = client.get("/audit/sth/nine")
    assert not_a_number.status_code == 422
    assert error(not_a_number)["field"] == "size"


def test_inclusion_proofs(client: TestClient, log: ExchangeLog) -> None:
    data = [record(i) for i in range(13)]
    log.append_many(data)
    memory = MerkleTree()
    for d in data:
        memory.append_data(d)

    body = client.get("/audit/proof/inclusion", params={"index": 5, "tree_size": 11}).json()
    assert body["leaf_index"] == 5 and body["tree_size"] == 11
    path = [b64(h) for h in body["inclusion_proof"]]
    assert verify_inclusion(b64(body["leaf_hash"]), 5, 11, path, memory.root(11))

    default = client.get("/audit/proof/inclusion", params={"index": 12}).json()
    assert default["tree_size"] == 13

    for params, field in (
        ({"index": 13}, "index"),
        ({"index": 2, "tree_size": 14}, "tree_size"),
        ({"index": -1}, "index"),
        ({"index": "x"}, "index"),
        ({}, "index"),
    ):
        response = client.get("/audit/proof/inclusion", params=params)
        assert response.status_code == 422, params
        assert error(response)["field"] == field, params


def test_consistency_proofs(client: TestClient, log: ExchangeLog) -> None:
    log.append_many([record(i) for i in range(20)])
    body = client.get("/audit/proof/consistency", params={"first": 7, "second": 20}).json()
    assert (body["first"], body["second"]) == (7, 20)
    proof = [b64(h) for h in body["consistency_proof"]]
    assert verify_consistency(7, 20, log.root(7), log.root(20), proof)
    assert client.get("/audit/proof/consistency", params={"first": 7}).json() == body

    backwards = client.get("/audit/proof/consistency", params={"first": 9, "second": 3})
    assert backwards.status_code == 422
    assert error(backwards)["field"] == "first"
    too_big = client.get("/audit/proof/consistency", params={"first": 1, "second": 21})
    assert too_big.status_code == 422
    assert error(too_big)["field"] == "second"


def test_bundles_and_key(client: TestClient, log: ExchangeLog) -> None:
    log.append_many([record(i) for i in range(6)])
    old = log.sign_tree_head()
    log.append_many([record(i) for i in range(6, 15)])

    pem = client.get("/audit/key")
    assert pem.status_code == 200
    assert pem.text.startswith("-----BEGIN PUBLIC KEY-----")
    trusted = load_public_key(pem.text)
    assert pem.headers["x-kojin-key-id"] == key_id(trusted) == log.key_id

    bundle = client.get("/audit/bundle/14").json()
    assert verify_bundle(bundle, trusted_public_key=trusted).ok
    assert b64(bundle["leaf_data"]) == record(14)

    linked = client.get("/audit/bundle/3", params={"tree_size": 15, "consistency_from": old.tree_size}).json()
    result = verify_bundle(linked, trusted_public_key=trusted)
    assert result.ok and result.tree_size == 15

    assert client.get("/audit/bundle/15").status_code == 404
    assert error(client.get("/audit/bundle/15"))["code"] == "audit.no_such_leaf"
    assert client.get("/audit/bundle/2", params={"tree_size": 4}).status_code == 404
    assert client.get("/audit/bundle/10", params={"tree_size": 6}).status_code == 422
    assert client.get("/audit/bundle/-3").status_code == 422
    unsigned = client.get("/audit/bundle/3", params={"consistency_from": 5})
    assert unsigned.status_code == 404
    assert error(unsigned)["field"] == "consistency_from"


def test_messages_follow_the_language(client: TestClient, log: ExchangeLog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOJIN_LANG", "en")
    body = error(client.get("/audit/sth/3"))
    assert body["message"] == "No tree head was signed at size 3."


def test_the_public_key_is_the_media_type_the_document_names(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    documented = spec["paths"]["/audit/key"]["get"]["responses"]["200"]["content"]
    answer = client.get("/audit/key")
    assert answer.status_code == 200
    assert list(documented) == [answer.headers["content-type"]]
