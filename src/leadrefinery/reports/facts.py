"""Read a batch of leads' facts for the reports from the raw rows, in a fixed number of queries.

What counts (docs/reports.md says the same for the people who read the reports):

- the lead is counted in the month (UTC) its first inquiry arrived, under its source, campaign,
  product line and its current owner (the owner's team; a queue's team for a queue's lead);
- a stage counts as reached when the lead is in it or past it now, or its timeline shows it
  entered it once (a lead recycled to nurture after it was sales ready still counts as
  sales ready);
- follow-up and speed to lead run from the inquiry to the first sales touch (an outbound touch
  by sales, not voided); speed counts working time in the owner's calendar (Monday to Friday
  09:00-17:00 UTC for a queue's lead);
- money is converted into the reporting currency at the fixed rates; an amount in a currency
  without a rate is left out;
- attribution follows the person's touches that carry a source (an inquiry by form, API or
  import, with its own source and campaign), up to the lead's close; a lead whose person has
  none is credited to its own source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from leadrefinery.accounts.models import User
from leadrefinery.cadences.models import OutcomeCheck
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.models import DispositionReason, Lead, LeadEvent, Touch
from leadrefinery.leads.services import persistence_rule
from leadrefinery.sla.business_hours import BusinessCalendar, business_time_between
from leadrefinery.sla.calendars import user_calendar

from . import domain
from .models import CurrencyRate

UNDO_REASON = "import_undone"  # intake's reason for the leads of an undone import

Stage = lead_domain.Stage
_PAST_SALES_READY = {Stage.SALES_READY, Stage.WORKING, Stage.OPPORTUNITY, Stage.WON, Stage.LOST}
_PAST_OPPORTUNITY = {Stage.OPPORTUNITY, Stage.WON}
_STAGE_EVENTS = ("stage_changed", "disposed", "recycled", "accepted")
_DEFAULT_CALENDAR = BusinessCalendar()


def _is_recycle(from_stage: str, to_stage: str) -> bool:
    """A sales stage handed to nurture (how ``lead_recycle`` records a recycle), as the nurture
    sweep reads it."""
    valid = {s.value for s in Stage}
    return (
        from_stage in valid
        and to_stage in valid
        and lead_domain.is_recycle(Stage(from_stage), Stage(to_stage))
    )


@dataclass
class Context:
    """What a batch needs besides the leads: reasons, rates, calendars (read once)."""

    no_response: set[str]
    rates: dict[str, Decimal]
    reporting: str
    min_touches: int
    calendars: dict[int, BusinessCalendar]

    @classmethod
    def load(cls) -> Context:
        return cls(
            no_response=set(
                DispositionReason.objects.filter(needs_persistence=True).values_list(
                    "code", flat=True
                )
            ),
            rates=dict(CurrencyRate.objects.values_list("currency", "rate")),
            reporting=reporting_currency(),
            min_touches=persistence_rule().min_touches,
            calendars={},
        )

    def calendar(self, user_id: int | None) -> BusinessCalendar:
        if not user_id:
            return _DEFAULT_CALENDAR
        if user_id not in self.calendars:
            user = User.objects.filter(pk=user_id).first()
            self.calendars[user_id] = user_calendar(user) if user else _DEFAULT_CALENDAR
        return self.calendars[user_id]

    def cents(self, amount: Decimal | None, currency: str) -> int | None:
        """An amount in cents of the reporting currency (None: no amount, or no rate)."""
        if amount is None:
            return None
        code = (currency or self.reporting).upper()
        if code == self.reporting:
            return round(amount * 100)
        rate = self.rates.get(code)
        return None if rate is None else round(amount * rate * 100)


def reporting_currency() -> str:
    return str(getattr(settings, "REFINERY_REPORTING_CURRENCY", "USD")).upper()


def month_of(at: datetime) -> date:
    at = at.astimezone(UTC)
    return date(at.year, at.month, 1)


def facts_for(lead_ids: Sequence[int], ctx: Context | None = None) -> dict[int, domain.Fact]:
    """The facts of these leads now (a lead that does not exist is left out)."""
    ctx = ctx or Context.load()
    ids = sorted(set(lead_ids))
    leads: list[dict[str, Any]] = [
        dict(row)
        for row in Lead.objects.filter(pk__in=ids).values(
            "id",
            "person_id",
            "received_at",
            "source_id",
            "campaign_id",
            "owner_user_id",
            "owner_user__team_id",
            "owner_queue__team_id",
            "product_interest",
            "stage",
            "accepted_at",
            "disposition_id",
            "disposed_at",
            "opportunity_amount",
            "won_amount",
            "currency",
        )
    ]
    if not leads:
        return {}
    persons = sorted({row["person_id"] for row in leads})
    reached: dict[int, set[str]] = defaultdict(set)
    recycled: set[int] = set()
    accepted: set[int] = set()
    for lead_id, kind, from_stage, to_stage in LeadEvent.objects.filter(
        lead_id__in=ids, kind__in=_STAGE_EVENTS
    ).values_list("lead_id", "kind", "from_stage", "to_stage"):
        if to_stage:
            reached[lead_id].add(to_stage)
        if kind == "recycled" or _is_recycle(from_stage, to_stage):
            recycled.add(lead_id)
        elif kind == "accepted":
            accepted.add(lead_id)
    touches = _touches(persons)
    checks: dict[int, tuple[datetime, str]] = {}
    for lead_id, answer, at in OutcomeCheck.objects.filter(
        lead_id__in=ids, status=OutcomeCheck.Status.ANSWERED
    ).values_list("lead_id", "answer", "answered_at"):
        if at is not None and (lead_id not in checks or checks[lead_id][0] < at):
            checks[lead_id] = (at, answer)
    out: dict[int, domain.Fact] = {}
    for row in leads:
        out[row["id"]] = _fact(
            row,
            ctx,
            reached=reached.get(row["id"], set()),
            recycled=row["id"] in recycled,
            accepted=row["id"] in accepted or row["accepted_at"] is not None,
            touches=touches.get(row["person_id"], []),
            check=checks.get(row["id"], (None, ""))[1],
        )
    return out


def _touches(persons: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    """Each person's live touches, oldest first: (lead, at, is_sales, source, campaign)."""
    found: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for start in range(0, len(persons), 500):
        rows = (
            Touch.objects.filter(person_id__in=persons[start : start + 500], voided_at__isnull=True)
            .order_by()
            .values_list(
                "person_id",
                "lead_id",
                "occurred_at",
                "is_sales",
                "id",
                "intake__source_id",
                "intake__campaign_id",
                "import_batch__source_id",
                "import_batch__campaign_id",
            )
        )
        for person, lead, at, is_sales, pk, i_src, i_camp, b_src, b_camp in rows:
            source, campaign = (i_src, i_camp) if i_src else (b_src, b_camp)
            found[person].append((at, pk, lead, is_sales, source or 0, campaign or 0))
    for items in found.values():
        items.sort()
    return found


