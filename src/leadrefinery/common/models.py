from django.db import models
from django.db.models import Q


def index_where_set(field: str, name: str) -> models.Index:
    """The index of a nullable foreign key, over the rows that have one. Every lookup by it
    names a value (``WHERE actor_id = ...``, which both databases see the index covers), and
    most rows of the tables written per inquiry have none (the actor of a system event, the
    form of an imported row): each such row was one more index entry to write."""
    return models.Index(fields=[field], name=name, condition=Q(**{f"{field}__isnull": False}))


class ConfigVersion(models.Model):
    """One row whose token changes whenever routing or intake configuration changes.

    Processes cache configuration (rules, reps, queues, SLA policies...) and compare this token
    before using the cache; see common/config.py. A random token rather than a counter: a
    rolled-back change returns the previous token, and no two changes ever share one."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"configuration version {self.token}"
