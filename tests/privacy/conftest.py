"""Privacy fixtures: the SMTP server, nurture programs, form posts and an API client."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tests.api.conftest import ApiClient, api_as  # noqa: F401 - fixture
from tests.notifications.conftest import smtp_server  # noqa: F401 - fixture
from tests.nurture.conftest import make_program, nurture_settings  # noqa: F401 - fixture
from tests.ui.conftest import client_for, post_form  # noqa: F401 - fixture


def rows_containing(marker: str) -> list[tuple[str, str, Any]]:
    """Every (table, column, value) in the whole database whose value contains ``marker``,
    found by introspection: every table, every column, so tables added later are covered."""
    found = []
    needle = marker.lower()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        text = bytes(value).decode("latin-1")
                    else:
                        text = str(value)
                    if needle in text.lower():
                        found.append((table, column, text[:120]))
    return found


@pytest.fixture
def admin_api(users, token_for) -> ApiClient:
    return ApiClient(token_for(users.admin, ["privacy:admin", "inquiries:write", "leads:read"]))
