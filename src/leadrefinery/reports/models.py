"""The reports' rollups and the marketing data they need (costs, exchange rates).

``LeadFact`` keeps, per lead, what it last added to the rollups; the sweep recomputes the facts
of changed leads and adds the difference to ``Cell`` (counters), ``Bucket`` (histograms and
reason counts) and ``Credit`` (attributed figures per source and campaign). Reports read only
the rollups, at the coarsest grain that has the dimensions they need (``domain.GRAINS``): a
few hundred or thousand rows, not a million leads.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from . import domain


class LeadFact(models.Model):
    """What a lead last added to the rollups (``domain.Fact`` as JSON), and when it is due."""

    lead = models.OneToOneField(
        "leads.Lead", primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    fact = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["due_at", "lead"], name="report_fact_due")]

    def __str__(self) -> str:
        return f"report facts of lead {self.lead_id}"


class RollupCursor(models.Model):
    """The last lead id the sweep has taken in (new leads are found by id, not by a scan)."""

    name = models.CharField(max_length=32, primary_key=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_id}"


class _Dims(models.Model):
    grain = models.CharField(
        max_length=1,
        default="f",
        help_text="f: every dimension; s: month, source, campaign; o: month, owner, team",
    )
    month = models.DateField()
    source_id = models.IntegerField()
    campaign_id = models.IntegerField(default=0)
    user_id = models.IntegerField(default=0)
    team_id = models.IntegerField(default=0)
    product = models.CharField(max_length=120, default="")

    class Meta:
        abstract = True


DIM_COLUMNS = ("grain", "month", "source_id", "campaign_id", "user_id", "team_id", "product")


class Cell(_Dims):
    """Counters of the leads of one month, source, campaign, owner, team and product line."""

    leads = models.IntegerField(default=0)
    inquiries = models.IntegerField(default=0)
    sales_ready = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    opportunities = models.IntegerField(default=0)
    won = models.IntegerField(default=0)
    lost = models.IntegerField(default=0)
    no_response = models.IntegerField(default=0)
    disqualified = models.IntegerField(default=0)
    open = models.IntegerField(default=0)
    touched = models.IntegerField(default=0)
    follow_up_1d = models.IntegerField(default=0)
    follow_up_3d = models.IntegerField(default=0)
    follow_up_7d = models.IntegerField(default=0)
    follow_up_30d = models.IntegerField(default=0)
    speed_5m = models.IntegerField(default=0)
    speed_1h = models.IntegerField(default=0)
    short_closes = models.IntegerField(default=0)
    wins_5_12 = models.IntegerField(default=0)
    pipeline = models.BigIntegerField(default=0, help_text="cents of the reporting currency")
    revenue = models.BigIntegerField(default=0, help_text="cents of the reporting currency")
    nurture_open = models.IntegerField(default=0)
    recycled_open = models.IntegerField(default=0)
    checks = models.IntegerField(default=0)
    check_us = models.IntegerField(default=0)
    check_competitor = models.IntegerField(default=0)
    check_nobody = models.IntegerField(default=0)
    check_unknown = models.IntegerField(default=0)
    unpriced = models.IntegerField(default=0, help_text="amounts in a currency without a rate")

    class Meta:
        constraints = [models.UniqueConstraint(fields=list(DIM_COLUMNS), name="report_cell_key")]
        indexes = [
            models.Index(fields=["grain", "user_id", "month"], name="report_cell_owner"),
            models.Index(fields=["grain", "team_id", "month"], name="report_cell_teams"),
        ]

    def __str__(self) -> str:
        return f"cell {self.month} source {self.source_id}"


class Bucket(_Dims):
    """A histogram or reason count: kind "speed" (key: bucket index), "depth" (key:
    "outcome:touches") or "reason" (key: "outcome:reason code")."""

    kind = models.CharField(max_length=8)
    key = models.CharField(max_length=80)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", *DIM_COLUMNS, "key"], name="report_bucket_key")
        ]
        indexes = [
            models.Index(fields=["kind", "grain", "user_id", "month"], name="report_bucket_owner")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: {self.n}"


class Credit(_Dims):
    """Figures credited to a source and campaign (``source_id``/``campaign_id`` here are the
    credited ones) under one attribution model. Inquiries are counted whole, by their own
    source; leads, opportunities, pipeline and revenue are shared by the model's weights."""

    model = models.CharField(max_length=8, choices=[(m.value, m.label) for m in domain.Model])
    inquiries = models.FloatField(default=0)
    leads = models.FloatField(default=0)
    opportunities = models.FloatField(default=0)
    pipeline = models.FloatField(default=0, help_text="cents of the reporting currency")
    revenue = models.FloatField(default=0, help_text="cents of the reporting currency")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", *DIM_COLUMNS], name="report_credit_key")
        ]

    def __str__(self) -> str:
        return f"{self.model} credit to source {self.source_id}"


class CostEntry(models.Model):
    """Money spent on a source (or one of its campaigns) over a span of days: a monthly budget,
    a trade show's invoice. A report's period takes the share of days that fall in it."""

    source = models.ForeignKey("leads.Source", on_delete=models.PROTECT, related_name="costs")
    campaign = models.ForeignKey(
        "leads.Campaign", null=True, blank=True, on_delete=models.PROTECT, related_name="costs"
    )
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="the last day the cost covers (same day for one day)")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, blank=True, help_text="empty: reporting currency")
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    voided_at = models.DateTimeField(null=True, blank=True, help_text="set instead of deleting")

    class Meta:
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["starts_on", "ends_on"], name="cost_span")]
        verbose_name_plural = "cost entries"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.source} from {self.starts_on}"


class CurrencyRate(models.Model):
    """A fixed rate: one unit of ``currency`` is worth ``rate`` units of the reporting
    currency (REFINERY_REPORTING_CURRENCY). Amounts in a currency without a rate are left out
    of the money figures and named on the report."""

    currency = models.CharField(max_length=3, primary_key=True)
    rate = models.DecimalField(max_digits=16, decimal_places=8)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["currency"]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate}"
