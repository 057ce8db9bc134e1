"""Login throttling (django-axes), through the real login form in Chromium: 31 wrong
passwords lock the account and the address for a while, the login page says so, the right
password is refused until the pause is over, and API tokens keep working."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import timedelta

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _try(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _api_leads(base: str, token: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/v1/leads", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        json.loads(response.read())
        return response.status


def test_wrong_passwords_lock_the_account_and_address_for_a_while(
    page, live_server, users, token_for, settings
):
    settings.AXES_FAILURE_LIMIT = 10
    settings.AXES_COOLOFF_TIME = timedelta(seconds=4)
    base = live_server.url
    token = token_for(users.rep)
    for _ in range(31):
        _try(page, base, users.rep.username, "wrong-password")
    _try(page, base, users.rep.username, PASSWORD)
    assert "/login/" in page.url, "the right password is refused while locked"
    alert = page.get_by_role("alert")
    assert "Too many failed logins" in alert.inner_text()
    assert "ask an administrator" in alert.inner_text()
    # The address is locked too: another account from it cannot log in either...
    _try(page, base, users.manager.username, PASSWORD)
    assert "Too many failed logins" in page.get_by_role("alert").inner_text()
    # ... but API tokens are not passwords: they are neither counted nor locked.
    assert _api_leads(base, token) == 200

    time.sleep(4.5)  # the pause is over
    _try(page, base, users.rep.username, PASSWORD)
    page.wait_for_url(f"{base}/leads/**")


def test_fewer_wrong_passwords_than_the_limit_do_not_lock(page, live_server, users, settings):
    settings.AXES_FAILURE_LIMIT = 10
    for _ in range(9):
        _try(page, live_server.url, users.rep.username, "wrong-password")
    assert "Please enter" in page.get_by_role("alert").inner_text()
    _try(page, live_server.url, users.rep.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/leads/**")
