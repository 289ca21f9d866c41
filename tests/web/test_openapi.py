"""The OpenAPI document names the one error shape on every operation, and the binary answers as what they are."""

from __future__ import annotations

from typing import Any

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app


def _spec(kojin: Kojin) -> dict[str, Any]:
    return create_app(kojin).openapi()


def test_every_operation_answers_its_refusals_in_the_error_shape(kojin: Kojin) -> None:
    spec = _spec(kojin)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    operations = [op for item in spec["paths"].values() for op in item.values()]
    assert operations
    for operation in operations:
        assert operation["responses"]["422"]["content"] == error
        assert operation["responses"]["4XX"]["content"] == error
    schemas = spec["components"]["schemas"]
    assert schemas["Error"]["properties"]["error"]["required"] == ["code", "message", "field"]
    assert "HTTPValidationError" not in schemas  # FastAPI's shape, which the app never sends


def test_the_token_endpoint_documents_oauths_own_error(kojin: Kojin) -> None:
    token = _spec(kojin)["paths"]["/staff/token"]["post"]["responses"]
    assert token["400"]["content"]["application/json"]["schema"]["title"] == "OAuthError"


def test_certificates_crls_ocsp_and_keys_are_documented_as_their_media_types(kojin: Kojin) -> None:
    paths = _spec(kojin)["paths"]
    expected = {
        ("/pki/ca/{name}.pem", "get"): "application/x-pem-file",
        ("/pki/ca/{name}.cer", "get"): "application/pkix-cert",
        ("/pki/crl/{name}.crl", "get"): "application/pkix-crl",
        ("/pki/ocsp", "post"): "application/ocsp-response",
        ("/pki/ocsp/{encoded}", "get"): "application/ocsp-response",
        ("/audit/key", "get"): "application/x-pem-file",
    }
    for (path, method), media_type in expected.items():
        assert list(paths[path][method]["responses"]["200"]["content"]) == [media_type], path


def test_the_document_is_built_once(kojin: Kojin) -> None:
    app = create_app(kojin)
    assert app.openapi() is app.openapi()
