"""The admin names things in proper English and lists SLA policies; /favicon.ico is served."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_admin_index_names_models_properly_and_has_sla_policies(users):
    users.admin.is_staff = True
    users.admin.save()
    client = Client()
    client.force_login(users.admin)
    page = client.get("/admin/").content.decode()
    assert "Import batches" in page and "Import batchs" not in page
    assert "People" in page and "Persons" not in page
    assert "SLA policies" in page and "Holidays" in page
    assert client.get("/admin/sla/slapolicy/").status_code == 200


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"
