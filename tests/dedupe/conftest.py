"""Dedupe tests talk to the API like the API tests do, and submit inquiries through it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient


@pytest.fixture
def api_as(token_for):
    """api_as(user, scopes=None) -> an ApiClient holding a fresh token of that user."""

    def make(user, scopes: list[str] | None = None) -> ApiClient:
        return ApiClient(token_for(user, scopes))

    return make


@pytest.fixture
def inquire(users, api_as):
    """inquire(**fields) -> the 201 body of POST /api/v1/inquiries (as the admin)."""
    client = api_as(users.admin, ["inquiries:write"])

    def post(**fields: Any) -> dict[str, Any]:
        response = client.post("/inquiries", fields)
        assert response.status_code == 201, response.content
        return response.json()

    return post
