"""A NUL (or another control character) in an imported file never loses a row, on either
database: it is removed before the row is stored, and the count is kept with it. (The form's
case is in tests/ui/test_public_form.py; every other entry point in
tests/api/test_control_characters_everywhere.py.)"""

from __future__ import annotations

import pytest

from leadrefinery.intake.importing import import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead

pytestmark = pytest.mark.django_db


def test_a_nul_cell_in_an_import_loses_neither_its_row_nor_the_others(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(
        "Email,Company,Message\n"
        "a@example.com,Good Co,hello\n"
        "b\x00@example.com,Bad\x00Co,bye\x00\n"
        "c@example.com,Fine Co,ok\n"
    )
    dry = import_csv(path, source_name="Expo", actor=Actor.system("import"), dry_run=True)
    report = import_csv(path, source_name="Expo", actor=Actor.system("import"))
    assert (report.imported, report.rejected) == (3, 0)
    assert (dry.imported, dry.rejected, dry.people_new) == (3, 0, report.people_new)
    companies = set(Lead.objects.values_list("person__company_name", flat=True))
    assert companies == {"Good Co", "BadCo", "Fine Co"}
