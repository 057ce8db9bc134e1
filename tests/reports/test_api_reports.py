"""GET /api/v1/reports/{slug}: the page's report as JSON for the token's user. Its rows are the
CSV's rows (as text), filters that cannot be read answer 422 naming each parameter, an unknown
report 404, and a rep's token counts only the rep's leads."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from leadrefinery.reports import domain
from leadrefinery.reports.catalog import REPORTS

pytestmark = pytest.mark.django_db


def api(token: str | None):
    client = Client()
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(path: str, params: dict | None = None):
        return client.get(f"/api/v1{path}", params or {}, headers=headers)

    return get


def test_every_report_answers_the_rows_its_csv_holds(world, users, token_for):
    get = api(token_for(users.marketer, ["leads:read"]))
    browser = Client()
    browser.force_login(users.marketer)
    params = {"from": "2026-01", "to": "2026-06"}
    for slug, spec in REPORTS.items():
        response = get(f"/reports/{slug}", params)

        assert response.status_code == 200, (slug, response.content[:300])
        body = response.json()
        assert body["report"] == slug and body["title"] == spec.title
        assert body["filters"] == {"from": "2026-01", "to": "2026-06", "by": spec.default_by}
        assert body["definition"] and body["chart"]["datasets"] is not None
        keys = [c["key"] for c in body["columns"]]
        as_text = [[c["label"] for c in body["columns"]]] + [
            [domain.cell_text(row[k]) for k in keys] for row in body["rows"]
        ]
        page_csv = browser.get(f"/reports/{slug}.csv", params).content.decode()
        assert list(csv.reader(io.StringIO(page_csv))) == as_text, slug
        # The page's own JSON link answers the same document.
        assert browser.get(f"/reports/{slug}.json", params).json() == body


def test_the_filters_narrow_the_report_and_are_echoed(world, users, token_for):
    get = api(token_for(users.admin))
    body = get(
        "/reports/source-roi", {"source": world.show.pk, "model": "first", "by": "campaign"}
    ).json()

    assert body["filters"]["source"] == str(world.show.pk)
    assert body["filters"]["model"] == "first" and body["filters"]["by"] == "campaign"
    cost = body["headlines"][0]
    # Show's 3,000 over March and April, of which March's 31 of 61 days fall in the period.
    assert (cost["label"], cost["value"], cost["kind"]) == ("Cost (USD)", 1525, "money")
    assert [r["group"] for r in body["rows"]] == ["(no campaign)"]


def test_a_rep_token_counts_only_the_reps_leads(world, users, token_for):
    rep = api(token_for(users.rep, ["leads:read"]))
    manager = api(token_for(users.manager, ["leads:read"]))

    assert [r["group"] for r in rep("/reports/reps").json()["rows"]] == ["Ron Rep"]
    groups = sorted(r["group"] for r in manager("/reports/reps").json()["rows"])
    assert groups == ["Rita Rep", "Ron Rep"]


@pytest.mark.parametrize(
    "params, fields",
    [
        ({"from": "2026-05", "to": "2026-01"}, ["from"]),
        ({"from": "2026-13"}, ["from"]),
        ({"to": "March"}, ["to"]),
        ({"to": ""}, ["to"]),
        ({"by": "weather"}, ["by"]),
        ({"by": "rep"}, ["by"]),  # source-roi groups by source or campaign only
        ({"source": "abc", "rep": "0"}, ["source", "rep"]),
        ({"model": "magic"}, ["model"]),
        ({"sorce": "1"}, ["sorce"]),
    ],
)
def test_filters_that_cannot_be_read_answer_422_naming_them(
    world, users, token_for, params, fields
):
    response = api(token_for(users.manager))("/reports/source-roi", params)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert sorted({d["loc"][-1] for d in detail}) == sorted(fields)
    assert all(d["loc"][0] == "query" and d["msg"] for d in detail)
    if "sorce" in fields:
        assert "did you mean 'source'" in detail[0]["msg"]


def test_an_unknown_report_is_404_and_a_token_is_required(world, users, token_for):
    assert api(token_for(users.manager))("/reports/weather").status_code == 404
    assert api(None)("/reports/funnel").status_code == 401
    no_scope = api(token_for(users.manager, ["inquiries:write"]))
    assert no_scope("/reports/funnel").status_code == 403


def test_the_list_of_reports(users, token_for):
    body = api(token_for(users.rep))("/reports").json()

    assert [r["slug"] for r in body] == list(REPORTS)
    roi = next(r for r in body if r["slug"] == "source-roi")
    assert roi["bys"] == ["source", "campaign"] and roi["default_by"] == "source"


def test_the_report_operations_are_in_the_openapi_document(db):
    document = Client().get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/reports/{slug}"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}

    assert params["slug"]["schema"]["enum"] == list(REPORTS)
    assert set(params) == {
        "slug", "from", "to", "source", "campaign", "team", "rep", "product", "by", "model",
    }  # fmt: skip
    assert params["from"]["schema"]["pattern"].endswith("-(0[1-9]|1[0-2])$")
    assert {"200", "401", "403", "404", "422"} <= set(operation["responses"])
    assert "/api/v1/costs/{cost_id}/void" in document["paths"]
