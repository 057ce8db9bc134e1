"""A marketer edits a program after creating it: the form opens with its settings; messages can
be replaced and added; a message already sent to members cannot be removed."""

from __future__ import annotations

import re

import pytest

from leadrefinery.nurture import services
from leadrefinery.nurture.models import Program
from leadrefinery.nurture.sweep import nurture_sweep

pytestmark = pytest.mark.django_db


def form_values(page: str) -> dict[str, list[str]]:
    """The values a browser would post from the page's program form (inputs and selects)."""
    values: dict[str, list[str]] = {}
    form = page[page.index('id="program-form"') :]
    for name, value in re.findall(
        r'<input type="(?:text|number)" name="(\w+)" value="([^"]*)"', form
    ):
        values.setdefault(name, []).append(value)
    for name, value in re.findall(
        r'<input type="checkbox" name="(\w+)" value="([^"]*)"[^>]*checked', form
    ):
        values.setdefault(name, []).append(value)
    if re.search(r'<input type="checkbox" name="active"[^>]*checked', form):
        values["active"] = ["on"]
    for name, body in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        values[name] = [chosen[1] if chosen else ""]
    textarea = re.search(r'<textarea name="description"[^>]*>\n?(.*?)</textarea>', form, re.S)
    values["description"] = [textarea[1] if textarea else ""]
    return values


def test_a_marketer_changes_the_interval_and_adds_a_message(users, client_for, make_program):
    program = make_program(name="Tips for ops leaders", steps=2, interval_days=14)
    extra = services.message_create(
        name="Case study", subject="How Acme did it", body_markdown="Hi"
    )
    client = client_for(users.marketer)
    detail = client.get(f"/nurture/programs/{program.pk}/").content.decode()
    assert f"/nurture/programs/{program.pk}/edit/" in detail

    page = client.get(f"/nurture/programs/{program.pk}/edit/").content.decode()
    values = form_values(page)
    assert values["name"] == ["Tips for ops leaders"] and values["interval_days"] == ["14"]
    assert values["step_2"] != [""] and values["step_3"] == [""]

    values["interval_days"] = ["21"]
    values["step_3"] = [str(extra.pk)]
    saved = client.post(f"/nurture/programs/{program.pk}/edit/", values)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    program = Program.objects.get(pk=program.pk)
    assert program.interval_days == 21 and program.entry_rules == ["new_inquiry"]
    assert [s.message_id for s in program.steps.order_by("position")][-1] == extra.pk
    assert program.steps.count() == 3


def test_a_message_sent_or_scheduled_cannot_be_removed(
    users, client_for, make_program, nurture_lead, smtp_server, frozen_now
):
    program = make_program(steps=3)
    nurture_lead(email="bernd@example.de", country="DE", consent=True)
    nurture_sweep()  # step 1 goes to Bernd; step 2 is scheduled for him
    assert len(smtp_server.messages) == 1
    client = client_for(users.marketer)
    values = form_values(client.get(f"/nurture/programs/{program.pk}/edit/").content.decode())
    values["step_3"] = [""]  # never sent nor scheduled: may go
    assert client.post(f"/nurture/programs/{program.pk}/edit/", values).status_code == 302
    assert program.steps.count() == 2

    values["step_2"] = [""]
    refused = client.post(f"/nurture/programs/{program.pk}/edit/", values)
    assert refused.status_code == 400
    assert "already sent or scheduled" in refused.content.decode()
    assert program.steps.count() == 2


def test_managers_and_reps_may_not_edit(users, client_for, make_program):
    program = make_program()
    assert client_for(users.manager).get(f"/nurture/programs/{program.pk}/edit/").status_code == 403
    assert client_for(users.rep).get(f"/nurture/programs/{program.pk}/edit/").status_code == 403
