"""Tracking tests: an API client with a token (shared with the API tests)."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient


@pytest.fixture
def api_as(token_for):
    def make(user, scopes: list[str] | None = None) -> ApiClient:
        return ApiClient(token_for(user, scopes))

    return make
