"""Logging in does not make every process reload its configuration; changing a rep does.

The configuration cache (common/config.py) is keyed by a version token in the database. Django
saves ``last_login`` on every login: that save must leave the token alone, while a change to a
rep that routing reads (availability, role, active flag) must replace it.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from leadrefinery.common import config
from leadrefinery.leads.actors import Actor
from leadrefinery.routing.services import rep_deactivate
from leadrefinery.sla.services import rep_availability_set
from tests.conftest import PASSWORD


def log_in(user) -> Client:
    client = Client()
    page = client.get("/login/").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf, "the login page has no form"
    response = client.post(
        "/login/", {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": csrf[1]}
    )
    assert response.status_code == 302
    return client


@pytest.mark.django_db
def test_logging_in_through_the_login_page_keeps_the_config_version(users):
    before = config.current_token()
    log_in(users.rep)
    users.rep.refresh_from_db()
    assert users.rep.last_login is not None  # the login was recorded...
    assert config.current_token() == before  # ...without invalidating every process's cache


@pytest.mark.django_db
def test_changing_a_reps_availability_replaces_the_config_version(users):
    before = config.current_token()
    rep_availability_set(
        user=users.rep,
        editor=users.manager,
        changes={"away_until": datetime.now(UTC) + timedelta(days=3)},
    )
    assert config.current_token() != before


@pytest.mark.django_db
def test_changing_a_reps_role_replaces_the_config_version(users):
    before = config.current_token()
    users.rep.role = "manager"
    users.rep.save(update_fields=["role"])
    assert config.current_token() != before


@pytest.mark.django_db
def test_deactivating_a_rep_replaces_the_config_version(users):
    before = config.current_token()
    rep_deactivate(user=users.rep, actor=Actor.of(users.admin), reason="left")
    assert config.current_token() != before
    middle = config.current_token()
    users.rep2.is_active = False
    users.rep2.save(update_fields=["is_active"])
    assert config.current_token() != middle
