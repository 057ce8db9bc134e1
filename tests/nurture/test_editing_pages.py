"""A marketer writes a message and builds a program in the pages, without the API; pauses
and switches it on; others may not."""

from __future__ import annotations

import pytest

from leadrefinery.nurture.models import Message, Program
from leadrefinery.nurture.sweep import nurture_enroll

pytestmark = pytest.mark.django_db


def _message(client, name="Tip A"):
    return client.post(
        "/nurture/messages/new/",
        {"name": name, "subject": f"{name}: measure", "body_markdown": "Hi {{ first_name }}."},
    )


def test_a_marketer_writes_a_message_and_builds_a_program_that_enrolls(
    users, client_for, nurture_settings, nurture_lead
):
    client = client_for(users.marketer)
    assert "Write a message first" in client.get("/nurture/programs/new/").content.decode()

    saved = _message(client)
    message = Message.objects.get(name="Tip A")
    assert saved.status_code == 302 and saved["Location"].endswith(
        f"/nurture/messages/{message.pk}/preview/"
    )
    _message(client, "Tip B")
    second = Message.objects.get(name="Tip B")

    created = client.post(
        "/nurture/programs/new/",
        {
            "name": "Monthly tips",
            "interval_days": "30",
            "step_1": str(message.pk),
            "step_2": str(second.pk),
            "window_start": "09:00",
            "window_end": "17:00",
            "window_weekdays": ["0", "1", "2", "3", "4"],
            "entry_rules": ["new_inquiry"],
            "exit_rules": ["hot", "unsubscribed"],
            "active": "on",
        },
    )
    program = Program.objects.get(name="Monthly tips")
    assert created.status_code == 302 and created["Location"].endswith(
        f"/nurture/programs/{program.pk}/"
    )
    assert [s.message_id for s in program.steps.order_by("position")] == [message.pk, second.pk]
    assert program.interval_days == 30 and program.exit_rules == ["hot", "unsubscribed"]

    nurture_lead(email="joins@example.com", country="GB", consent=True)
    assert nurture_enroll() == 1
    page = client.get(f"/nurture/programs/{program.pk}/").content.decode()
    assert "1 in the program now" in page and "Pause" in page


def test_a_program_without_a_message_or_with_a_taken_name_is_refused_on_the_form(
    users, client_for, nurture_settings
):
    client = client_for(users.marketer)
    _message(client)
    first = Message.objects.get()
    base = {
        "name": "Tips",
        "interval_days": "14",
        "window_start": "09:00",
        "window_end": "17:00",
        "window_weekdays": ["0"],
        "entry_rules": ["warm"],
    }
    empty = client.post("/nurture/programs/new/", base)
    assert empty.status_code == 200 and "This field is required" in empty.content.decode()
    assert client.post("/nurture/programs/new/", {**base, "step_1": first.pk}).status_code == 302
    again = client.post("/nurture/programs/new/", {**base, "step_1": first.pk})
    assert again.status_code == 200 and Program.objects.count() == 1
    assert "errorlist" in again.content.decode()


def test_pause_and_switch_on(users, client_for, make_program):
    program = make_program()
    client = client_for(users.marketer)
    client.post(f"/nurture/programs/{program.pk}/toggle/")
    program.refresh_from_db()
    assert not program.active
    assert "Paused" in client.get(f"/nurture/programs/{program.pk}/").content.decode()
    client.post(f"/nurture/programs/{program.pk}/toggle/")
    program.refresh_from_db()
    assert program.active


def test_managers_read_but_do_not_edit_and_reps_see_nothing(users, client_for, make_program):
    program = make_program()
    manager = client_for(users.manager)
    assert manager.get("/nurture/").status_code == 200
    assert "New program" not in manager.get("/nurture/").content.decode()
    assert manager.get("/nurture/messages/new/").status_code == 403
    assert manager.post(f"/nurture/programs/{program.pk}/toggle/").status_code == 403
    assert client_for(users.rep).get("/nurture/programs/new/").status_code == 403
    program.refresh_from_db()
    assert program.active
