"""The API docs page works offline: Swagger UI comes from our own static files."""

import pytest


@pytest.mark.django_db
def test_docs_page_serves_swagger_from_our_static_files(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn." not in html and "unpkg" not in html
    assert "/static/ninja/" in html
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "Lead Refinery API"
