"""No dead queues: a queue nobody works cannot be a routing target, is called out on the
routing page and the manager's home as soon as it loses its last member, and a manager sees
the leads of their teams' queues."""

from __future__ import annotations

import pytest
from django.test import Client

from leadrefinery.common.errors import ConfigRefused
from leadrefinery.leads.access import visible_to
from leadrefinery.leads.models import Queue
from leadrefinery.leads.selectors import queue_by_slug
from leadrefinery.routing.models import RoutingRule
from leadrefinery.routing.services import routing_rule_save

pytestmark = pytest.mark.django_db


def test_a_queue_without_an_active_member_is_refused_as_a_routing_target(users, frozen_now):
    empty = Queue.objects.create(slug="night-desk", name="Night desk", team=users.rep.team)
    with pytest.raises(ConfigRefused) as refused:
        routing_rule_save(
            changes={
                "name": "Nights",
                "order": 5,
                "conditions": [{"field": "country", "op": "equals", "value": "JP"}],
                "target_kind": "queue",
                "target_queue": empty,
            }
        )
    assert "no active member" in refused.value.errors["target_queue"][0]
    empty.members.add(users.rep)
    rule = routing_rule_save(
        changes={
            "name": "Nights",
            "order": 5,
            "conditions": [{"field": "country", "op": "equals", "value": "JP"}],
            "target_kind": "queue",
            "target_queue": empty,
        }
    )
    assert RoutingRule.objects.filter(pk=rule.pk, active=True).exists()


def test_losing_the_last_member_shows_at_once_on_the_routing_page_and_the_home(
    users, make_lead, frozen_now
):
    unassigned = queue_by_slug("unassigned")
    unassigned.team = users.rep.team
    unassigned.save()
    unassigned.members.add(users.rep)
    lead = make_lead()
    manager = Client()
    manager.force_login(users.manager)
    assert lead in visible_to(users.manager)  # a manager sees their team queue's leads
    assert "Nobody active works this queue" not in manager.get("/routing/").content.decode()

    unassigned.members.remove(users.rep)
    routing = manager.get("/routing/").content.decode()
    assert "Nobody active works this queue" in routing
    home = manager.get("/review/").content.decode()
    assert "Queues nobody works" in home and "Unassigned (1 open lead)" in home


def test_the_lead_list_filters_and_sorts_by_flag(users, make_lead, frozen_now):
    from datetime import timedelta

    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.services import lead_assign, lead_set_next_action
    from leadrefinery.review.sweep import hygiene_sweep

    fine, late = make_lead(first_name="Fine"), make_lead(first_name="Late")
    for lead in (fine, late):
        lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    lead_set_next_action(
        lead=fine,
        action="Call",
        due_at=frozen_now.at + timedelta(days=9),
        actor=Actor.of(users.rep),
    )
    frozen_now.advance(timedelta(days=2))
    hygiene_sweep()
    client = Client()
    client.force_login(users.rep)
    flagged = client.get("/leads/?flag=overdue").content.decode()
    assert "Late" in flagged and "Fine Buyer" not in flagged
    assert flagged.count('class="badge-overdue-flag"') == 1  # the late row says so
    every = client.get("/leads/?sort=flagged").content.decode()
    assert every.index("Late") < every.index("Fine")
