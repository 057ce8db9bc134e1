"""Nobody can follow up a contact that is gone: erasure ends the lead's running cadence and
its nurture programs (on the timeline), and leaves its stage as it was."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from leadrefinery.cadences.models import Enrollment as CadenceEnrollment
from leadrefinery.cadences.services import lead_accept
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.leads.services import lead_assign, lead_transition
from leadrefinery.nurture.models import Enrollment as NurtureEnrollment
from leadrefinery.nurture.sweep import nurture_sweep

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def test_a_running_cadence_stops_and_the_lead_keeps_its_stage(make_lead, users):
    lead = lead_assign(lead=make_lead(email="olga@example.com"), owner_user=users.rep, actor=SYSTEM)
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=SYSTEM)
    lead = lead_accept(lead=lead, actor=Actor.of(users.rep))
    assert CadenceEnrollment.objects.get(lead=lead).status == "active"

    call_command("person", "erase", "olga@example.com", "--reason", "ticket 5", "--yes")

    enrollment = CadenceEnrollment.objects.get(lead=lead)
    assert enrollment.status == "stopped"
    assert enrollment.end_reason == "Personal data erased on request"
    after = Lead.objects.get(pk=lead.pk)
    assert after.stage == lead.stage
    assert after.next_action == "Close or keep: the person's data was erased"
    assert LeadEvent.objects.filter(
        lead=lead, kind="cadence", note__contains="Personal data erased on request"
    ).exists()


def test_nurture_programs_end(make_lead, make_program, smtp_server):
    make_program(entry_rules=["new_inquiry"])
    lead = make_lead(email="nina@example.com", country="US")
    nurture_sweep()
    assert NurtureEnrollment.objects.get(lead=lead).status == "active"

    call_command("person", "erase", "nina@example.com", "--reason", "ticket 6", "--yes")

    enrollment = NurtureEnrollment.objects.get(lead=lead)
    assert (enrollment.status, enrollment.exit_reason) == ("exited", "erased")
