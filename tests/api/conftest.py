"""An API client that speaks JSON with a bearer token, through Django's test client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client


class ApiClient:
    def __init__(self, secret: str | None) -> None:
        self.client = Client()
        self.secret = secret

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        return {**headers, **(extra or {})}

    def post(self, path: str, body: Any, *, key: str | None = None, headers=None):
        extra = dict(headers or {})
        if key is not None:
            extra["Idempotency-Key"] = key
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(
            f"/api/v1{path}",
            data=data,
            content_type="application/json",
            headers=self._headers(extra),
        )

    def get(self, path: str, params: dict[str, Any] | None = None, headers=None):
        return self.client.get(f"/api/v1{path}", params or {}, headers=self._headers(headers))


@pytest.fixture
def api_as(token_for):
    """api_as(user, scopes=None) -> an ApiClient holding a fresh token of that user."""

    def make(user, scopes: list[str] | None = None) -> ApiClient:
        return ApiClient(token_for(user, scopes))

    return make


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient(None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One test id per API operation for the schema fuzz test.

    Schemathesis makes one item per operation, but under pytest 9 they all share the test
    function's id, so pytest counted the ~60 of them as one: its progress stopped (at 1% of
    the file, 91% of the suite) for minutes, which reads like a hang, and `-v` could not say
    which operation runs. The operation goes into the id, as schemathesis means it to."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if not label or item.nodeid.endswith("]"):
            continue
        nodeid = f"{item.nodeid}[{label}]"
        if hasattr(item, "_id"):  # pytest >= 9 keeps a structured id
            from _pytest.nodeid import coerce_node_id

            item._id = coerce_node_id(nodeid)
        else:
            item._nodeid = nodeid
