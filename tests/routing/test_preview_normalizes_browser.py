"""In Chromium: "test a lead" on the routing page reads its input the way intake does, so
"United States" previews to the same owner that a real inquiry from the United States gets."""

from __future__ import annotations

from datetime import UTC, datetime

from leadrefinery.routing.models import RoutingRule

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_preview_places_a_lead_where_intake_does(
    page, live_server, login, users, make_lead, frozen_now
):
    RoutingRule.objects.create(
        name="US to Walt",
        order=10,
        conditions=[{"field": "country", "op": "in", "value": ["US"]}],
        target_kind="user",
        target_user=users.other_rep,
        created_at=T0,
        updated_at=T0,
    )
    assert make_lead(country="United States").owner_user == users.other_rep

    login(users.manager)
    page.goto(f"{live_server.url}/routing/")
    page.fill("#preview input[name=country]", "  United   States ")
    page.click("#preview button[type=submit]")
    result = page.locator("#preview-result")
    result.wait_for()
    assert result.locator("h3").inner_text() == "Owner: walt"
    assert "read as US" in result.inner_text()

    page.fill("#preview input[name=country]", "Narnia")
    page.click("#preview button[type=submit]")
    page.locator("#preview-result").get_by_text("not recognised").wait_for()
