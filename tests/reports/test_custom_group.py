"""Reports with rows by a custom field (by=field:<name>): each value a row, counted from the
per-lead facts with the same filters and visibility as the rollups, and totals that agree."""

from __future__ import annotations

import pytest
from django.test import Client

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.custom_field_services import custom_field_create, lead_custom_set

pytestmark = pytest.mark.django_db

PERIOD = {"from": "2026-01", "to": "2026-06"}


def api(token: str):
    client = Client()

    def get(path: str, params: dict | None = None):
        return client.get(
            f"/api/v1{path}",
            {**PERIOD, **(params or {})},
            headers={"Authorization": f"Bearer {token}"},
        )

    return get


@pytest.fixture
def banded(world):
    custom_field_create(
        name="segment", label="Segment", kind="choice", choices=["SMB", "Enterprise"],
        applies_to="person",
    )  # fmt: skip
    system = Actor.system("test")
    for lead, segment in ((world.l1, "Enterprise"), (world.l3, "Enterprise"), (world.l4, "SMB")):
        lead_custom_set(lead=lead, changes={"segment": segment}, actor=system)
    return world


def _rows(body: dict) -> dict[str, dict]:
    return {row["group"]: row for row in body["rows"]}


def test_the_funnel_by_a_custom_field_adds_up_to_the_funnel_by_source(banded, users, token_for):
    get = api(token_for(users.marketer, ["leads:read"]))
    by_field = get("/reports/funnel", {"by": "field:segment"})
    assert by_field.status_code == 200, by_field.content
    body = by_field.json()
    assert body["columns"][0]["label"] == "Segment"
    rows = _rows(body)
    assert set(rows) == {"Enterprise", "SMB", "(no value)"}
    assert (rows["Enterprise"]["leads"], rows["Enterprise"]["won"]) == (2, 1)
    assert (rows["SMB"]["leads"], rows["SMB"]["won"]) == (1, 0)
    assert rows["(no value)"]["leads"] == 1  # L2
    assert rows["Enterprise"]["inquiries"] == 3, "L1's repeat inquiry counts again"
    by_source = get("/reports/funnel").json()
    assert body["headlines"] == by_source["headlines"]

    reasons = _rows(get("/reports/dispositions", {"by": "field:segment"}).json())
    assert set(reasons) >= {"Enterprise", "SMB"}


def test_a_rep_counts_only_their_own_leads_by_a_custom_field(banded, users, token_for):
    rows = _rows(
        api(token_for(users.rep, ["leads:read"]))("/reports/funnel", {"by": "field:segment"}).json()
    )
    assert {k: v["leads"] for k, v in rows.items()} == {"Enterprise": 1, "(no value)": 1}


def test_grouping_by_an_unknown_field_or_where_it_cannot_be_is_refused(banded, users, token_for):
    get = api(token_for(users.marketer, ["leads:read"]))
    unknown = get("/reports/funnel", {"by": "field:weather"})
    assert unknown.status_code == 422
    assert "no custom field is named 'weather'" in unknown.json()["detail"][0]["msg"]
    roi = get("/reports/source-roi", {"by": "field:segment"})
    assert roi.status_code == 422
    listed = {r["slug"]: r["custom_by"] for r in get("/reports").json()}
    assert listed["funnel"] and not listed["source-roi"]


def test_the_report_page_offers_the_custom_fields_as_rows(banded, users):
    browser = Client()
    browser.force_login(users.manager)
    page = browser.get("/reports/funnel", {**PERIOD, "by": "field:segment"}).content.decode()
    assert 'value="field:segment" selected' in page, "the chosen field is the rows"
    assert "Enterprise" in page
