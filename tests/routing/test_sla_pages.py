"""/sla/: admins and managers list and edit SLA policies; each save is validated by the policy's
rules, and a refusal is shown on the field it is about. Reps are turned away."""

from __future__ import annotations

import pytest
from django.test import Client

from leadrefinery.sla.models import SlaPolicy
from tests.ui.conftest import CSRF_RE

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_of(policy: SlaPolicy, **changes) -> dict[str, str]:
    data = {
        "name": policy.name,
        "order": str(policy.order),
        "temperature": policy.temperature,
        "source": str(policy.source_id or ""),
        "first_touch_minutes": str(policy.first_touch_minutes),
        "accept_minutes": str(policy.accept_minutes),
        "remind_at_percent": str(policy.remind_at_percent),
        "reassign_after_minutes": str(policy.reassign_after_minutes or ""),
    }
    for flag in ("active", "business_hours", "notify_manager_at_breach"):
        if getattr(policy, flag):
            data[flag] = "on"
    data.update(changes)
    return data


def test_a_manager_lists_and_edits_a_policy(users):
    hot = SlaPolicy.objects.get(temperature="hot")
    manager = logged_in(users.manager)
    page = manager.get("/sla/").content.decode()
    assert hot.name in page and "within 15 min" in page and "reassigned 15 min after breach" in page

    edit = manager.get(f"/sla/{hot.pk}/").content.decode()
    assert f'value="{hot.name}"' in edit  # the form opens with the saved values
    token = CSRF_RE.search(edit)[1]
    saved = manager.post(
        f"/sla/{hot.pk}/",
        {**form_of(hot, first_touch_minutes="10"), "csrfmiddlewaretoken": token},
    )
    assert saved.status_code == 302
    hot.refresh_from_db()
    assert hot.first_touch_minutes == 10 and hot.temperature == "hot" and hot.active


def test_a_refused_value_is_shown_and_nothing_changes(users):
    hot = SlaPolicy.objects.get(temperature="hot")
    admin = logged_in(users.admin)
    token = CSRF_RE.search(admin.get("/sla/new/").content.decode())[1]
    refused = admin.post(
        f"/sla/{hot.pk}/", {**form_of(hot, remind_at_percent="100"), "csrfmiddlewaretoken": token}
    )
    assert refused.status_code == 400
    assert "99" in refused.content.decode()
    hot.refresh_from_db()
    assert hot.remind_at_percent == 50

    created = admin.post(
        "/sla/new/",
        {
            **form_of(hot, name="Warm leads: within two hours", temperature="warm"),
            "first_touch_minutes": "120",
            "csrfmiddlewaretoken": token,
        },
    )
    assert created.status_code == 302
    assert SlaPolicy.objects.get(name="Warm leads: within two hours").first_touch_minutes == 120


def test_reps_and_marketers_may_not(users):
    assert logged_in(users.rep).get("/sla/").status_code == 403
    assert logged_in(users.marketer).get("/sla/1/").status_code == 403
