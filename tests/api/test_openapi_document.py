"""The published OpenAPI document and the interactive docs page."""

from __future__ import annotations

import pytest
from django.test import Client

from leadrefinery.leads.normalize import INTAKE_FIELDS, LEAD_FIELDS, PERSON_FIELDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def document() -> dict:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_openapi_lists_every_operation_with_bearer_auth(document):
    operations = {
        (method.upper(), path): spec
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
    }
    assert {
        ("POST", "/api/v1/inquiries"),
        ("GET", "/api/v1/leads"),
        ("GET", "/api/v1/leads/{lead_id}"),
        ("GET", "/api/v1/routing-rules"),
        ("POST", "/api/v1/routing-rules/preview"),
        ("GET", "/api/v1/teams"),
        ("GET", "/api/v1/sla-policies"),
        ("POST", "/api/v1/queues/{queue_id}/next"),
        ("GET", "/api/v1/webhooks"),
        ("PUT", "/api/v1/users/{username}/availability"),
    } <= set(operations)
    schemes = document["components"]["securitySchemes"]
    assert all(s == {"type": "http", "scheme": "bearer"} for s in schemes.values())
    for (method, path), spec in operations.items():
        assert [set(s) <= set(schemes) for s in spec["security"]] == [True], (method, path)
        # Every operation documents the errors any operation can give.
        assert {"401", "403", "422"} <= set(spec["responses"]), (method, path)
        if "{" in path:
            assert "404" in spec["responses"], (method, path)
    assert {"201", "202", "400", "409", "413"} <= set(
        operations[("POST", "/api/v1/inquiries")]["responses"]
    )


def test_inquiry_schema_accepts_exactly_the_intake_fields(document):
    schema = document["components"]["schemas"]["InquiryIn"]

    assert set(schema["properties"]) == {*INTAKE_FIELDS, "source", "campaign", "custom"}
    assert schema["additionalProperties"] is False
    for name, limit in {**PERSON_FIELDS, **LEAD_FIELDS}.items():
        text = next(s for s in schema["properties"][name]["anyOf"] if s["type"] == "string")
        assert text["maxLength"] == limit, name


def test_idempotency_key_header_is_documented(document):
    params = document["paths"]["/api/v1/inquiries"]["post"]["parameters"]
    header = next(p for p in params if p["in"] == "header")

    assert header["name"] == "Idempotency-Key"
    assert header["schema"]["maxLength"] == 255
    assert header["required"] is False


def test_docs_page_loads_the_schema():
    response = Client().get("/api/v1/docs")

    assert response.status_code == 200
    assert b"/api/v1/openapi.json" in response.content
