"""In Chromium, with a real `refinery worker` (a subprocess on the test database, the code path
production runs): a marketer uploads a Salesforce lead export, maps one column to a custom
field of the company's own, runs a dry run and reads its counts, imports while the progress
bar moves, downloads the rejected rows with their reasons, and undoes the import after
confirming: the open leads are back to what they were. The page shows no console error and
does not scroll sideways at phone width."""

from __future__ import annotations

import csv
import io
import os
import signal
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from leadrefinery.leads import domain
from leadrefinery.leads.custom_field_services import custom_field_create
from leadrefinery.leads.models import Lead
from tests.intake.test_import_page import salesforce_csv
from tests.intake.worker_proc import start_worker, stop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROWS = 3000
BAD_EVERY = 25  # every 25th row has a broken email: 120 rejected
SHOTS = os.environ.get("REFINERY_SCREENSHOT_DIR")


def _open_leads() -> int:
    return Lead.objects.filter(stage__in=list(domain.OPEN_STAGES)).count()


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px)"


@pytest.fixture
def worker(tmp_path):
    log = (tmp_path / "worker.log").open("wb")
    proc = start_worker(log)
    yield proc
    stop(proc, signal.SIGTERM)
    log.close()


def test_a_marketer_imports_a_salesforce_export_and_undoes_it(
    page, live_server, login, users, make_lead, settings, tmp_path, worker
):
    settings.REFINERY_HOME = tmp_path
    custom_field_create(name="sf_rating", label="Salesforce rating", kind="text")
    for company in ("Acme", "Birch Labs"):
        make_lead(company=company)
    open_before = _open_leads()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    export = tmp_path / "Salesforce leads.csv"
    export.write_bytes(salesforce_csv(ROWS, bad_every=BAD_EVERY))
    base = live_server.url

    login(users.marketer)
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import leads")).to_be_visible()
    _shot(page, "import-home-1280")
    page.set_input_files("#id_file", str(export))
    page.get_by_label("Source").fill("Expo Berlin 2026")
    page.get_by_role("button", name="Upload and check the columns").click()

    expect(page.get_by_role("heading", name="Check the columns")).to_contain_text(export.name)
    expect(page.locator("hgroup p")).to_contain_text(f"{ROWS} rows · comma separated")
    email = page.get_by_label("Email", exact=True)
    expect(email).to_have_value("email")
    rating = page.get_by_label("Rating", exact=True)
    expect(rating).to_have_value("")  # no field is named like it: kept in the raw record only
    rating.select_option("custom:sf_rating")
    _shot(page, "import-columns-1280")
    page.get_by_role("button", name="Dry run: show what would happen").click()

    result = page.locator("#import-result")
    expect(result).to_contain_text("What the import would do", timeout=120_000)
    rejected = ROWS // BAD_EVERY
    expect(page.locator('[data-count="new_leads"]')).to_have_text(str(ROWS - rejected))
    expect(page.locator('[data-count="rejected"]')).to_have_text(str(rejected))
    expect(page.locator("#sample-rejected")).to_contain_text("not-an-email")
    assert _open_leads() == open_before, "the dry run wrote nothing"
    _shot(page, "import-dry-run-1280")

    page.get_by_role("button", name=f"Import these {ROWS} rows now").click()
    seen: list[tuple[str, float, float]] = []
    deadline = time.monotonic() + 240
    while not page.locator("#import-result").is_visible():
        assert time.monotonic() < deadline, "the import did not finish"
        bar = page.locator("#import-bar")
        try:
            state = (
                bar.evaluate("b => [b.dataset.phase || '', b.value, b.max]")
                if bar.count()
                else None
            )
        except PlaywrightError:  # the page went on to the result between the two calls
            continue
        if state is not None:
            seen.append((state[0], float(state[1]), float(state[2])))
            if 0 < state[1] < state[2] and len(seen) % 5 == 1:
                _shot(page, "import-progress-1280")
        time.sleep(0.05)
    moving = [(phase, v) for phase, v, top in seen if phase and 0 < v < top]
    assert moving, f"the progress bar was never seen between 0 and done: {seen[:20]}"
    expect(page.locator('[data-count="imported"]')).to_have_text(str(ROWS - rejected))
    expect(page.locator('[data-count="rejected"]')).to_have_text(str(rejected))
    assert _open_leads() == open_before + ROWS - rejected
    lead = Lead.objects.get(person__email="bruno.lindqvist1@firm1.example")
    assert lead.custom["sf_rating"] == "Hot"
    _shot(page, "import-done-1280")

    with page.expect_download() as download:
        page.locator("#download-rejected").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert rows[0][:4] == ["row", "column", "error", "First Name"]
    assert len(rows) == 1 + rejected
    assert {r[1] for r in rows[1:]} == {"Email"} and all(r[2] for r in rows[1:])
    assert [r[0] for r in rows[1:4]] == ["26", "51", "76"]
    assert {r[7] for r in rows[1:]} == {"not-an-email"}

    page.get_by_role("button", name="Undo this import…").click()
    expect(page.get_by_role("heading")).to_contain_text("Undo the import of")
    page.get_by_role("button", name="Yes, undo this import").click()
    expect(page.locator("#undo-report")).to_contain_text(f"{ROWS - rejected} leads disqualified")
    assert _open_leads() == open_before

    page.get_by_role("link", name="← Import leads").click()
    expect(page.locator(".import-batches")).to_contain_text("Undone")
    expect(page.locator(".import-batches")).to_contain_text("Expo Berlin 2026")
    expect(page.locator(".import-batches")).to_contain_text(export.name)
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/import/", page.locator(".import-batches a").first.get_attribute("href")):
        page.goto(f"{base}{path}")
        _no_sideways_scroll(page)
        _shot(page, f"import-{'home' if path == '/import/' else 'result'}-390")
    assert not problems, problems


def test_the_columns_page_fits_a_phone(page, live_server, login, users, settings, tmp_path):
    settings.REFINERY_HOME = tmp_path
    export = tmp_path / "expo.csv"
    export.write_bytes(salesforce_csv(8))
    page.set_viewport_size({"width": 390, "height": 844})
    login(users.marketer)
    page.goto(f"{live_server.url}/import/")
    _no_sideways_scroll(page)
    page.set_input_files("#id_file", str(export))
    page.get_by_role("button", name="Upload and check the columns").click()
    expect(page.get_by_role("heading", name="Check the columns")).to_be_visible()
    _shot(page, "import-columns-390")
    # The table of columns may scroll inside its own box; the page itself does not.
    _no_sideways_scroll(page)
    page.goto(f"{live_server.url}/import/")
    assert page.locator("#id_file").get_attribute("accept") == ".csv,.txt,.tsv,.xlsx"