def _fact(
    row: dict[str, Any],
    ctx: Context,
    *,
    reached: set[str],
    recycled: bool,
    accepted: bool,
    touches: list[tuple[Any, ...]],
    check: str,
) -> domain.Fact:
    lead_id = row["id"]
    stage = Stage(row["stage"])
    reason = row["disposition_id"] or ""
    received: datetime = row["received_at"]
    dims = domain.Dims(
        month=month_of(received),
        source=row["source_id"],
        campaign=row["campaign_id"] or 0,
        user=row["owner_user_id"] or 0,
        team=(row["owner_user__team_id"] if row["owner_user_id"] else row["owner_queue__team_id"])
        or 0,
        product=row["product_interest"] or "",
    )
    if stage == Stage.MERGED or reason == UNDO_REASON:
        return domain.Fact(dims=dims, counted=False)
    closed_at: datetime | None = row["disposed_at"] if not stage.is_open else None
    mine = [t for t in touches if t[2] == lead_id]
    sales = [t for t in mine if t[3]]
    first_sales = sales[0][0] if sales else None
    inquiries: dict[tuple[int, int], int] = defaultdict(int)
    for t in mine:
        if t[4]:
            inquiries[(t[4], t[5])] += 1
    if not inquiries:  # a lead entered by hand: its own inquiry, from its own source
        inquiries[(dims.source, dims.campaign)] = 1
    journey = [(t[4], t[5]) for t in touches if t[4] and (closed_at is None or t[0] <= closed_at)]
    if not journey:
        journey = [(dims.source, dims.campaign)]
    outcome = domain.Outcome.OPEN
    if stage == Stage.WON:
        outcome = domain.Outcome.WON
    elif stage == Stage.DISQUALIFIED:
        outcome = domain.Outcome.DISQUALIFIED
    elif stage == Stage.LOST:
        outcome = domain.Outcome.NO_RESPONSE if reason in ctx.no_response else domain.Outcome.LOST
    touches_at_close = (
        sum(1 for t in sales if closed_at is None or t[0] <= closed_at) if closed_at else 0
    )
    opportunity = stage in _PAST_OPPORTUNITY or bool(reached & _PAST_OPPORTUNITY)
    pipeline = ctx.cents(row["opportunity_amount"], row["currency"]) if opportunity else None
    revenue = None
    if stage == Stage.WON:
        revenue = ctx.cents(row["won_amount"] or row["opportunity_amount"], row["currency"])
    amount = row["opportunity_amount"]
    if stage == Stage.WON and row["won_amount"] is not None:
        amount = row["won_amount"]
    unpriced = amount is not None and ctx.cents(amount, row["currency"]) is None
    speed = None
    if first_sales is not None:
        calendar = ctx.calendar(row["owner_user_id"])
        speed = int(business_time_between(calendar, received, first_sales).total_seconds())
    return domain.Fact(
        dims=dims,
        inquiries=sum(inquiries.values()),
        sales_ready=stage in _PAST_SALES_READY or bool(reached & _PAST_SALES_READY),
        accepted=accepted,
        opportunity=opportunity,
        outcome=outcome,
        reason=reason if outcome != domain.Outcome.OPEN else "",
        follow_up_seconds=(
            None
            if first_sales is None
            else int(lead_domain.speed_to_lead(received, first_sales).total_seconds())
        ),
        speed_seconds=speed,
        touches_at_close=touches_at_close,
        short_close=outcome == domain.Outcome.NO_RESPONSE and touches_at_close < ctx.min_touches,
        pipeline=pipeline or 0,
        revenue=revenue or 0,
        unpriced=unpriced,
        nurture_open=stage == Stage.NURTURE,
        recycled_open=stage == Stage.NURTURE and recycled,
        check=check,
        credits=domain.attribution(journey),
        inquiry_sources=tuple((s, c, n) for (s, c), n in sorted(inquiries.items())),
    )
