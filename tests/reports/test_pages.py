"""The report pages as people use them: every report opens for a manager and a marketer with
data, its CSV holds exactly the table's text, a rep and a manager see only what they may
count, filters that cannot be read are named next to the form (400), and the dashboard shows
every report's figures in a bounded number of queries."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import lead_assign
from leadrefinery.reports.catalog import REPORTS
from leadrefinery.reports.rollup import rollup_sweep

pytestmark = pytest.mark.django_db


class TableText(HTMLParser):
    """The text of each cell of the report's table (header row first), as a reader sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_table = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and "report-table" in classes:
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif self._in_table and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_of(html: str) -> list[list[str]]:
    parser = TableText()
    parser.feed(html)
    return parser.rows


def csv_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["manager", "marketer"])
def test_every_report_opens_with_its_figures_chart_and_definition(world, users, role):
    client = as_user(getattr(users, role))
    for slug, spec in REPORTS.items():
        page = client.get(f"/reports/{slug}")

        assert page.status_code == 200, slug
        html = page.content.decode()
        assert f"<h1>{spec.title}</h1>" in html
        assert "How this is counted" in html
        assert 'id="report-chart"' in html and "reports/charts.js" in html
        assert 'class="headline"' in html
        assert f"/reports/{slug}.csv?" in html and f"/reports/{slug}.json?" in html
        assert len(table_of(html)) > 1, f"{slug}: the table has data rows"


def test_the_csv_of_every_report_is_exactly_the_text_of_its_table(world, users):
    client = as_user(users.admin)
    query = "from=2026-01&to=2026-06"
    for slug in REPORTS:
        html = client.get(f"/reports/{slug}?{query}").content.decode()
        response = client.get(f"/reports/{slug}.csv?{query}")

        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == (
            f'attachment; filename="{slug}-2026-01-2026-06.csv"'
        )
        assert csv_of(response) == table_of(html), slug
        assert len(table_of(html)) > 1, slug


def test_the_page_links_carry_its_filters(world, users):
    client = as_user(users.marketer)
    html = client.get(
        f"/reports/source-roi?from=2026-02&to=2026-04&source={world.web.pk}&model=first"
    ).content.decode()

    query = f"from=2026-02&amp;to=2026-04&amp;by=source&amp;source={world.web.pk}&amp;model=first"
    assert f"/reports/source-roi.csv?{query}" in html
    assert f"/reports/source-roi.json?{query}" in html
    rows = table_of(html)
    assert [r[0] for r in rows[1:]] == ["Web"]


def test_text_a_spreadsheet_would_run_is_defused_in_the_table_and_the_csv(world, users, make_lead):
    lead = make_lead(email="eve@buyer.example", source="=HYPERLINK(1)")
    lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    rollup_sweep()
    client = as_user(users.admin)
    html = client.get("/reports/funnel").content.decode()
    lines = csv_of(client.get("/reports/funnel.csv"))

    groups = [row[0] for row in table_of(html)[1:]]
    assert "'=HYPERLINK(1)" in groups
    assert [row[0] for row in lines[1:]] == groups


def test_numbers_are_right_aligned_and_text_is_not(world, users):
    html = as_user(users.manager).get("/reports/funnel").content.decode()

    assert '<th scope="col">Source</th>' in html
    assert '<th scope="col" class="num">Inquiries</th>' in html
    assert '<td class="num">' in html


def rep_names(client: Client) -> list[str]:
    return [row[0] for row in table_of(client.get("/reports/reps").content.decode())[1:]]


def test_a_rep_sees_only_their_own_figures(world, users):
    client = as_user(users.rep)

    assert rep_names(client) == ["Ron Rep"]
    funnel = table_of(client.get("/reports/funnel?by=rep").content.decode())
    assert [row[:3] for row in funnel[1:]] == [["Ron Rep", "3", "2"]]
    # The form offers a rep only themselves.
    html = client.get("/reports/funnel").content.decode()
    assert ">Ron Rep</option>" in html and ">Walt West</option>" not in html


def test_a_manager_sees_their_teams_and_a_marketer_everyone(world, users):
    assert sorted(rep_names(as_user(users.manager))) == ["Rita Rep", "Ron Rep"]
    assert sorted(rep_names(as_user(users.marketer))) == ["Rita Rep", "Ron Rep", "Walt West"]


def test_a_manager_cannot_widen_the_rows_with_a_filter(world, users):
    html = as_user(users.manager).get(f"/reports/reps?rep={users.other_rep.pk}").content.decode()

    assert table_of(html)[1:] == [["No leads for these filters."]]


