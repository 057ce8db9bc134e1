"""The demo's marketing money and last year's outcomes, so that every report has data.

- Cost entries as a marketer records them: each campaign's spend over its dates (a show's
  invoice on the show, a search campaign's budget month by month), a partner's monthly
  referral fees, the website agency's monthly retainer.
- Fixed exchange rates into the reporting currency.
- Last year: inquiries that arrived 13 to 15 months ago, were worked and lost for no decision,
  closed as no response or recycled, and whose 12-month outcome checks marketing has answered
  (bought from us, from a competitor, nobody, unknown), in the proportions of the Rule of 45.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from leadrefinery.cadences.models import OutcomeCheck
from leadrefinery.cadences.services import lead_accept, outcome_check_record, touch_record
from leadrefinery.cadences.sweep import cadence_sweep
from leadrefinery.common import clock
from leadrefinery.demo.data import (
    DEMO_USERS,
    INTERNATIONAL,
    MARKETER,
    SOURCES,
    TEAM_OF_COUNTRY,
    generate_inquiries,
    weighted,
)
from leadrefinery.intake.services import OUTCOME_NEW, intake_process, intake_receive
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Campaign, Lead, Source
from leadrefinery.leads.services import lead_assign, lead_dispose, lead_recycle, lead_transition
from leadrefinery.reports.models import CostEntry, CurrencyRate

RATES = {"EUR": Decimal("1.08"), "GBP": Decimal("1.27"), "CAD": Decimal("0.73")}
MONTHLY = {"Website": 1200, "Organic search": 900}  # agency retainers, per month
ANSWERS = {"us": 0.10, "competitor": 0.35, "nobody": 0.45, "unknown": 0.10}


# Annual contract values by product line (a range to draw from), in the reporting currency.
DEAL_SIZES = {
    "Fleet Tracking": (18000, 60000),
    "Warehouse Management": (30000, 120000),
    "Route Planning": (8000, 30000),
}


def deal_value(product: str, team: str, rng: random.Random) -> tuple[Decimal, str]:
    """An opportunity's expected value: the International team quotes in euros."""
    low, high = DEAL_SIZES.get(product, (10000, 40000))
    value = Decimal(round(rng.uniform(low, high), -2))
    if team == INTERNATIONAL:
        return (value / RATES["EUR"]).quantize(Decimal(100)), "EUR"
    return value, ""


def rates_create(at: datetime) -> None:
    for code, rate in RATES.items():
        CurrencyRate.objects.update_or_create(
            currency=code, defaults={"rate": rate, "updated_at": at}
        )


def _months(first: date, last: date) -> list[tuple[date, date]]:
    out = []
    start = date(first.year, first.month, 1)
    while start <= last:
        nxt = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        out.append((max(start, first), min(nxt - timedelta(days=1), last)))
        start = nxt
    return out


def costs_create(*, anchor: datetime, days: int, marketer) -> int:
    """Cost entries over the demo window (and the year before, for last year's inquiries)."""
    at = anchor
    first = (anchor - timedelta(days=days + 450)).date()
    last = anchor.date()
    entries: list[CostEntry] = []

    def add(source: Source, campaign: Campaign | None, a: date, b: date, amount: float, note: str):
        entries.append(
            CostEntry(
                source=source,
                campaign=campaign,
                starts_on=a,
                ends_on=b,
                amount=Decimal(round(amount, 2)).quantize(Decimal("0.01")),
                note=note,
                created_by=marketer,
                created_at=at,
            )
        )

    sources = {s.name: s for s in Source.objects.all()}
    for spec in SOURCES:
        source = sources[spec.name]
        if spec.name in MONTHLY:
            for a, b in _months(first, last):
                share = ((b - a).days + 1) / 30.4
                add(source, None, a, b, MONTHLY[spec.name] * share, "Agency retainer")
        if spec.cost:
            for a, b in _months(first, last):
                share = ((b - a).days + 1) / 30.4
                add(source, None, a, b, spec.cost / 2 * share, "Referral fees")
        for c in spec.campaigns:
            campaign = Campaign.objects.get(source=source, name=c.name)
            a = campaign.starts_on or (anchor - timedelta(days=days)).date()
            b = campaign.ends_on or last
            if (b - a).days > 31:  # an always-on budget: one entry a month
                months = _months(a, b)
                for ma, mb in months:
                    add(source, campaign, ma, mb, c.cost / len(months), "Monthly budget")
            else:
                add(source, campaign, a, b, c.cost, "Invoice")
    CostEntry.objects.bulk_create(entries)
    return len(entries)


def last_year_create(*, anchor: datetime, seed: int, users: dict, count: int = 40) -> int:
    """Inquiries of 13 to 15 months ago, worked and not won, their outcome checks answered."""
    rng = random.Random(f"{seed}:last-year")
    start = anchor - timedelta(days=455)
    specs = generate_inquiries(seed=seed + 1, count=count, anchor=start + timedelta(days=60))
    reps = {
        team: [users[u.username] for u in DEMO_USERS if u.role == "rep" and u.team == team]
        for team in {u.team for u in DEMO_USERS if u.role == "rep"}
    }
    sources = {s.name: s for s in Source.objects.all()}
    closed = 0
    with clock.frozen(start) as frozen:
        for spec in specs:
            if spec.path in ("none", "disqualify"):
                continue
            frozen.set(spec.at)
            record, _ = intake_receive(
                channel=spec.channel, payload=spec.payload, source=sources[spec.source]
            )
            record = intake_process(record)
            new = (record.response or {}).get("outcome") == OUTCOME_NEW
            if record.status != "processed" or record.lead_id is None or not new:
                continue
            lead = Lead.objects.get(pk=record.lead_id)
            rep = rng.choice(reps[TEAM_OF_COUNTRY.get(spec.country, INTERNATIONAL)])
            me = Actor.of(rep)
            lead = lead_assign(lead=lead, owner_user=rep, actor=me)
            lead = lead_transition(lead=lead, to_stage="sales_ready", actor=me)
            frozen.set(spec.at + timedelta(minutes=rng.uniform(4, 600)))
            lead = lead_accept(lead=lead, actor=me)
            for _ in range(rng.randint(6, 9)):
                touch_record(lead=lead, channel="call", actor=me, outcome="no_answer")
                frozen.set(clock.now() + timedelta(days=rng.uniform(2, 4)))
            lead = Lead.objects.get(pk=lead.pk)
            end = str(
                weighted(rng, {"lost_no_decision": 0.4, "lost_no_response": 0.3, "recycle": 0.3})
            )
            if end == "recycle":
                lead_recycle(lead=lead, reason_code="recycle_timing", actor=me)
            else:
                lead_dispose(lead=lead, reason_code=end, actor=me)
            closed += 1
        frozen.set(anchor - timedelta(hours=1))
        cadence_sweep()
        marketer = Actor.of(users[MARKETER])
        for check in OutcomeCheck.objects.filter(status=OutcomeCheck.Status.OPEN):
            answer = str(weighted(rng, ANSWERS))
            outcome_check_record(
                check=check,
                answer=answer,
                competitor="RouteMaster" if answer == "competitor" else "",
                actor=marketer,
            )
    return closed
