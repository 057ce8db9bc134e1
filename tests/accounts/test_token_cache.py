"""API tokens are kept in the configuration cache, and a change to one still counts at once.

A request with a known token reads no token row while the configuration is unchanged; revoking
the token, deactivating its user or changing its scopes replaces the configuration version (so
every process reads the token afresh) and the very next request sees it.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadrefinery.accounts.models import ApiToken
from leadrefinery.accounts.services import token_create, token_revoke
from leadrefinery.common import config
from leadrefinery.common.models import ConfigVersion

pytestmark = pytest.mark.django_db


def get_leads(secret: str):
    return Client().get("/api/v1/leads", HTTP_AUTHORIZATION=f"Bearer {secret}")


def token_queries(captured: CaptureQueriesContext) -> list[str]:
    table = ApiToken._meta.db_table
    return [
        q["sql"] for q in captured.captured_queries if table in q["sql"] and "SELECT" in q["sql"]
    ]


def test_a_known_token_costs_no_token_query_while_nothing_changes(users):
    secret = token_create(user=users.rep).secret
    assert get_leads(secret).status_code == 200  # the first request reads the token
    with CaptureQueriesContext(connection) as captured:
        assert get_leads(secret).status_code == 200
        assert get_leads(secret).status_code == 200
    assert token_queries(captured) == []


def test_an_unknown_token_is_refused_every_time(users):
    token_create(user=users.rep)
    for _ in range(2):
        assert get_leads("lr_not-a-real-token").status_code == 401


def test_revoking_a_token_refuses_the_very_next_request(users):
    issued = token_create(user=users.rep)
    assert get_leads(issued.secret).status_code == 200
    before = config.current_token()
    token_revoke(token=ApiToken.objects.get(pk=issued.token.pk))
    assert config.current_token() != before  # every process reloads
    assert get_leads(issued.secret).status_code == 401


def test_deactivating_the_user_refuses_the_very_next_request(users):
    secret = token_create(user=users.rep).secret
    assert get_leads(secret).status_code == 200
    before = config.current_token()
    users.rep.is_active = False
    users.rep.save()
    assert config.current_token() != before
    assert get_leads(secret).status_code == 401


def test_removing_a_scope_refuses_the_very_next_request(users):
    issued = token_create(user=users.rep, scopes=["leads:read", "leads:write"])
    assert get_leads(issued.secret).status_code == 200
    before = config.current_token()
    token = ApiToken.objects.get(pk=issued.token.pk)
    token.scopes = ["leads:write"]
    token.save()
    assert config.current_token() != before
    response = get_leads(issued.secret)
    assert response.status_code == 403
    assert "leads:read" in response.json()["detail"]


def test_a_revocation_in_another_process_counts_here(users):
    """Another process revokes the token: it writes the row and the new version token, and this
    process's cache, still holding the token, must not answer from it."""
    issued = token_create(user=users.rep)
    assert get_leads(issued.secret).status_code == 200
    # What another process's token_revoke leaves in the database: this process's signal
    # handlers do not run for it.
    ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=issued.token.created_at)
    with connection.cursor() as cur:
        table = connection.ops.quote_name(ConfigVersion._meta.db_table)
        cur.execute(f"UPDATE {table} SET token = %s WHERE id = 1", ["from-elsewhere"])
    assert get_leads(issued.secret).status_code == 401
