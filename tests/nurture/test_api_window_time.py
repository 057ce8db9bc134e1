"""A program's send window answers what its OpenAPI schema says: a local time of day such as
"09:00:00" (the schema no longer claims RFC 3339 `format: time`, which needs an offset)."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_window_matches_its_schema(users, token_for):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(users.marketer)}")
    message = client.post(
        "/api/v1/messages",
        {"name": "Tip", "subject": "Hi", "body_markdown": "Hi"},
        content_type="application/json",
    ).json()
    body = {
        "name": "Tips",
        "steps": [{"message_id": message["id"]}],
        "entry_rules": ["new_inquiry"],
        "window_start": "08:30",
    }
    created = client.post("/api/v1/programs", body, content_type="application/json")
    assert created.status_code == 201, created.content
    program = created.json()
    assert (program["window_start"], program["window_end"]) == ("08:30:00", "17:00:00")

    schema = client.get("/api/v1/openapi.json").json()
    assert '"format": "time"' not in json.dumps(schema)
    out = schema["components"]["schemas"]["ProgramOut"]["properties"]
    for name in ("window_start", "window_end"):  # formats checked too, as schemathesis does
        assert jsonschema_rs.is_valid(out[name], program[name], validate_formats=True), name

    with_offset = client.post(
        "/api/v1/programs",
        {**body, "name": "Other", "window_start": "08:30:00+02:00"},
        content_type="application/json",
    )
    assert with_offset.status_code == 422
    assert "without a UTC offset" in with_offset.content.decode()
