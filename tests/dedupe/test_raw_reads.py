"""dedupe/queries.py answers exactly as the ORM does for the same question."""

from datetime import UTC, datetime

import pytest
from django.db.models import Q

from leadrefinery.dedupe.queries import account_keys_by_prefix, accounts_by_domain_or_key
from leadrefinery.leads.models import Account

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 29, tzinfo=UTC)


def accounts(*rows: tuple[str, str]) -> list[Account]:
    return [
        Account.objects.create(name=key.title(), name_key=key, domain=domain, created_at=T0)
        for key, domain in rows
    ]


def as_dicts(objs) -> list[dict]:
    return [{f.attname: getattr(o, f.attname) for f in type(o)._meta.concrete_fields} for o in objs]


def test_accounts_by_domain_or_key_answer_as_the_orm():
    accounts(
        ("acme", "acme.com"),
        ("globex", ""),
        ("initech", "initech.io"),
        ("acme", "acme.co.uk"),
        ("umbrella", "umbrella.com"),
    )
    for domains, keys in (
        (["acme.com", "initech.io", "nowhere.org"], ["globex", "acme"]),
        (["umbrella.com"], []),
        ([], ["initech"]),
        ([], []),
    ):
        orm = (
            Account.objects.filter(Q(domain__in=domains) | Q(name_key__in=keys)).order_by("pk")
            if domains or keys
            else Account.objects.none()
        )
        assert as_dicts(accounts_by_domain_or_key(domains, keys)) == as_dicts(orm)


def test_account_keys_by_prefix_answer_as_the_orm():
    accounts(
        ("acme", ""),
        ("acmex", ""),
        ("acm", ""),
        ("ac", ""),
        ("bacme", ""),
        ("globex", ""),
        ("glob", ""),
        ("zzz top", ""),
    )
    prefixes = ["acm", "glo", "zzz", "qqq"]
    orm = {
        (a.pk, a.name_key) for p in prefixes for a in Account.objects.filter(name_key__startswith=p)
    }
    got = list(account_keys_by_prefix(prefixes))
    assert set(got) == orm and len(got) == len(orm) == 6
    assert list(account_keys_by_prefix([])) == []


def test_block_rows_answer_as_the_orm(make_lead):
    from leadrefinery.dedupe import domain
    from leadrefinery.dedupe.queries import MATCH_ATTNAMES, block_rows
    from leadrefinery.dedupe.selectors import record_of
    from leadrefinery.leads.models import Person

    for i in range(3):
        make_lead(email=f"j.smith{i}@example{i}.org", first_name="John", last_name="Smith")
    address = {"country": "US", "postcode": "94103", "street": "221 Main St"}
    make_lead(
        email="bob@initech.io",
        first_name="Bob",
        last_name="Porter",
        company="Initech",
        phone="415 555 0100",
        **address,
    )
    make_lead(email="rob@initech.io", first_name="Robert", last_name="Porter", **address)
    make_lead(email="other@example.org", first_name="Ann", last_name="Other")
    people = list(Person.objects.all())
    wanted: dict[str, set[tuple[str, ...]]] = {}
    for person in people[:5]:
        record = record_of(person)
        for name, key in domain.block_keys(record):
            wanted.setdefault(name, set()).add(key)
    wanted.setdefault("email", set()).add(("nobody@nowhere.test",))
    blocks = [b for b in domain.BLOCKS if b.name in wanted]
    assert len(blocks) >= 3

    # 2: the three John Smiths' name key is a stop word at that size; each key's read stops
    # after 2 rows, however many keys are read at once.
    for limit in (None, 50, 2):
        got: dict[tuple[str, tuple[str, ...]], set[int]] = {}
        for ordinal, row in block_rows(blocks, wanted, limit):
            block = blocks[ordinal]
            values = dict(zip(MATCH_ATTNAMES, row, strict=True))
            got.setdefault((block.name, tuple(values[c] for c in block.columns)), set()).add(
                values["id"]
            )
            # The row holds the person's match columns as stored.
            person = Person.objects.get(pk=values["id"])
            assert values == {name: getattr(person, name) for name in MATCH_ATTNAMES}
        orm: dict[tuple[str, tuple[str, ...]], set[int]] = {}
        for block in blocks:
            for key in wanted[block.name]:
                found = set(
                    Person.objects.filter(**dict(zip(block.columns, key, strict=True)))
                    .exclude(**{block.columns[0]: ""})
                    .values_list("pk", flat=True)
                )
                if found:
                    orm[(block.name, key)] = found
        if limit is None or limit >= 3:
            assert got == orm
        else:
            assert got.keys() == orm.keys()
            assert any(len(found) > limit for found in orm.values())
            for key, found in orm.items():
                assert got[key] <= found and len(got[key]) == min(len(found), limit)


def test_variant_block_rows_answer_as_the_orm(make_lead):
    from leadrefinery.common.clock import now
    from leadrefinery.dedupe import domain
    from leadrefinery.dedupe.models import PersonVariant
    from leadrefinery.dedupe.queries import MATCH_ATTNAMES, VARIANT, block_rows
    from leadrefinery.dedupe.services import variants_record
    from leadrefinery.leads.models import Person

    make_lead(email="jon@smyth.example", first_name="Jon", last_name="Smyth", company="Nordwind")
    make_lead(email="ann@other.example", first_name="Ann", last_name="Other")
    jon, ann = Person.objects.get(last_name="Smyth"), Person.objects.get(last_name="Other")
    variants_record(
        [
            (
                jon,
                {
                    "email": "jon@smyth.example",
                    "first_name": "John",
                    "last_name": "Smith",
                    "company_name": "Smith Logistics",
                    "postcode": "2000",
                },
            ),
            (
                ann,
                {
                    "email": "ann@other.example",
                    "first_name": "Anne",
                    "last_name": "Other",
                    "postcode": "2000",
                    "street": "12 High St",
                },
            ),
        ],
        at=now(),
    )
    assert PersonVariant.objects.count() == 2
    wanted: dict[str, set[tuple[str, ...]]] = {}
    for v in PersonVariant.objects.all():
        for name, key in domain.block_keys(domain.Record.of({
            f: getattr(v, f) for f in ("email", "phone", "first_name", "last_name",
                                       "company_name", "street", "city", "email_key",
                                       "domain_key", "company_key", "first_name_key",
                                       "last_name_key", "postcode_key", "street_number_key",
                                       "street_key")
        })):  # fmt: skip
            wanted.setdefault(name, set()).add(key)
    blocks = [b for b in domain.BLOCKS if b.name in wanted]
    for limit in (None, 50):
        got: dict[tuple[str, tuple[str, ...]], set[int]] = {}
        for ordinal, row in block_rows(blocks, wanted, limit, variants=True):
            if ordinal < VARIANT:
                continue
            block = blocks[ordinal - VARIANT]
            values = dict(zip(MATCH_ATTNAMES, row, strict=True))
            got.setdefault((block.name, tuple(values[c] for c in block.columns)), set()).add(
                values["id"]
            )
            person = Person.objects.get(pk=values["id"])
            assert values["merged_into_id"] == person.merged_into_id
        orm: dict[tuple[str, tuple[str, ...]], set[int]] = {}
        for block in blocks:
            for key in wanted[block.name]:
                found = set(
                    PersonVariant.objects.filter(**dict(zip(block.columns, key, strict=True)))
                    .exclude(**{block.columns[0]: ""})
                    .values_list("person_id", flat=True)
                )
                if found:
                    orm[(block.name, key)] = found
        assert got == orm and got
