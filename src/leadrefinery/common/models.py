from django.db import models


class ConfigVersion(models.Model):
    """One row whose token changes whenever routing or intake configuration changes.

    Processes cache configuration (rules, reps, queues, SLA policies...) and compare this token
    before using the cache; see common/config.py. A random token rather than a counter: a
    rolled-back change returns the previous token, and no two changes ever share one."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"configuration version {self.token}"
