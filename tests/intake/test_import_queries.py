"""The import's database work grows with the number of chunks, not the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadrefinery.common import config
from leadrefinery.intake.importing import import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, Source

pytestmark = pytest.mark.django_db


def _queries_for(tmp_path, rows: int, tag: str, area: int) -> tuple[int, int]:
    """(INSERT statements, other statements) of importing ``rows`` rows in one chunk."""
    lines = ["Email,Company,Phone"]
    lines += [
        f"{tag}{i}@example.org,{tag} Company {i},+1 {area} 555 01{i:02d}" for i in range(rows)
    ]
    lines.append("broken@,Nobody,")  # one rejected row in each file
    path = tmp_path / f"{tag}.csv"
    path.write_text("\n".join(lines) + "\n")
    config.clear()  # both imports start with nothing cached, as a fresh process would
    with CaptureQueriesContext(connection) as ctx:
        report = import_csv(path, source_name="Expo", actor=Actor.system("import"), chunk_size=1000)
    assert (report.new_leads, report.rejected) == (rows, 1)
    inserts = sum(1 for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("INSERT"))
    return inserts, len(ctx.captured_queries) - inserts


def test_ten_rows_and_eighty_rows_in_one_chunk_cost_the_same_queries(tmp_path):
    Source.objects.create(name="Expo")
    small_inserts, small_other = _queries_for(tmp_path, 10, "a", 212)
    large_inserts, large_other = _queries_for(tmp_path, 80, "b", 415)
    assert large_other == small_other
    # Inserts are batched (SQLite caps the parameters of one statement, so a few more batches).
    assert small_inserts <= large_inserts <= small_inserts + 10
    assert Lead.objects.count() == 90


def _again_for(tmp_path, rows: int, tag: str) -> int:
    """Statements of importing again ``rows`` people stored with their accounts, each with
    an inquiry for another product line (a new lead of a stored person)."""
    lines = ["Email,Company,Product Interest"]
    lines += [f"{tag}{i}@example.org,{tag} Works {i},Widgets" for i in range(rows)]
    first = tmp_path / f"{tag}-first.csv"
    first.write_text("\n".join(lines) + "\n")
    import_csv(first, source_name="Expo", actor=Actor.system("import"), chunk_size=1000)
    again = tmp_path / f"{tag}-again.csv"
    again.write_text("\n".join(lines).replace(",Widgets", ",Gadgets") + "\n")
    config.clear()
    with CaptureQueriesContext(connection) as ctx:
        report = import_csv(
            again, source_name="Expo", actor=Actor.system("import"), chunk_size=1000
        )
    assert (report.new_leads, report.people_attached) == (rows, rows)
    return len(ctx.captured_queries)


def test_new_leads_of_stored_people_read_their_accounts_once_per_chunk(tmp_path):
    """Routing reads the person's account: for people already stored, all of them in one
    query, not one query per person."""
    Source.objects.create(name="Expo")
    small, large = _again_for(tmp_path, 10, "c"), _again_for(tmp_path, 80, "d")
    assert Lead.objects.filter(account__isnull=False, product_interest="Gadgets").count() == 90
    assert large <= small + 2  # SQLite's cap on one statement's parameters: a batch more


def test_what_a_first_batch_reads_first_is_read_while_the_matching_process_starts(
    submit_inquiry,
):
    """``materialize_ready`` (called by an import while its matching process matches the
    first chunk) reads the configuration a batch reads: the batch after it reads none."""
    from leadrefinery.intake.materialize import materialize_ready

    configuration = (
        "leads_stagedefinition", "leads_queue", "routing_routingrule", "scoring_scoringrule",
        "scoring_scoringsettings", "sla_slapolicy", "notifications_webhookendpoint",
    )  # fmt: skip

    def read(sql: str) -> list[str]:
        return [t for t in configuration if f'"{t}"' in sql and sql.lstrip().startswith("SELECT")]

    config.clear()
    with CaptureQueriesContext(connection) as ready:
        materialize_ready()
    with CaptureQueriesContext(connection) as batch:
        submit_inquiry(email="ready@example.org", first_name="Ready")
    assert {t for q in ready.captured_queries for t in read(q["sql"])} >= {
        "leads_stagedefinition", "leads_queue", "routing_routingrule", "scoring_scoringrule",
        "sla_slapolicy", "notifications_webhookendpoint",
    }  # fmt: skip
    assert [t for q in batch.captured_queries for t in read(q["sql"])] == []
