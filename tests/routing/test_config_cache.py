"""Intake caches its configuration per process; a change anywhere is used by the next inquiry.

The cache is checked against a token in the database (common/config.py): a change saved in
this process, a change written by another process, and a change that was rolled back must all
be reflected by the very next routing decision.
"""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from leadrefinery.common import config
from leadrefinery.common.clock import frozen
from leadrefinery.leads.models import Lead
from leadrefinery.routing.models import RoutingRule

MONDAY_10AM = datetime(2026, 3, 2, 10, tzinfo=UTC)


def user_rule(user, *, name: str, order: int = 10) -> RoutingRule:
    return RoutingRule.objects.create(
        name=name,
        order=order,
        conditions=[{"field": "country", "op": "equals", "value": "US"}],
        target_kind="user",
        target_user=user,
        created_at=MONDAY_10AM,
        updated_at=MONDAY_10AM,
    )


def owner_of(record) -> str:
    return Lead.objects.get(pk=record.lead_id).owner_label


@pytest.mark.django_db
def test_a_rule_saved_after_intake_warmed_the_cache_routes_the_next_inquiry(users, make_lead):
    with frozen(MONDAY_10AM):
        assert make_lead(country="US").owner_label == "Queue: Unassigned"
        rule = user_rule(users.rep, name="US to Ron")
        assert make_lead(country="US").owner_user == users.rep
        rule.target_user = users.rep2
        rule.save()
        assert make_lead(country="US").owner_user == users.rep2


@pytest.mark.django_db
def test_a_deactivated_rep_is_never_chosen_from_a_warm_cache(users, make_lead):
    from leadrefinery.leads.actors import Actor
    from leadrefinery.routing.services import rep_deactivate

    user_rule(users.rep, name="US to Ron")
    user_rule(users.rep2, name="US to Rita", order=20)
    with frozen(MONDAY_10AM):
        assert make_lead(country="US").owner_user == users.rep
        rep_deactivate(user=users.rep, actor=Actor.of(users.admin), reason="left")
        lead = make_lead(country="US")
    assert lead.owner_user == users.rep2
    assert "inactive" in str(lead.events.get(kind="assigned").data["trace"])


@pytest.mark.django_db(transaction=True)
def test_a_change_written_by_another_process_is_seen_by_the_next_inquiry(users, make_lead):
    rule = user_rule(users.rep, name="US to Ron")
    with frozen(MONDAY_10AM):
        assert make_lead(country="US").owner_user == users.rep
        # Another process edits the rule and replaces the token; this process sends no signal.
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE routing_routingrule SET target_user_id = %s WHERE id = %s",
                [users.rep2.pk, rule.pk],
            )
            cur.execute("UPDATE common_configversion SET token = 'from-another-process'")
        assert make_lead(country="US").owner_user == users.rep2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_rule_does_not_linger_in_the_cache(users, make_lead):
    with frozen(MONDAY_10AM):
        assert make_lead(country="US").owner_label == "Queue: Unassigned"

        class Abandon(Exception):
            pass

        with pytest.raises(Abandon), transaction.atomic():
            user_rule(users.rep, name="US to Ron")
            assert make_lead(country="US").owner_user == users.rep  # cached inside the change
            raise Abandon
        assert not RoutingRule.objects.filter(name="US to Ron").exists()
        assert make_lead(country="US").owner_label == "Queue: Unassigned"


@pytest.mark.django_db
def test_one_inquiry_reads_the_token_once_and_no_configuration_when_warm(users, make_lead):
    from django.test.utils import CaptureQueriesContext

    user_rule(users.rep, name="US to Ron")
    with frozen(MONDAY_10AM):
        make_lead(country="US")  # warms the cache
        with CaptureQueriesContext(connection) as ctx:
            make_lead(country="US")
    sql = [q["sql"] for q in ctx.captured_queries]
    assert sum("common_configversion" in s for s in sql) == 1
    for table in ("routing_routingrule", "sla_slapolicy", "leads_queue", "sla_holiday"):
        assert not any(f'FROM "{table}"' in s for s in sql), table
    assert config.current_token()