@pytest.mark.parametrize(
    "query, fields",
    [
        ("from=2026-13", ["from"]),
        ("from=2026-05&to=2026-01", ["from"]),
        ("to=March", ["to"]),
        ("by=weather", ["by"]),
        ("source=abc&rep=-1", ["source", "rep"]),
        ("model=magic", ["model"]),
    ],
)
def test_filters_that_cannot_be_read_are_named_next_to_the_form(world, users, query, fields):
    client = as_user(users.manager)
    page = client.get(f"/reports/source-roi?{query}")

    assert page.status_code == 400
    html = page.content.decode()
    assert "Some filters cannot be read" in html
    for field in fields:
        assert f'id="filter-{field}-errors"' in html
        assert f'id="filter-{field}" name="{field}"' in html
    assert 'class="report-table' not in html
    csv_response = client.get(f"/reports/source-roi.csv?{query}")
    assert csv_response.status_code == 400
    for field in fields:
        assert f"{field}: " in csv_response.content.decode()


def test_by_offers_only_what_the_report_can_group_by(world, users):
    client = as_user(users.manager)

    html = client.get("/reports/source-roi").content.decode()
    assert '<option value="campaign"' in html and '<option value="rep"' not in html
    assert client.get("/reports/source-roi?by=rep").status_code == 400
    assert client.get("/reports/funnel?by=rep").status_code == 200
    assert 'name="model"' not in client.get("/reports/funnel").content.decode()


def test_an_unknown_report_is_not_found_and_strangers_log_in_first(world, users):
    assert as_user(users.manager).get("/reports/weather").status_code == 404
    assert as_user(users.manager).get("/reports/weather.csv").status_code == 404
    response = Client().get("/reports/funnel")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Client().get("/dashboard").status_code == 302


def test_changes_not_yet_counted_are_announced(world, users, make_lead):
    client = as_user(users.manager)
    assert "still being counted" not in client.get("/reports/funnel").content.decode()

    make_lead(email="new@buyer.example")
    html = client.get("/reports/funnel").content.decode()
    assert "1 recent change is still being counted (the figures catch up within a minute)" in html
    rollup_sweep()
    assert "still being counted" not in client.get("/reports/funnel").content.decode()


def test_the_index_lists_every_report_and_the_menu_leads_to_the_dashboard(world, users):
    client = as_user(users.rep)
    html = client.get("/reports/").content.decode()

    for spec in REPORTS.values():
        assert f'href="/reports/{spec.slug}"' in html and spec.summary in html
    assert "/reports/costs" not in html  # costs are the marketers' and admins'
    assert (
        '<a href="/dashboard" aria-current="page">Reports</a>'
        in client.get("/dashboard").content.decode()
    )
    assert "/reports/costs" in as_user(users.marketer).get("/reports/").content.decode()


def test_the_dashboard_shows_every_report_for_the_period_with_links(world, users):
    client = as_user(users.manager)
    html = client.get("/dashboard?from=2026-01&to=2026-06").content.decode()

    assert "Jan 2026 to Jun 2026" in html
    for spec in REPORTS.values():
        assert f'href="/reports/{spec.slug}?from=2026-01&amp;to=2026-06"' in html
        assert spec.title in html
    # Figures are formatted for people: percentages, money, minutes.
    assert "33.3%" in html  # one of three leads followed up within a day (Ron's, Rita's)
    assert "3 min" in html  # Ron's first call, the team's median
    assert "4,000 USD" in html  # the costs of Web (March) and Show (March and April)


def test_the_dashboard_keeps_each_reports_default_period_unless_one_is_chosen(world, users):
    html = as_user(users.marketer).get("/dashboard").content.decode()

    assert "Apr 2025 to Mar 2026" in html  # the last 12 months
    assert "Apr 2024 to Mar 2026" in html  # the Rule of 45's card: its answers come a year on
    assert 'href="/reports/rule-of-45"' in html


def test_the_dashboard_refuses_a_period_it_cannot_read(world, users):
    page = as_user(users.manager).get("/dashboard?from=2026-99")

    assert page.status_code == 400
    assert 'id="filter-from-errors"' in page.content.decode()


def _leads(make_lead, users, n: int, start: int) -> None:
    system = Actor.system("test")
    owners = [users.rep, users.rep2, users.other_rep]
    for i in range(start, start + n):
        lead = make_lead(email=f"grow{i}@buyer.example", source=("Web", "Show", "Fair")[i % 3])
        lead_assign(lead=lead, owner_user=owners[i % 3], actor=system)
    rollup_sweep()


@pytest.mark.parametrize("role", ["manager", "marketer", "rep"])
def test_the_dashboard_reads_a_bounded_number_of_queries_as_leads_grow(users, make_lead, role):
    client = as_user(getattr(users, role))
    _leads(make_lead, users, 3, 0)
    client.get("/dashboard")  # warm: the session, the configuration cache
    with CaptureQueriesContext(connection) as few:
        assert client.get("/dashboard").status_code == 200
    _leads(make_lead, users, 12, 3)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/dashboard").status_code == 200

    assert len(many) == len(few)
    print(f"{role}: {len(many)} queries")
    # Eight reports from the rollups; a manager's visibility reads their teams per query.
    assert len(many) <= 50, [q["sql"][:120] for q in many.captured_queries]
