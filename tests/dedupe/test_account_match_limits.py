"""Fuzzy account matching compares a company with every stored account of its prefix, however
many there are and however many companies a batch names: one left out could make intake create
a duplicate account."""

from datetime import UTC, datetime

import pytest

from leadrefinery.common.db import insert_rows
from leadrefinery.dedupe.services import accounts_for
from leadrefinery.leads.models import Account

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def stored(*keys: str) -> list[Account]:
    rows = [Account(name=k.title(), name_key=k, domain="", country="", created_at=T0) for k in keys]
    insert_rows(Account, rows)
    return rows


def test_a_near_match_behind_thousands_of_accounts_of_its_prefix_is_found():
    # 2,500 accounts starting "acm" come first (the read once stopped after 2,000 rows).
    stored(*(f"acm {i:05d} holdings" for i in range(2500)))
    (widgets,) = stored("acme widgets")
    (found,) = accounts_for([{"company_name": "Acme Widgetz"}], at=T0)
    assert found is not None and found.pk == widgets.pk
    assert Account.objects.filter(name_key__startswith="acme widget").count() == 1


def test_every_company_of_a_batch_naming_hundreds_of_prefixes_is_matched():
    # 260 different three-letter prefixes in one batch (the read once kept the first 200).
    prefixes = [f"{a}{b}x" for a in "abcdefghijklm" for b in "abcdefghijklmnopqrst"]
    assert len(set(prefixes)) == 260
    known = stored(*(f"{p[:3]}corp trading" for p in prefixes))
    people = [{"company_name": f"{p[:3]}corp tradin"} for p in prefixes]
    found = accounts_for(people, at=T0)
    assert [a.pk if a else None for a in found] == [a.pk for a in known]
    assert Account.objects.count() == 260  # no duplicate account was created
