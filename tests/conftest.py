"""Shared fixtures: named users, tokens, inquiries through the real intake, a browser.

Tests run against a real database (SQLite file by default, PostgreSQL when DATABASE_URL is
set) and real HTTP (pytest-django's live_server).
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.servers.basehttp import WSGIServer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Correctness, not speed, is what property tests check; speed lives in bench/.
hypothesis_settings.register_profile(
    "refinery",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
hypothesis_settings.load_profile("refinery")

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by the
# test itself between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The live test server accepts connections in one thread with Django's listen backlog of 10;
# 50 simultaneous clients overflow it and the kernel resets the surplus connections before
# the application ever sees them. Production servers (gunicorn) use a backlog of 2048. Set at
# import, before pytest-django starts its session-wide live server.
WSGIServer.request_queue_size = 128

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-battery"


# Data migrations whose seed functions are idempotent, in dependency order.
SEED_MIGRATIONS = (
    "leadrefinery.leads.migrations.0002_seed_reference_data",
    "leadrefinery.routing.migrations.0002_fallback_rule",
    "leadrefinery.sla.migrations.0002_default_policies",
    "leadrefinery.cadences.migrations.0002_default_cadence",
    "leadrefinery.scoring.migrations.0002_default_rules",
    "leadrefinery.leads.migrations.0011_stage_max_age_and_reviewed",
    "leadrefinery.scoring.migrations.0003_message_hand_raisers",
)
_DB_FIXTURES = {
    "db",
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Every test with a database starts with the seeded reference data (stages, reasons,
    queues, the contact form). Transactional tests flush all tables when they finish, which
    would leave later tests in the same worker without it; re-seed (idempotent) when missing."""
    if request.node.get_closest_marker("django_db") is None and not (
        _DB_FIXTURES & set(request.fixturenames)
    ):
        return
    request.getfixturevalue("_django_db_helper")
    from django.apps import apps

    from leadrefinery.leads.models import Queue

    if not Queue.objects.filter(slug="unassigned").exists():
        for module in SEED_MIGRATIONS:
            importlib.import_module(module).seed(apps, None)


@pytest.fixture(autouse=True)
def _tracking_flushes_at_once(settings):
    """Tracking hits are turned into touches right after each response in tests (in production
    at most once a second per process, batched), so a test can look right after a request."""
    settings.REFINERY_TRACKING_FLUSH_SECONDS = 0


@pytest.fixture(autouse=True)
def _webhooks_may_reach_this_machine(settings):
    """The webhook tests' receivers listen on 127.0.0.1, which production refuses
    (REFINERY_WEBHOOK_ALLOW_PRIVATE; tests/notifications/test_webhook_addresses.py turns it
    off to test the refusal)."""
    settings.REFINERY_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 is slow on purpose; tests log in with a fast hasher instead."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Users:
    admin: Any
    manager: Any
    rep: Any
    rep2: Any
    other_rep: Any
    marketer: Any


@pytest.fixture
def users(db) -> Users:
    """A small sales org: team East (manager, rep, rep2), team West (other_rep), a marketer, an admin."""
    from leadrefinery.accounts.models import Team
    from leadrefinery.accounts.services import user_create

    east = Team.objects.create(name="East")
    west = Team.objects.create(name="West")
    admin = user_create(
        username="admin", role="admin", password=PASSWORD, first_name="Ada", last_name="Admin"
    )
    manager = user_create(
        username="maria",
        role="manager",
        password=PASSWORD,
        team=east,
        first_name="Maria",
        last_name="Manager",
    )
    east.manager = manager
    east.save()
    rep = user_create(
        username="ron", role="rep", password=PASSWORD, team=east, first_name="Ron", last_name="Rep"
    )
    rep2 = user_create(
        username="rita",
        role="rep",
        password=PASSWORD,
        team=east,
        first_name="Rita",
        last_name="Rep",
    )
    other = user_create(
        username="walt",
        role="rep",
        password=PASSWORD,
        team=west,
        first_name="Walt",
        last_name="West",
    )
    marketer = user_create(
        username="mark", role="marketer", password=PASSWORD, first_name="Mark", last_name="Eter"
    )
    return Users(
        admin=admin, manager=manager, rep=rep, rep2=rep2, other_rep=other, marketer=marketer
    )


@pytest.fixture
def token_for(db) -> Callable[..., str]:
    """token_for(user, scopes=None) -> a bearer secret (every scope unless named)."""
    from leadrefinery.accounts.services import ALL_SCOPES, token_create

    def make(user, scopes: list[str] | None = None) -> str:
        return token_create(user=user, scopes=scopes or list(ALL_SCOPES)).secret

    return make


@pytest.fixture
def submit_inquiry(db) -> Callable[..., Any]:
    """submit_inquiry(**fields) -> the processed IntakeRecord, through the real intake services."""
    from leadrefinery.intake.services import intake_process, intake_receive
    from leadrefinery.leads.models import Source

    def submit(source: str = "API", channel: str = "api", **payload: Any):
        src = Source.objects.get_or_create(name=source)[0]
        record, _ = intake_receive(channel=channel, payload=payload, source=src)
        return intake_process(record)

    return submit


@pytest.fixture
def make_lead(submit_inquiry) -> Callable[..., Any]:
    """make_lead(email=..., **fields) -> a new Lead (stage inquiry, in the unassigned queue)."""
    from leadrefinery.leads.models import Lead

    counter = {"n": 0}

    def make(**payload: Any):
        counter["n"] += 1
        payload.setdefault("email", f"buyer{counter['n']}@example.com")
        payload.setdefault("first_name", "Pat")
        payload.setdefault("last_name", f"Buyer{counter['n']}")
        record = submit_inquiry(**payload)
        assert record.status == "processed", record.errors
        return Lead.objects.get(pk=record.lead_id)

    return make


@pytest.fixture
def frozen_now() -> Iterator[Any]:
    """The clock frozen at Monday 2026-03-02 09:00 UTC; .advance(timedelta) moves it."""
    from leadrefinery.common.clock import frozen

    with frozen(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) as clock:
        yield clock


def _browser_missing_reason() -> str | None:
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium to run browser tests)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@pytest.fixture(scope="session")
def _playwright_browser():
    reason = _browser_missing_reason()
    if reason:
        if os.environ.get("REFINERY_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required here but cannot run: {reason}")
        print(f"\nNOTICE: skipping browser tests: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


@pytest.fixture
def page(_playwright_browser):
    """A fresh Chromium page (own cookies) per test."""
    context = _playwright_browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def login(page, live_server):
    """login(user) logs the browser page in through the real login form."""

    def do(user, password: str = PASSWORD):
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/leads/**")
        return page

    return do
