"""Entry rules: a recycled lead joins nurture; warm leads and lost-for-no-decision leads too;
a lead owned by a rep or in a sales stage does not."""

from __future__ import annotations

import pytest

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.leads.services import lead_assign, lead_dispose, lead_recycle, lead_transition
from leadrefinery.nurture.models import Enrollment
from leadrefinery.nurture.sweep import nurture_sweep

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def test_a_recycled_lead_joins_nurture_and_gets_the_first_tip(
    smtp_server, make_program, nurture_lead, users, frozen_now
):
    program = make_program(entry_rules=["recycled"])
    lead = nurture_lead(first_name="Rene", email="rene@example.com", country="GB", consent=True)
    untouched = nurture_lead(email="fresh@example.com", country="GB", consent=True)
    lead = lead_assign(lead=lead, owner_user=users.rep, actor=SYSTEM)
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=SYSTEM)

    nurture_sweep()
    assert not Enrollment.objects.exists()  # sales owns it: no nurture

    lead_recycle(lead=lead, reason_code="recycle_not_ready", actor=Actor.of(users.rep))
    lead.refresh_from_db()
    assert (lead.stage, lead.owner_queue.slug) == ("nurture", "marketing")

    nurture_sweep()
    enrollment = Enrollment.objects.get()
    assert (enrollment.lead, enrollment.program, enrollment.entry_reason) == (
        lead,
        program,
        "recycled",
    )
    assert [m["To"] for m in smtp_server.messages] == ["rene@example.com"]
    assert LeadEvent.objects.filter(lead=lead, kind="nurture", reason="entered").exists()
    assert not Enrollment.objects.filter(lead=untouched).exists()


def test_a_lead_recycled_by_the_cadence_event_joins_too(make_program, nurture_lead, smtp_server):
    """The cadence helper recycles with a LeadEvent of kind RECYCLED; that is enough."""
    make_program(entry_rules=["recycled"])
    lead = nurture_lead(email="cad@example.com", country="GB", consent=True)
    lead = lead_transition(lead=lead, to_stage="nurture", actor=SYSTEM)
    LeadEvent.objects.create(
        lead=lead, kind="recycled", occurred_at=lead.created_at, actor_label="system:cadence"
    )
    nurture_sweep()
    assert Enrollment.objects.get().entry_reason == "recycled"


def test_warm_and_lost_for_no_decision_leads_enter_hot_ones_do_not(
    make_program, nurture_lead, users, smtp_server
):
    make_program(entry_rules=["warm", "lost_no_decision"])
    warm = nurture_lead(email="warm@example.com")
    hot = nurture_lead(email="hot@example.com")
    cold = nurture_lead(email="cold@example.com")
    lost = nurture_lead(email="lost@example.com")
    Lead.objects.filter(pk=warm.pk).update(temperature="warm")
    Lead.objects.filter(pk=hot.pk).update(temperature="hot")
    Lead.objects.filter(pk=cold.pk).update(temperature="cold")
    lost = lead_assign(lead=lost, owner_user=users.rep, actor=SYSTEM)
    lead_transition(lead=lost, to_stage="sales_ready", actor=SYSTEM)
    lead_transition(lead=lost, to_stage="working", actor=SYSTEM)
    lead_dispose(lead=lost, reason_code="lost_no_decision", actor=Actor.of(users.rep))

    nurture_sweep()
    entered = dict(Enrollment.objects.values_list("lead__person__email", "entry_reason"))
    assert entered == {"warm@example.com": "warm", "lost@example.com": "lost_no_decision"}
