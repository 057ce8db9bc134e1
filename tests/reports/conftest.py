"""A small, hand-countable world for the reports (the clock: Monday 2026-03-02 09:00 UTC).

- L1 (Web, Ron, East): first call 3 minutes after the inquiry; the buyer asks again through
  the trade show (same person, so L1 has two inquiries, Web then Show); sales ready,
  accepted, opportunity worth 10,000, won after 6 sales touches.
- L2 (Web, Ron): never followed up, still open.
- L3 (Show, Rita, East): first call two days later (16 working hours), 6 calls over 15 days,
  closed as no response; its outcome check answered "competitor".
- L4 (Show, Walt, West): first call 90 minutes later, lost on price after 2 calls.
- Costs: Web 1,000 in March 2026; Show 3,000 from 1 March to 30 April 2026.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from leadrefinery.cadences import services as cadence_services
from leadrefinery.cadences.models import OutcomeCheck
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, Source
from leadrefinery.leads.services import lead_assign, lead_dispose, lead_transition, touch_log
from leadrefinery.reports.models import CostEntry
from leadrefinery.reports.rollup import rollup_sweep


@dataclass
class World:
    l1: Lead
    l2: Lead
    l3: Lead
    l4: Lead
    web: Source
    show: Source


def _to_working(lead: Lead, rep: Any) -> Lead:
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=Actor.system("test"))
    return cadence_services.lead_accept(lead=lead, actor=Actor.of(rep))


def _calls(lead: Lead, rep: Any, clock: Any, n: int, every: timedelta) -> None:
    for _ in range(n):
        touch_log(lead=lead, channel="call", outcome="no_answer", actor=Actor.of(rep))
        clock.advance(every)


@pytest.fixture
def world(users, make_lead, frozen_now) -> World:
    clock = frozen_now
    system = Actor.system("test")
    l1 = make_lead(email="ann@buyer.example", first_name="Ann", source="Web")
    l2 = make_lead(email="bob@buyer.example", first_name="Bob", source="Web")
    l3 = make_lead(email="cy@buyer.example", first_name="Cy", source="Show")
    l4 = make_lead(email="di@buyer.example", first_name="Di", source="Show")
    for lead, rep in ((l1, users.rep), (l2, users.rep), (l3, users.rep2), (l4, users.other_rep)):
        lead_assign(lead=lead, owner_user=rep, actor=system)
    # L1: a call 3 minutes in; the same buyer asks again at the trade show's stand.
    clock.advance(timedelta(minutes=3))
    l1 = _to_working(Lead.objects.get(pk=l1.pk), users.rep)
    touch_log(lead=l1, channel="call", outcome="connected", actor=Actor.of(users.rep))
    clock.advance(timedelta(minutes=87))
    # L4: first call 90 minutes after the inquiry.
    l4 = _to_working(Lead.objects.get(pk=l4.pk), users.other_rep)
    _calls(l4, users.other_rep, clock, 2, timedelta(hours=1))
    lead_dispose(lead=Lead.objects.get(pk=l4.pk), reason_code="lost_price", actor=system)
    make_lead(email="ann@buyer.example", first_name="Ann", source="Show")
    # L3: first call two days after the inquiry (Wednesday 09:00), then persistence.
    clock.advance(timedelta(hours=48) - timedelta(minutes=90) - timedelta(hours=2))
    l3 = _to_working(Lead.objects.get(pk=l3.pk), users.rep2)
    _calls(l3, users.rep2, clock, 6, timedelta(days=3))
    lead_dispose(lead=Lead.objects.get(pk=l3.pk), reason_code="lost_no_response", actor=system)
    check = OutcomeCheck.objects.get(lead=l3)
    cadence_services.outcome_check_record(
        check=check, answer="competitor", competitor="Acme", actor=Actor.of(users.marketer)
    )
    # L1: five more calls, an opportunity worth 10,000, won.
    _calls(Lead.objects.get(pk=l1.pk), users.rep, clock, 5, timedelta(hours=2))
    l1 = lead_transition(
        lead=Lead.objects.get(pk=l1.pk), to_stage="opportunity", actor=Actor.of(users.rep)
    )
    Lead.objects.filter(pk=l1.pk).update(opportunity_amount=Decimal("10000.00"))
    lead_dispose(lead=Lead.objects.get(pk=l1.pk), reason_code="won", actor=Actor.of(users.rep))
    web, show = Source.objects.get(name="Web"), Source.objects.get(name="Show")
    CostEntry.objects.create(
        source=web,
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 31),
        amount=Decimal("1000"),
        created_at=clock.at,
    )
    CostEntry.objects.create(
        source=show,
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 4, 30),
        amount=Decimal("3000"),
        created_at=clock.at,
    )
    rollup_sweep()
    return World(
        l1=Lead.objects.get(pk=l1.pk),
        l2=Lead.objects.get(pk=l2.pk),
        l3=Lead.objects.get(pk=l3.pk),
        l4=Lead.objects.get(pk=l4.pk),
        web=web,
        show=show,
    )
