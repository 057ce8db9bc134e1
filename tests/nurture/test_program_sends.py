"""A program sends the right message to the right people on the right days, through a real
SMTP server on loopback, with the unsubscribe headers, tracking and the sender's address."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from leadrefinery.nurture.models import Enrollment, NurtureSend
from leadrefinery.nurture.sweep import nurture_sweep

from .conftest import by_recipient, html_part, text_part

pytestmark = pytest.mark.django_db


def subjects(server, address):
    return [str(m["Subject"]) for m in by_recipient(server).get(address, [])]


def test_a_program_sends_each_tip_in_the_window_every_two_weeks(
    smtp_server, make_program, nurture_lead, frozen_now
):
    make_program(entry_rules=["new_inquiry"], interval_days=14)
    nurture_lead(first_name="Bernd", email="bernd@example.de", country="DE", consent=True)
    nurture_lead(first_name="Alice", email="alice@example.com", country="US")
    nurture_lead(first_name="Carla", email="carla@example.de", country="DE", consent=False)

    # Monday 09:00 UTC: 10:00 in Berlin (inside the window), 04:00 in New York (before it).
    nurture_sweep()
    assert subjects(smtp_server, "bernd@example.de") == ["Tip 1: measure response time"]
    assert subjects(smtp_server, "alice@example.com") == []

    frozen_now.advance(timedelta(hours=5))  # 14:00 UTC = 09:00 in New York
    nurture_sweep()
    assert subjects(smtp_server, "alice@example.com") == ["Tip 1: measure response time"]

    frozen_now.advance(timedelta(days=13))  # day 13: not yet two weeks
    nurture_sweep()
    assert len(smtp_server.messages) == 2

    frozen_now.advance(timedelta(days=1))  # day 14
    nurture_sweep()
    assert subjects(smtp_server, "bernd@example.de")[-1] == "Tip 2: call five times"
    assert subjects(smtp_server, "alice@example.com")[-1] == "Tip 2: call five times"

    frozen_now.advance(timedelta(days=14))  # day 28: the last tip, then the track ends
    nurture_sweep()
    frozen_now.advance(timedelta(days=30))
    nurture_sweep()
    for address in ("bernd@example.de", "alice@example.com"):
        assert subjects(smtp_server, address) == [
            "Tip 1: measure response time",
            "Tip 2: call five times",
            "Tip 3: close every lead",
        ]
    # No opt-in recorded in Germany: nothing at all, ever.
    assert subjects(smtp_server, "carla@example.de") == []
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"completed"}


def test_every_message_has_unsubscribe_headers_address_tracking_and_merge_fields(
    smtp_server, make_program, nurture_lead, frozen_now
):
    make_program(entry_rules=["new_inquiry"])
    nurture_lead(first_name="Bernd", email="bernd@example.de", country="DE", consent=True)
    nurture_sweep()
    [message] = smtp_server.messages
    send = NurtureSend.objects.get(status="sent")

    assert message["List-Unsubscribe"] == f"<https://refinery.example.com/u/{send.token}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == send.message_id
    assert re.fullmatch(r"<nurture\.\d+\.[0-9a-f]{24}@[^>]+>", send.message_id)

    html = html_part(message)
    text = text_part(message)
    assert "Hello Bernd," in text and "Hello Bernd," in html
    for body in (html, text):
        assert "Refinery Ltd" in body and "12 Mill Road" in body
        assert f"https://refinery.example.com/u/{send.token}" in body
    # Content links go through the click redirect; the unsubscribe link is never tracked.
    assert 'href="https://example.com/study"' not in html
    assert re.search(r'href="https://refinery\.example\.com/t/c/[^"]+">Read the study', html)
    assert re.search(r'<img src="https://refinery\.example\.com/t/o/[^"]+\.gif"', html)
    assert f'href="https://refinery.example.com/u/{send.token}"' in html


def test_running_the_sweep_twice_sends_nothing_twice(
    smtp_server, make_program, nurture_lead, frozen_now
):
    make_program(entry_rules=["new_inquiry"])
    for n in range(5):
        nurture_lead(email=f"twice{n}@example.com", country="GB", consent=True)
    nurture_sweep()
    nurture_sweep()
    frozen_now.advance(timedelta(minutes=10))
    nurture_sweep()
    assert sorted(str(m["To"]) for m in smtp_server.messages) == [
        f"twice{n}@example.com" for n in range(5)
    ]


def test_the_frequency_cap_holds_across_programs(
    smtp_server, make_program, nurture_lead, frozen_now, nurture_settings
):
    nurture_settings.REFINERY_NURTURE_CAP = "1/7"
    make_program(entry_rules=["new_inquiry"], name="Tips")
    make_program(entry_rules=["new_inquiry"], name="Stories")
    nurture_lead(email="busy@example.com", country="GB", consent=True)
    nurture_sweep()
    assert len(smtp_server.messages) == 1
    frozen_now.advance(timedelta(days=3))
    nurture_sweep()
    assert len(smtp_server.messages) == 1  # the second program waits for the cap
    frozen_now.advance(timedelta(days=4))
    nurture_sweep()
    assert len(smtp_server.messages) == 2
    assert {m["Message-ID"] for m in smtp_server.messages}.__len__() == 2
