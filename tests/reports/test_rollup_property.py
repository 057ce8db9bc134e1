"""After any sequence of lead changes and sweeps, the rollups equal a recomputation from the
raw rows; and the rollups are kept by the lead-event registry, not by a scan."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrefinery.cadences import services as cadence_services
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead
from leadrefinery.leads.services import (
    lead_assign,
    lead_dispose,
    lead_recycle,
    lead_transition,
    touch_log,
)
from leadrefinery.reports import domain
from leadrefinery.reports.facts import facts_for
from leadrefinery.reports.models import Bucket, Cell, Credit, LeadFact
from leadrefinery.reports.queries import _KEYS
from leadrefinery.reports.rollup import rebuild, rollup_sweep

pytestmark = pytest.mark.django_db

SOURCES = ["Web", "Show", "Webinar"]
actions = st.lists(
    st.one_of(
        st.tuples(st.just("inquiry"), st.integers(0, 5), st.sampled_from(SOURCES)),
        st.tuples(st.just("assign"), st.integers(0, 5), st.integers(0, 2)),
        st.tuples(st.just("ready"), st.integers(0, 5)),
        st.tuples(st.just("accept"), st.integers(0, 5)),
        st.tuples(st.just("call"), st.integers(0, 5)),
        st.tuples(st.just("opportunity"), st.integers(0, 5), st.integers(0, 50000)),
        st.tuples(
            st.just("close"),
            st.integers(0, 5),
            st.sampled_from(["won", "lost_price", "lost_no_response", "dq_not_fit"]),
        ),
        st.tuples(st.just("recycle"), st.integers(0, 5)),
        st.tuples(st.just("wait"), st.integers(1, 24 * 20)),
        st.tuples(st.just("sweep")),
    ),
    min_size=1,
    max_size=30,
)


def rollup_tables() -> dict[tuple[Any, ...], dict[str, float]]:
    out: dict[tuple[Any, ...], dict[str, float]] = {}
    for kind, (model, keys) in _KEYS.items():
        counters = [
            f.name for f in model._meta.concrete_fields if not f.primary_key and f.name not in keys
        ]
        for row in model.objects.values(*keys, *counters):
            cols = {c: row[c] for c in counters if abs(row[c]) > 1e-6}
            if cols:
                out[(kind, *(row[k] for k in keys))] = cols
    return out


def recomputed() -> dict[tuple[Any, ...], dict[str, float]]:
    facts = facts_for(list(Lead.objects.values_list("pk", flat=True)))
    total = domain.grained(domain.total(domain.contributions(f) for f in facts.values()))
    return {
        k: {c: v for c, v in cols.items() if abs(v) > 1e-6}
        for k, cols in total.items()
        if any(abs(v) > 1e-6 for v in cols.values())
    }


def same(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    return all(
        a[k].keys() == b[k].keys() and all(abs(a[k][c] - b[k][c]) < 1e-4 for c in a[k]) for k in a
    )


@settings(max_examples=25, deadline=None)
@given(steps=actions)
def test_rollups_equal_a_recomputation_after_any_changes(steps, users, make_lead, frozen_now):
    reps = [users.rep, users.rep2, users.other_rep]
    system = Actor.system("test")
    emails = [f"p{i}-{frozen_now.at.timestamp()}@example.com" for i in range(6)]
    for step in steps:
        kind = step[0]
        with contextlib.suppress(ServiceError, Lead.DoesNotExist):
            if kind == "inquiry":
                make_lead(email=emails[step[1]], source=step[2])
            elif kind == "wait":
                frozen_now.advance(timedelta(hours=step[1]))
            elif kind == "sweep":
                rollup_sweep()
            else:
                lead = Lead.objects.filter(person__email=emails[step[1]]).latest("pk")
                if kind == "assign":
                    lead_assign(lead=lead, owner_user=reps[step[2]], actor=system)
                elif kind == "ready":
                    lead_transition(lead=lead, to_stage="sales_ready", actor=system)
                elif kind == "accept" and lead.owner_user:
                    cadence_services.lead_accept(lead=lead, actor=Actor.of(lead.owner_user))
                elif kind == "call":
                    touch_log(lead=lead, channel="call", actor=Actor.of(reps[0]))
                elif kind == "opportunity":
                    Lead.objects.filter(pk=lead.pk).update(opportunity_amount=Decimal(step[2]))
                    lead_transition(lead=lead, to_stage="opportunity", actor=system)
                elif kind == "close":
                    lead_dispose(lead=lead, reason_code=step[2], actor=system)
                elif kind == "recycle":
                    lead_recycle(lead=lead, reason_code="recycle_not_ready", actor=system)
    rollup_sweep()
    assert same(rollup_tables(), recomputed())
    assert not LeadFact.objects.filter(due_at__isnull=False).exists()


def test_rebuild_gives_what_the_sweeps_kept(users, make_lead, frozen_now):
    for i in range(5):
        lead = make_lead(source=SOURCES[i % 3])
        lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
        touch_log(lead=lead, channel="call", actor=Actor.of(users.rep))
    rollup_sweep()
    kept = rollup_tables()
    assert kept
    rebuild()
    assert same(rollup_tables(), kept)


def test_a_change_reaches_the_rollups_through_the_registry(users, make_lead, frozen_now):
    lead = make_lead(source="Web")
    rollup_sweep()
    full = Cell.objects.filter(grain="f")
    assert full.get().leads == 1 and full.get().user_id == 0
    lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    assert LeadFact.objects.get(lead=lead).due_at is not None  # marked by the subscriber
    assert rollup_sweep() == 1  # only the due lead is read again
    assert full.filter(leads=1).get().user_id == users.rep.pk
    assert rollup_sweep() == 0
    touch_log(lead=lead, channel="call", actor=Actor.of(users.rep))
    rollup_sweep()
    assert Bucket.objects.filter(kind="speed", grain="f").count() == 1
    assert Credit.objects.filter(model="linear", leads=1, grain="f").get().user_id == users.rep.pk


def test_a_new_inquiry_makes_the_persons_other_leads_due(make_lead, frozen_now):
    """Attribution follows all of a person's touches: another inquiry from the person (here a
    new lead for another product line) makes their older lead due, and nobody else's."""
    first = make_lead(email="ann@example.com", product_interest="Widgets")
    other = make_lead(email="bob@example.com")
    rollup_sweep()
    assert not LeadFact.objects.filter(due_at__isnull=False).exists()
    frozen_now.advance(timedelta(hours=1))
    second = make_lead(email="ann@example.com", product_interest="Gadgets")
    assert second.person_id == first.person_id and second.pk != first.pk
    due = set(LeadFact.objects.filter(due_at__isnull=False).values_list("lead_id", flat=True))
    assert first.pk in due and other.pk not in due
    rollup_sweep()
    assert not LeadFact.objects.filter(due_at__isnull=False).exists()
