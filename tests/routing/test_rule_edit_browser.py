"""In Chromium: a manager opens a saved routing rule, sees its saved values, saves it unchanged,
and the rule still sends leads where it did."""

from __future__ import annotations

from datetime import UTC, datetime

from leadrefinery.routing.models import RoutingRule

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_editing_a_rule_shows_and_keeps_its_saved_values(page, live_server, login, users):
    rule = RoutingRule.objects.create(
        name="Germany to Walt",
        order=20,
        conditions=[{"field": "country", "op": "equals", "value": "DE"}],
        target_kind="user",
        target_user=users.other_rep,
        created_at=T0,
        updated_at=T0,
    )
    login(users.manager)
    page.goto(f"{live_server.url}/routing/{rule.pk}/")
    assert page.input_value("input[name=name]") == "Germany to Walt"
    assert page.input_value("input[name=order]") == "20"
    assert page.input_value("select[name=target_kind]") == "user"
    assert page.input_value("select[name=target_user]") == str(users.other_rep.pk)

    page.click("form.rule-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/routing/")
    rule.refresh_from_db()
    assert (rule.name, rule.order, rule.target_kind, rule.target_user_id) == (
        "Germany to Walt",
        20,
        "user",
        users.other_rep.pk,
    )


def test_the_fallback_rule_opens_with_its_queue(page, live_server, login, users):
    fallback = RoutingRule.objects.get(is_fallback=True)
    login(users.admin)
    page.goto(f"{live_server.url}/routing/{fallback.pk}/")
    assert page.input_value("input[name=name]") == fallback.name
    assert page.input_value("select[name=target_kind]") == "queue"
    assert page.input_value("select[name=target_queue]") == str(fallback.target_queue_id)
