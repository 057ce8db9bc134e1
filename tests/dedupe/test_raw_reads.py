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
