"""A person's data planted through every real entry point is nowhere in the database after
erasure: not in any column of any table (found by introspection), raw payloads included;
their leads stay, with the facts the reports count."""

from __future__ import annotations

import csv
import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import IntakeRecord, Lead, LeadEvent, Person, Source
from leadrefinery.leads.services import lead_assign, lead_dispose, lead_note_add, lead_transition
from leadrefinery.notifications.dispatch import outbox_dispatch
from leadrefinery.notifications.services import build_messages, enqueue
from leadrefinery.nurture.sweep import nurture_sweep
from leadrefinery.privacy.models import ErasedContact, PrivacyEvent
from leadrefinery.reports.models import Cell
from leadrefinery.reports.rollup import rollup_sweep
from leadrefinery.tracking.models import Visit
from tests.ui.conftest import CONTACT

from .conftest import rows_containing

pytestmark = pytest.mark.django_db(transaction=True)


def won_by_source() -> dict[str, tuple[int, Decimal]]:
    """Won leads and revenue per source, as the reports' rollups hold them."""
    rows = (
        Cell.objects.filter(grain="s")
        .values("source_id")
        .annotate(won=Sum("won"), revenue=Sum("revenue"))
    )
    names = dict(Source.objects.values_list("pk", "name"))
    return {
        names[r["source_id"]]: (r["won"], Decimal(r["revenue"] or 0) / 100)
        for r in rows
        if r["won"]
    }


def test_after_erasure_the_marker_is_in_no_table_and_the_won_lead_still_counts(
    users,
    post_form,
    smtp_server,
    make_program,
    frozen_now,
    admin_api,
    client_for,
    tmp_path: Path,
):
    marker = "mk" + uuid.uuid4().hex[:10]
    email = f"grace.{marker}@jones-{marker}.example"
    first, last = f"Grace{marker}", f"Jones{marker}"
    users.rep.email = "ron.rep@refinery.example"
    users.rep.save()
    make_program(entry_rules=["new_inquiry"])

    # A tracked visitor (cookie) looks at two pages; the URL carries the address.
    browser = Client()
    visitor = "v" + uuid.uuid4().hex[:20]
    browser.cookies["rf_vid"] = visitor
    for page in ("pricing", "team"):
        answer = browser.post(
            "/t/v",
            json.dumps(
                {
                    "vid": visitor,
                    "url": f"https://shop.example/{page}?email={email}",
                    "title": f"Welcome back {first}",
                    "ref": f"https://mail.example/read?to={email}",
                }
            ),
            content_type="text/plain",
        )
        assert answer.status_code == 204

    # The same browser fills in the public form: the visits become the person's touches.
    posted = post_form(
        "contact",
        {
            **CONTACT,
            "first_name": first,
            "last_name": last,
            "email": email,
            "company": f"Jones {marker} Ltd",
            "phone": "+44 20 7946 0958",
            "country": "United Kingdom",
            "message": f"Please call {first} about 40 seats ({marker})",
            "consent": "yes",
        },
        client=browser,
    )
    assert posted.response.status_code == 302
    person = Person.objects.get(email=email)
    assert Visit.objects.filter(person=person).count() == 2

    # An integration sends an inquiry with the same address, keyed by it.
    answer = admin_api.post(
        "/inquiries",
        {"email": email, "first_name": first, "last_name": last, "message": f"API {marker}"},
        key=f"crm-{email}",
    )
    assert answer.status_code == 201, answer.content

    # A list import has them with another spelling and their street address.
    path = tmp_path / "expo.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["email", "first_name", "last_name", "street", "city", "postcode"])
        writer.writerow([email, first, f"{last}-Smythe", f"12 {marker} Road", "Leeds", "LS1 4AB"])
    call_command("import_leads", str(path), "--source", "Expo", "--no-progress")

    # A tracked event names them; a rep writes a note; the lead is assigned (an email to the
    # rep through the real SMTP server), nurture mails the person, and the lead is won.
    events = admin_api.post(
        "/events",
        {
            "events": [
                {
                    "id": f"ev-{marker}",
                    "type": "webinar",
                    "occurred_at": frozen_now.at.isoformat(),
                    "email": email,
                    "properties": {"attendee": f"{first} {last}"},
                }
            ]
        },
    )
    assert events.status_code in (200, 202), events.content
    lead = Lead.objects.filter(person=person).order_by("pk").first()
    nurture_sweep()
    lead_note_add(lead=lead, note=f"Spoke to {first}: wants a demo", actor=Actor.of(users.rep))
    lead = lead_assign(lead=lead, owner_user=users.rep, actor=Actor.of(users.admin))
    # The rep is told (what routing does for a routed lead), through the outbox.
    enqueue(
        build_messages(
            event="lead.assigned", lead=lead, fact="by-hand", endpoints=[], at=frozen_now.at
        )
    )
    outbox_dispatch()
    assert any(email in str(m["To"]) for m in smtp_server.messages), "nurture mailed the person"
    assert any(marker in str(m["Subject"]) for m in smtp_server.messages), "the rep was told"
    for stage in ("sales_ready", "working", "opportunity"):
        lead = lead_transition(lead=lead, to_stage=stage, actor=Actor.of(users.rep))
    lead = lead_dispose(
        lead=lead,
        reason_code="won",
        actor=Actor.of(users.rep),
        won_amount=Decimal("12000"),
        note=f"{first} signed",
    )

    planted = {table for table, _c, _v in rows_containing(marker)}
    for table in (
        "leads_person",
        "leads_lead",
        "leads_intakerecord",
        "leads_touch",
        "leads_leadevent",
        "dedupe_personvariant",
        "tracking_visit",
        "tracking_hit",
        "tracking_trackedevent",
        "notifications_outboxmessage",
    ):
        assert table in planted, f"the test did not plant the marker in {table}"

    rollup_sweep()
    counted = won_by_source()
    assert counted["Website"] == (1, Decimal("12000"))

    # The admin erases them (by email, through the CLI).
    call_command("person", "erase", email, "--reason", "GDPR request, ticket 4411", "--yes")
    rollup_sweep()
    assert won_by_source() == counted  # the won lead still counts, at its amount, for its source

    leftovers = rows_containing(marker)
    assert leftovers == [], leftovers
    for their in ("2079460958", "LS1 4AB", "ls14ab"):
        assert rows_containing(their) == [], their
    # Nothing was deleted: every lead and raw inquiry is still there, the won one as won.
    assert IntakeRecord.objects.filter(payload___erased=True).count() == 3
    won = Lead.objects.get(pk=lead.pk)
    assert won.stage == "won" and won.won_amount == 12000 and won.source.name == "Website"
    assert Person.objects.filter(pk=person.pk).exists()
    event = PrivacyEvent.objects.get(kind="erase")
    assert event.reason == "GDPR request, ticket 4411" and person.pk in event.person_ids
    assert ErasedContact.objects.filter(kind="email").count() == 1
    assert ErasedContact.objects.filter(kind="phone").count() == 1
    assert LeadEvent.objects.filter(lead=won, data__privacy="erased").exists()
