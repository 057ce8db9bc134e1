"""In Chromium: an admin changes a rule's points and sees, before saving, how many open leads
the change would move; saving applies it."""

from __future__ import annotations

from leadrefinery.scoring.models import ScoringRule


def test_the_rule_editor_previews_live_then_saves(page, live_server, login, users, make_lead):
    for n in range(2):
        make_lead(title="Plant Director", company=f"Acme {n}")
    rule = ScoringRule.objects.get(name="Senior title: director")
    login(users.admin)

    page.goto(f"{live_server.url}/scoring/rules/{rule.pk}/")
    page.fill("input[name=points]", "90")
    page.locator("#scoring-preview").get_by_text("would move 2 of 2 open leads").wait_for()
    assert ScoringRule.objects.get(pk=rule.pk).points == 20

    page.click("#scoring-rule-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/scoring/rules/")
    assert ScoringRule.objects.get(pk=rule.pk).points == 90
