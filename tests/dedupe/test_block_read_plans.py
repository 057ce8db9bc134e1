"""PostgreSQL reads the blocks through their indexes even when its statistics are skewed:
in a database where most people have no postcode, "first name + postcode" looked like a
tenth of the table per key, and the planner scanned the table (or another index) for each
key of a chunk (43 s for 148 keys at a million people)."""

import pytest
from django.db import connection

from leadrefinery.common.clock import now
from leadrefinery.common.db import build, insert_rows
from leadrefinery.dedupe import domain
from leadrefinery.dedupe.keys import person_keys
from leadrefinery.dedupe.queries import block_rows
from leadrefinery.leads.models import Person

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner"),
]

FIRST = ["ann", "bob", "cy", "dee"]


def test_a_block_read_uses_the_index_when_most_people_lack_the_column():
    at = now()
    people = []
    for i in range(20000):
        fields = {
            "email": f"p{i}@example.org",
            "first_name": FIRST[i % 4],
            "last_name": f"L{i % 50}",
        }
        if i < 10:
            fields["postcode"] = f"9410{i}"
        people.append(build(Person, **fields, **person_keys(fields), created_at=at, updated_at=at))
    insert_rows(Person, people)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_person")
        # What a million people make the planner weigh, on a test-sized table: index reads
        # dear against a scan.
        cursor.execute("SET LOCAL random_page_cost = 1000")
    block = next(b for b in domain.BLOCKS if b.name == "name_postcode")
    wanted = {block.name: {(name, f"5{n:04d}") for name in FIRST for n in range(40)}}
    plans = []

    def explain(execute, sql, params, many, context):
        if "hit" in sql:
            raw = context["cursor"].cursor  # the driver's own: not through this wrapper again
            raw.execute("EXPLAIN " + sql, params)
            plans.append("\n".join(r[0] for r in raw.fetchall()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        assert list(block_rows([block], wanted, domain.MAX_BLOCK + 1)) == []
    assert plans and all(
        "person_block_name_postcode" in p or "person_block_address" in p for p in plans
    ), plans
    assert not any("Seq Scan on leads_person" in p for p in plans), plans


def test_the_account_read_uses_the_domain_and_company_indexes_without_statistics():
    """Asked for accounts by domain or company key and ordered by id, a server without
    statistics for the table walked the primary key or scanned the table (36 to 91 ms a
    read at 250,000 accounts); the read now goes through the two indexes."""
    from leadrefinery.dedupe.queries import accounts_by_domain_or_key
    from leadrefinery.leads.models import Account

    at = now()
    firms = [(f"Firm {i}", f"firm {i}", f"firm{i}.example") for i in range(20000)]
    insert_rows(
        Account,
        [build(Account, name=n, name_key=k, domain=d, created_at=at) for n, k, d in firms],
    )
    plans = []

    def explain(execute, sql, params, many, context):
        if "leads_account" in sql and "SELECT" in sql and "set_config" not in sql:
            raw = context["cursor"].cursor
            raw.execute("EXPLAIN " + sql, params)
            plans.append("\n".join(r[0] for r in raw.fetchall()))
        return execute(sql, params, many, context)

    domains = [f"firm{i}.example" for i in range(0, 20000, 67)]
    keys = [f"firm {i}" for i in range(5, 20000, 71)]
    with connection.execute_wrapper(explain):
        found = accounts_by_domain_or_key(domains, keys)
    assert [a.pk for a in found] == sorted(a.pk for a in found)
    assert {a.domain for a in found} >= set(domains) and {a.name_key for a in found} >= set(keys)
    assert plans and not any("Seq Scan" in p or "leads_account_pkey" in p for p in plans), plans
