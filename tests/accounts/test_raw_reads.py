"""accounts/queries.py answers exactly as the ORM does for the same question."""

from datetime import UTC, datetime

import pytest

from leadrefinery.accounts.models import ApiToken
from leadrefinery.accounts.queries import active_token
from leadrefinery.accounts.services import hash_token, token_create

pytestmark = pytest.mark.django_db


def orm_active_token(key_hash: str) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash, revoked_at=None, user__is_active=True)
        .first()
    )


def same(a, b) -> None:
    for model_a, model_b in ((a, b), (a.user, b.user)):
        fields = type(model_b)._meta.concrete_fields
        assert {f.attname: getattr(model_a, f.attname) for f in fields} == {
            f.attname: getattr(model_b, f.attname) for f in fields
        }


def test_active_token_answers_as_the_orm(users, django_assert_num_queries):
    live = token_create(user=users.rep, scopes=["leads:read"])
    ApiToken.objects.filter(pk=live.token.pk).update(
        last_used_at=datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    )
    revoked = token_create(user=users.rep)
    ApiToken.objects.filter(pk=revoked.token.pk).update(revoked_at=datetime.now(UTC))
    of_inactive = token_create(user=users.rep2)
    users.rep2.is_active = False
    users.rep2.save()

    got = active_token(hash_token(live.secret))
    assert got is not None
    same(got, orm_active_token(hash_token(live.secret)))
    with django_assert_num_queries(0):
        assert got.user.username == "ron" and got.scopes == ["leads:read"]
    for secret in (revoked.secret, of_inactive.secret, "lr_unknown"):
        assert active_token(hash_token(secret)) is None
        assert orm_active_token(hash_token(secret)) is None
