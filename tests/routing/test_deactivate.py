"""Deactivating a rep hands every open lead they own to someone else through the rules, each with
a trace that says why; leads no rule can place go to the unassigned queue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.domain import OPEN_STAGES
from leadrefinery.leads.models import Lead
from leadrefinery.leads.services import lead_assign, lead_dispose
from leadrefinery.routing.models import RoutingRule

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rule(**kw) -> RoutingRule:
    return RoutingRule.objects.create(created_at=T0, updated_at=T0, **kw)


def test_deactivating_a_rep_leaves_no_open_lead_with_them(users, make_lead, frozen_now):
    system = Actor.system("test")
    rule(
        name="US to East",
        order=10,
        conditions=[{"field": "country", "op": "equals", "value": "US"}],
        target_kind="team",
        target_team=users.rep.team,
    )
    rule(
        name="Widgets to Ron",
        order=5,
        conditions=[{"field": "product_interest", "op": "equals", "value": "widgets"}],
        target_kind="user",
        target_user=users.rep,
    )
    us = [
        lead_assign(lead=make_lead(country="US"), owner_user=users.rep, actor=system)
        for _ in range(3)
    ]
    german = lead_assign(lead=make_lead(country="DE"), owner_user=users.rep, actor=system)
    widgets = lead_assign(
        lead=make_lead(country="FR", product_interest="widgets"), owner_user=users.rep, actor=system
    )
    closed = lead_assign(lead=make_lead(country="US"), owner_user=users.rep, actor=system)
    lead_dispose(lead=closed, reason_code="dq_spam", actor=system)

    call_command("deactivate_rep", "ron", "--reason", "left the company")

    users.rep.refresh_from_db()
    assert users.rep.is_active is False
    assert not Lead.objects.filter(owner_user=users.rep, stage__in=list(OPEN_STAGES)).exists()
    assert Lead.objects.get(pk=closed.pk).owner_user == users.rep  # history stays as it was
    for lead in us:
        lead.refresh_from_db()
        assert lead.owner_user == users.rep2  # the only other rep of East
        trace = lead.events.filter(kind="assigned").latest("occurred_at", "id").data["trace"]
        assert trace["because"] == "ron was deactivated: left the company"
        assert {"name": "ron", "why": "inactive"} in trace["skipped"]
        assert trace["steps"][-1] == "team East by round robin: rita"
    german.refresh_from_db()
    assert german.owner_queue.slug == "unassigned"
    widgets.refresh_from_db()
    assert widgets.owner_queue.slug == "unassigned"  # Ron's own rule skips him, then the fallback
    widget_trace = widgets.events.filter(kind="assigned").latest("occurred_at", "id").data["trace"]
    assert any("its rep is unavailable" in step for step in widget_trace["steps"])
    call_command("checkleads")


def test_the_cli_explains_itself_and_refuses_unknown_users(users, capsys):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("deactivate_rep", "nobody")
    call_command("deactivate_rep", "walt")
    assert "walt is deactivated; 0 open lead(s) reassigned" in capsys.readouterr().out
