"""Scoring tests: an API client with a token (shared with the API tests)."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient
from tests.ui.conftest import client_for, post_form  # noqa: F401 - fixtures, re-exported


@pytest.fixture
def api_as(token_for):
    def make(user, scopes: list[str] | None = None) -> ApiClient:
        return ApiClient(token_for(user, scopes))

    return make
