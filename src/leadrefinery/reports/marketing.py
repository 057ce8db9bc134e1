"""The marketing reports: source ROI under four attribution models, and the Rule of 45."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from leadrefinery.accounts.models import User

from . import domain
from .domain import Chart, Column, Dataset, Headline, Report, roi, share
from .facts import reporting_currency
from .filters import Filters, add_months, by_label, scope
from .queries import cost_sums
from .sales import COHORT, TOP
from .tables import add_up, cell_sums, credit_sums, ordered


def costs(filters: Filters) -> tuple[dict[Any, float], list[str]]:
    """Cost per group key (source or campaign id) in the period, in the reporting currency:
    each entry counts with the share of its days that fall in the period. Also the
    currencies that have no rate (their entries are left out)."""
    last = add_months(filters.end, 1) - timedelta(days=1)
    return cost_sums(
        filters.start,
        last,
        reporting_currency(),
        by=filters.by,
        source=filters.source,
        campaign=filters.campaign,
    )


def source_roi(user: User, filters: Filters) -> Report:
    chosen = filters.model
    per_model = credit_sums(user, filters)
    spent, missing = costs(filters)
    credits = per_model[chosen]
    keys = set(credits) | set(spent)
    groups = {k: {**credits.get(k, {}), "cost": spent.get(k, 0.0)} for k in keys}
    rows = []
    for k, label in ordered(filters.by, groups, "cost"):
        c = credits.get(k, {})
        cost = spent.get(k, 0.0)
        inquiries = round(c.get("inquiries", 0))
        row: dict[str, Any] = {
            "group": label,
            "cost": round(cost),
            "inquiries": inquiries,
            "cost_per_inquiry": round(cost / inquiries, 1) if inquiries else None,
            "leads": round(c.get("leads", 0), 1),
            "opportunities": round(c.get("opportunities", 0), 1),
            "pipeline": round(c.get("pipeline", 0) / 100),
            "revenue": round(c.get("revenue", 0) / 100),
        }
        for m in domain.Model:
            revenue = per_model[m.value].get(k, {}).get("revenue", 0) / 100
            row[f"roi_{m.value}"] = roi(revenue, cost)
        rows.append(row)
    cost_total = sum(spent.values())
    revenue_total = {
        m.value: sum(g.get("revenue", 0) for g in per_model[m.value].values()) / 100
        for m in domain.Model
    }
    chart_rows = rows[:TOP]
    chart = Chart(
        type="bar",
        labels=[r["group"] for r in chart_rows],
        datasets=[
            Dataset("Cost", [r["cost"] for r in chart_rows]),
            Dataset("Pipeline", [r["pipeline"] for r in chart_rows]),
            Dataset("Won revenue", [r["revenue"] for r in chart_rows]),
            Dataset("ROI (%)", [r[f"roi_{chosen}"] for r in chart_rows], kind="line", axis="y1"),
        ],
        y_label=reporting_currency(),
        y1_label="ROI (%)",
    )
    label = domain.Model(chosen).label
    notes = []
    unpriced = add_up(cell_sums(user, replace(filters, by="source"), ("unpriced",))).get(
        "unpriced", 0
    )
    if unpriced:
        notes.append(
            f"{unpriced} lead(s) have an amount in a currency without an exchange rate: their "
            "money is left out until a rate is entered on the costs page."
        )
    if missing:
        notes.append(
            "Costs in " + ", ".join(missing) + " are left out: they have no exchange rate."
        )
    if filters.team is not None or filters.rep is not None or filters.product is not None:
        notes.append(
            "Costs are per source and campaign: the team, rep and product filters narrow the "
            "leads and revenue, not the cost."
        )
    elif scope(user) is not None:
        notes.append(
            "Costs are per source and campaign, for the whole company: this view counts only "
            "the leads and revenue you may see, so its ROI is lower than the company's."
        )
    cur = reporting_currency()
    return Report(
        slug="source-roi",
        title="Source ROI",
        definition=(
            COHORT,
            "Cost: the cost entries of the source (or campaign), each counted with the share of "
            "its days that fall in the period, in the reporting currency at the fixed rates. "
            "Inquiries: every inquiry received, under its own source and campaign.",
            f"Leads, opportunities, pipeline (opportunity amounts) and won revenue are "
            f"credited under the chosen model ({label}) over each person's touches that carry "
            "a source or campaign (inquiries by form, API or import), up to the lead's close: "
            "first touch gives all to the first, last touch all to the last, linear equal "
            "shares, position-based 40% to the first, 40% to the last and 20% shared by those "
            "between. A lead without such touches is credited to its own source.",
            f"ROI = (won revenue - cost) / cost, per model. Money in {cur}, whole units.",
        ),
        columns=(
            Column("group", by_label(filters.by), "text"),
            Column("cost", f"Cost ({cur})", "money"),
            Column("inquiries", "Inquiries"),
            Column("cost_per_inquiry", f"Cost per inquiry ({cur})", "num"),
            Column("leads", "Leads (credited)", "num"),
            Column("opportunities", "Opportunities (credited)", "num"),
            Column("pipeline", f"Pipeline ({cur}, credited)", "money"),
            Column("revenue", f"Won revenue ({cur}, credited)", "money"),
            *(Column(f"roi_{m.value}", f"ROI, {m.label} (%)", "pct") for m in domain.Model),
        ),
        rows=tuple(rows),
        chart=chart,
        headlines=(
            Headline(f"Cost ({cur})", round(cost_total), "money"),
            Headline(f"Won revenue ({cur})", round(revenue_total[chosen]), "money"),
            Headline(f"ROI ({label})", roi(revenue_total[chosen], cost_total), "pct"),
        ),
        notes=tuple(notes),
        extra={"model": chosen},
    )


def rule_of_45(user: User, filters: Filters) -> Report:
    fields = (
        "leads", "checks", "check_us", "check_competitor", "check_nobody", "check_unknown",
        "nurture_open", "recycled_open",
    )  # fmt: skip
    groups = cell_sums(user, filters, fields)

    def row(label: str, g: dict[str, Any]) -> dict[str, Any]:
        known = g.get("check_us", 0) + g.get("check_competitor", 0) + g.get("check_nobody", 0)
        bought = g.get("check_us", 0) + g.get("check_competitor", 0)
        return {
            "group": label,
            "checks": g.get("checks", 0),
            "us": share(g.get("check_us", 0), known),
            "competitor": share(g.get("check_competitor", 0), known),
            "bought": share(bought, known),
            "nobody": share(g.get("check_nobody", 0), known),
            "unknown": g.get("check_unknown", 0),
            "nurture_open": g.get("nurture_open", 0),
            "recycled_open": g.get("recycled_open", 0),
        }

    order = ordered(filters.by, groups, "checks")
    rows = [row(label, groups[k]) for k, label in order]
    total = row("", add_up(groups))
    shown = [r for r in rows if r["checks"]][:TOP]
    chart = Chart(
        type="bar",
        labels=[r["group"] for r in shown],
        datasets=[
            Dataset("Bought from us (%)", [r["us"] for r in shown], stack="a"),
            Dataset("Bought from a competitor (%)", [r["competitor"] for r in shown], stack="a"),
            Dataset("Did not buy (%)", [r["nobody"] for r in shown], stack="a"),
            Dataset("Rule of 45", [45.0 for _ in shown], kind="line"),
        ],
        y_label="% of answered checks",
        stacked=True,
    )
    return Report(
        slug="rule-of-45",
        title="Rule of 45",
        definition=(
            COHORT,
            "Twelve months after a lead was lost for no decision, closed as no response or "
            "recycled to nurture, marketing asks whether the buyer bought, and from whom (the "
            "outcome check). Shares are of the answered checks with a known answer (us, a "
            "competitor, nobody); 'unknown' answers are counted apart. The Rule of 45: about "
            "45% of such inquiries buy within a year, from someone.",
            "Invisible pipeline: leads still open in marketing nurture; recycled: of those, "
            "the ones sales handed back. They are counted in their inquiry month.",
        ),
        columns=(
            Column("group", by_label(filters.by), "text"),
            Column("checks", "Outcome checks answered"),
            Column("us", "Bought from us (%)", "pct"),
            Column("competitor", "Bought from a competitor (%)", "pct"),
            Column("bought", "Bought within a year (%)", "pct"),
            Column("nobody", "Did not buy (%)", "pct"),
            Column("unknown", "Answer unknown"),
            Column("nurture_open", "Invisible pipeline (open in nurture)"),
            Column("recycled_open", "Of which recycled by sales"),
        ),
        rows=tuple(rows),
        chart=chart,
        headlines=(
            Headline("Bought within a year", total["bought"], "pct", "the Rule of 45: about 45%"),
            Headline("Invisible pipeline (open in nurture)", total["nurture_open"]),
            Headline("Outcome checks answered", total["checks"]),
        ),
    )


def month_range(start: date, end: date) -> list[date]:
    out, m = [], start
    while m <= end:
        out.append(m)
        m = add_months(m, 1)
    return out
