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


def test_an_import_reads_each_prefix_once_and_matches_what_it_created_before():
    """An import keeps one AccountIndex for all its chunks: a later chunk finds a stored
    near match, the best of several (the oldest of equals), and an account an earlier chunk
    created, exactly as separate reads would; numbers still tell companies apart."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leadrefinery.dedupe.services import AccountIndex

    older, newer = stored("acme widgets", "acme widgets")  # equals: the older one wins
    (twelve,) = stored("acme widgets 12")
    index = AccountIndex()
    first = accounts_for(
        [{"company_name": "Acme Widgetz"}, {"company_name": "Globex Logistics"}],
        at=T0,
        index=index,
    )
    assert first[0].pk == older.pk and first[1].pk not in {older.pk, newer.pk, twelve.pk}
    with CaptureQueriesContext(connection) as second_chunk:
        second = accounts_for(
            [
                {"company_name": "Globex Logistic"},  # made by the first chunk
                {"company_name": "Acme Widgets 1"},  # not 'acme widgets 12'
                {"company_name": "Acme Widget 12"},
            ],
            at=T0,
            index=index,
        )
    assert second[0].pk == first[1].pk
    assert second[1].pk not in {older.pk, newer.pk, twelve.pk}  # a new company
    assert second[2].pk == twelve.pk
    prefix_reads = [q for q in second_chunk.captured_queries if "LIKE" in q["sql"].upper()]
    prefix_reads += [q for q in second_chunk.captured_queries if ">=" in q["sql"]]
    assert not prefix_reads, "the prefixes were read by the first chunk already"
    # Without an index, separate calls give the same accounts.
    assert [a.pk for a in accounts_for([{"company_name": "Globex Logistic"}], at=T0)] == [
        first[1].pk
    ]


def test_company_keys_worked_out_already_find_the_same_accounts():
    """An import's matching process hands over each row's company key: the accounts found
    (and made) are those found from the names themselves; a row without one is keyed here."""
    from leadrefinery.dedupe.keys import company_key

    (acme,) = stored("acme widgets")
    people = [
        {"company_name": "ACME Widgets, Inc."},
        {"company_name": "Globex Logistics"},
        {"company_name": "Globex Logistics GmbH"},
        {},
    ]
    given = [company_key(p.get("company_name", "")) for p in people]
    given[1] = None  # not worked out for this row
    found = accounts_for(people, at=T0, company_keys=given)
    assert found[0].pk == acme.pk
    assert found[1] is not None and found[2].pk == found[1].pk
    assert found[3] is None
    again = accounts_for(people, at=T0)
    assert [a.pk if a else None for a in again] == [a.pk if a else None for a in found]
    assert Account.objects.count() == 2
