"""A nurtured lead that turns hot through a bulk writer leaves its program at once, even when
no rep can take it yet (so no stage change or assignment follows to take it out): the bulk
writers publish their timeline events to the lead-event registry like single writes do."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from leadrefinery.intake.importing import import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead
from leadrefinery.leads.services import lead_transition
from leadrefinery.nurture.models import Enrollment
from leadrefinery.nurture.sweep import nurture_sweep
from leadrefinery.tracking.services import hits_flush

from .conftest import html_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def nurtured(smtp_server, make_program, nurture_lead, frozen_now):
    """A well-fitting lead in nurture, enrolled and sent its first email; routing has no rule
    that gives a hot lead to a rep, so turning hot leaves it with marketing."""
    make_program(entry_rules=["warm", "cool", "new_inquiry"])
    lead = nurture_lead(
        first_name="Nora",
        email="nora@northwind.example",
        company="Northwind Traders",
        title="Chief Operations Director",
        country="GB",
        consent=True,
    )
    lead = lead_transition(lead=lead, to_stage="nurture", actor=Actor.system("test"))
    nurture_sweep()
    assert Enrollment.objects.get(lead=lead).status == "active"
    assert lead.temperature != "hot"
    return lead


def _enrollment(lead: Lead) -> tuple[str, str]:
    enrollment = Enrollment.objects.get(lead=lead)
    return enrollment.status, enrollment.exit_reason


def test_the_tracking_flush_turns_it_hot_and_it_leaves_nurture(nurtured, smtp_server, frozen_now):
    [email] = smtp_server.messages
    click = re.search(r'href="https?://[^/"]+(/t/c/[^"]+)">Read the study', html_part(email))[1]
    pixel = re.search(r'src="https?://[^/"]+(/t/o/[^"]+)"', html_part(email))[1]
    reader = Client()
    # Opens and clicks are buffered as hits, then flushed in bulk; daily caps spread the
    # engagement over a few days.
    for _day in range(8):
        for _ in range(3):
            reader.get(pixel.replace("&amp;", "&"))
            reader.get(click.replace("&amp;", "&"))
        hits_flush()
        if Lead.objects.get(pk=nurtured.pk).temperature == "hot":
            break
        assert _enrollment(nurtured) == ("active", "")
        frozen_now.advance(timedelta(days=1))

    lead = Lead.objects.get(pk=nurtured.pk)
    assert lead.temperature == "hot"
    assert lead.stage == "nurture" and lead.owner_user is None  # no rep to hand it to
    assert _enrollment(lead) == ("exited", "hot")


def test_a_csv_import_with_a_demo_request_turns_it_hot_and_it_leaves_nurture(nurtured, tmp_path):
    path = tmp_path / "expo.csv"
    path.write_text(
        "Email,First Name,Company,request_type\n"
        "nora@northwind.example,Nora,Northwind Traders,demo\n",
        encoding="utf-8",
    )
    report = import_csv(path, source_name="Expo", actor=Actor.system("import"))
    assert (report.new_leads, report.attached) == (0, 1)

    lead = Lead.objects.get(pk=nurtured.pk)
    assert lead.temperature == "hot"
    assert _enrollment(lead) == ("exited", "hot")
