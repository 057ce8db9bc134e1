"""The sales reports: funnel, follow-up rate, speed to lead, persistence and touch depth,
dispositions, and the rep scorecard. Each reads the rollups (``tables``) and returns a
``domain.Report``; each report's definition is written here once and shown on its page."""

from __future__ import annotations

import itertools
from typing import Any

from leadrefinery.accounts.models import User
from leadrefinery.common import config
from leadrefinery.leads.models import DispositionReason

from . import domain
from .domain import Chart, Column, Dataset, Headline, Report, share
from .facts import reporting_currency
from .filters import Filters, by_label
from .tables import add_up, bucket_counts, cell_sums, ordered

TOP = 8  # groups drawn in a chart; the table has them all

COHORT = (
    "Leads are counted in the month their first inquiry arrived (UTC), under their source, "
    "campaign and product line, and under their current owner and that owner's team."
)


def _group_column(filters: Filters) -> Column:
    return Column("group", by_label(filters.by), "text")


def _mean(hist: dict[str, int], outcome: str) -> float | None:
    pairs = [(int(k.split(":")[1]), n) for k, n in hist.items() if k.split(":")[0] == outcome]
    total = sum(n for _, n in pairs)
    return round(sum(t * n for t, n in pairs) / total, 1) if total else None


# --- Funnel ------------------------------------------------------------------------------

FUNNEL_STEPS = (
    ("inquiries", "Inquiries"),
    ("leads", "Leads"),
    ("sales_ready", "Sales ready"),
    ("accepted", "Accepted"),
    ("opportunities", "Opportunity"),
    ("won", "Won"),
)


def funnel(user: User, filters: Filters) -> Report:
    fields = tuple(k for k, _ in FUNNEL_STEPS)
    groups = cell_sums(user, filters, fields)
    columns = [_group_column(filters)]
    columns += [Column(k, label) for k, label in FUNNEL_STEPS]
    columns += [
        Column(f"{b}_of_{a}", f"{lb} / {la} (%)", "pct")
        for (a, la), (b, lb) in itertools.pairwise(FUNNEL_STEPS)
    ]
    columns.append(Column("won_of_leads", "Won / Leads (%)", "pct"))

    def row(label: str, g: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"group": label, **{k: g.get(k, 0) for k in fields}}
        for (a, _), (b, _) in itertools.pairwise(FUNNEL_STEPS):
            out[f"{b}_of_{a}"] = share(g.get(b, 0), g.get(a, 0))
        out["won_of_leads"] = share(g.get("won", 0), g.get("leads", 0))
        return out

    order = ordered(filters.by, groups, "leads")
    rows = [row(label, groups[k]) for k, label in order]
    total = add_up(groups)
    chart = Chart(
        type="bar",
        labels=[label for _, label in FUNNEL_STEPS],
        datasets=[
            Dataset(label, [groups[k].get(f, 0) for f in fields]) for k, label in order[:TOP]
        ],
        y_label="leads",
    )
    return Report(
        slug="funnel",
        title="Funnel",
        definition=(
            COHORT,
            "Inquiries: every inquiry received (a repeat inquiry on an open lead counts again). "
            "Leads: each lead once. A stage counts as reached when the lead is in it or past "
            "it, or its timeline shows it was there (a lead recycled to nurture from sales "
            "ready still counts as sales ready). Accepted: the owner accepted it. Merged "
            "leads and leads of an undone import are not counted.",
            "Step conversion is each step divided by the step before it.",
        ),
        columns=tuple(columns),
        rows=tuple(rows),
        chart=chart,
        headlines=(
            Headline("Inquiries", total.get("inquiries", 0)),
            Headline("Leads", total.get("leads", 0)),
            Headline("Won", total.get("won", 0)),
            Headline("Lead to won", share(total.get("won", 0), total.get("leads", 0)), "pct"),
        ),
    )


# --- Follow-up rate ------------------------------------------------------------------------

FOLLOW_FIELDS = ("leads", "touched", *(f"follow_up_{d}d" for d in domain.FOLLOW_UP_DAYS))


def follow_up(user: User, filters: Filters) -> Report:
    groups = cell_sums(user, filters, FOLLOW_FIELDS)

    def row(label: str, g: dict[str, Any]) -> dict[str, Any]:
        leads = g.get("leads", 0)
        out: dict[str, Any] = {"group": label, "leads": leads}
        for d in domain.FOLLOW_UP_DAYS:
            out[f"within_{d}d"] = share(g.get(f"follow_up_{d}d", 0), leads)
        out["never"] = leads - g.get("touched", 0)
        out["never_pct"] = share(out["never"], leads)
        return out

    order = ordered(filters.by, groups, "leads")
    rows = [row(label, groups[k]) for k, label in order]
    total = row("", add_up(groups))
    columns = (
        _group_column(filters),
        Column("leads", "Inquiries (leads)"),
        *(
            Column(f"within_{d}d", f"Followed up within {d} day{'s' if d > 1 else ''} (%)", "pct")
            for d in domain.FOLLOW_UP_DAYS
        ),
        Column("never", "Never followed up"),
        Column("never_pct", "Never followed up (%)", "pct"),
    )
    shown = rows[:TOP] if filters.by != "month" else rows
    chart = Chart(
        type="bar",
        labels=[r["group"] for r in shown],
        datasets=[
            *(
                Dataset(f"Within {d} d (%)", [r[f"within_{d}d"] for r in shown])
                for d in domain.FOLLOW_UP_DAYS
            ),
            Dataset("Never (%)", [r["never_pct"] for r in shown], kind="line"),
        ],
        y_label="% of inquiries",
    )
    return Report(
        slug="follow-up",
        title="Follow-up rate",
        definition=(
            COHORT,
            "Followed up within N days: the first sales touch (an outbound call, email, "
            "meeting or social touch logged by sales, not voided) came at most N x 24 hours "
            "after the inquiry arrived. Never followed up: no sales touch yet. The windows "
            "are wall-clock time, as the buyer waits.",
            "The founding research found that 50% to 90% of inquiries are never followed up.",
        ),
        columns=columns,
        rows=tuple(rows),
        chart=chart,
        headlines=(
            Headline("Followed up within 1 day", total["within_1d"], "pct"),
            Headline("Followed up within 7 days", total["within_7d"], "pct"),
            Headline(
                "Never followed up",
                total["never_pct"],
                "pct",
                f"{total['never']} of {total['leads']}; seeds: 50-90% never are",
            ),
        ),
    )


# --- Speed to lead --------------------------------------------------------------------------


def _speed_label(index: int) -> str:
    edges = domain.SPEED_EDGES
    if index >= len(edges):
        return f"> {_minutes(edges[-1])}"
    return f"<= {_minutes(edges[index])}"


def _minutes(m: int) -> str:
    if m < 60:
        return f"{m} min"
    if m < 480:
        return f"{m / 60:g} h"
    days = m / 480
    return f"{days:g} working day{'' if days == 1 else 's'}"


def _pct_value(minutes: int | None) -> Any:
    if minutes is None:
        return None
    return f">{domain.SPEED_EDGES[-1]}" if minutes < 0 else minutes


def speed_to_lead(user: User, filters: Filters) -> Report:
    groups = cell_sums(user, filters, ("touched", "speed_5m", "speed_1h"))
    hists = bucket_counts(user, filters, "speed")

    def row(label: str, g: dict[str, Any], hist: dict[str, int]) -> dict[str, Any]:
        counts = {int(k): n for k, n in hist.items()}
        touched = g.get("touched", 0)
        return {
            "group": label,
            "touched": touched,
            "median": _pct_value(domain.percentile_minutes(counts, 0.5)),
            "p90": _pct_value(domain.percentile_minutes(counts, 0.9)),
            "within_5m": share(g.get("speed_5m", 0), touched),
            "within_1h": share(g.get("speed_1h", 0), touched),
        }

    order = ordered(filters.by, groups, "touched")
    rows = [row(label, groups[k], hists.get(k, {})) for k, label in order]
    all_hist: dict[str, int] = {}
    for h in hists.values():
        for k, n in h.items():
            all_hist[k] = all_hist.get(k, 0) + n
    total = row("", add_up(groups), all_hist)
    edges = range(len(domain.SPEED_EDGES) + 1)
    chart = Chart(
        type="bar",
        labels=[_speed_label(i) for i in edges],
        datasets=[Dataset("Leads", [all_hist.get(str(i), 0) for i in edges])],
        y_label="leads first touched",
    )
    return Report(
        slug="speed-to-lead",
        title="Speed to lead",
        definition=(
            COHORT,
            "Speed to lead: working time from the inquiry to the first sales touch, in the "
            "owner's working hours and time zone, less holidays (Monday to Friday 09:00-17:00 "
            "UTC for a lead a queue owns). Leads never touched are not in this report (the "
            "follow-up report counts them).",
            "Median and 90th percentile are read from a histogram and shown as the upper edge "
            "of the bucket they fall in (buckets: "
            + ", ".join(_minutes(m) for m in domain.SPEED_EDGES)
            + "); '>9600' means longer than 20 working days.",
        ),
        columns=(
            _group_column(filters),
            Column("touched", "Leads touched"),
            Column("median", "Median (working minutes, at most)", "minutes"),
            Column("p90", "90th percentile (working minutes, at most)", "minutes"),
            Column("within_5m", "Within 5 minutes (%)", "pct"),
            Column("within_1h", "Within 1 hour (%)", "pct"),
        ),
        rows=tuple(rows),
        chart=chart,
        headlines=(
            Headline("Median speed to lead (working minutes)", total["median"], "minutes"),
            Headline("First touch within 5 minutes", total["within_5m"], "pct"),
            Headline("First touch within 1 hour", total["within_1h"], "pct"),
        ),
    )


# --- Persistence and touch depth -------------------------------------------------------------

DEPTH_OUTCOMES = (
    (domain.Outcome.WON, "won"),
    (domain.Outcome.LOST, "lost"),
    (domain.Outcome.NO_RESPONSE, "no response"),
)


def touch_depth(user: User, filters: Filters) -> Report:
    groups = cell_sums(user, filters, ("won", "lost", "no_response", "wins_5_12", "short_closes"))
    hists = bucket_counts(user, filters, "depth")

    def row(label: str, g: dict[str, Any], hist: dict[str, int]) -> dict[str, Any]:
        out: dict[str, Any] = {"group": label}
        for outcome, _ in DEPTH_OUTCOMES:
            out[outcome.value] = g.get(outcome.value, 0)
            out[f"avg_{outcome.value}"] = _mean(hist, outcome.value)
        out["wins_5_12"] = share(g.get("wins_5_12", 0), g.get("won", 0))
        out["short_closes"] = g.get("short_closes", 0)
        return out

    order = ordered(filters.by, groups, "won")
    rows = [row(label, groups[k], hists.get(k, {})) for k, label in order]
    all_hist: dict[str, int] = {}
    for h in hists.values():
        for k, n in h.items():
            all_hist[k] = all_hist.get(k, 0) + n
    total = row("", add_up(groups), all_hist)
    depths = range(domain.DEPTH_CAP + 1)
    chart = Chart(
        type="bar",
        labels=[str(d) if d < domain.DEPTH_CAP else f"{d}+" for d in depths],
        datasets=[
            Dataset(label.capitalize(), [all_hist.get(f"{o.value}:{d}", 0) for d in depths])
            for o, label in DEPTH_OUTCOMES
        ],
        y_label="closed leads",
    )
    columns: list[Column] = [_group_column(filters)]
    for outcome, label in DEPTH_OUTCOMES:
        columns.append(Column(outcome.value, label.capitalize()))
        columns.append(Column(f"avg_{outcome.value}", f"Touches before {label} (mean)", "num"))
    columns.append(Column("wins_5_12", "Wins at touch 5 to 12 (%)", "pct"))
    columns.append(Column("short_closes", "Closed as no response too early"))
    return Report(
        slug="touch-depth",
        title="Persistence and touch depth",
        definition=(
            COHORT,
            "Touches before an outcome: the sales touches logged on the lead up to the moment "
            "it was closed as won, lost (any reason but no response) or no response (a reason "
            "that needs the persistence rule). The chart shows how many leads closed after "
            "each number of touches (21+ is more than 20).",
            "Wins at touch 5 to 12: the share of wins that came after 5 to 12 sales touches; "
            "the founding research found that most sales come on the 5th to 12th contact.",
            "Closed as no response too early: leads closed as no response with fewer sales "
            "touches than the persistence rule asks (REFINERY_PERSISTENCE_MIN_TOUCHES). The "
            "rule refuses such a close, so this should read 0.",
        ),
        columns=tuple(columns),
        rows=tuple(rows),
        chart=chart,
        headlines=(
            Headline("Wins at touch 5 to 12", total["wins_5_12"], "pct"),
            Headline("Touches before no response (mean)", total["avg_no_response"], "num"),
            Headline(
                "Closed as no response too early",
                total["short_closes"],
                "int",
                "should read 0",
            ),
        ),
    )


# --- Dispositions --------------------------------------------------------------------------


def _load_reason_labels() -> dict[str, str]:
    return dict(DispositionReason.objects.values_list("code", "label"))


def reason_labels() -> dict[str, str]:
    """Disposition reasons by code: configuration, read from the per-process cache."""
    return config.get("reports:reasons", _load_reason_labels)


def dispositions(user: User, filters: Filters) -> Report:
    hists = bucket_counts(user, filters, "reason")
    reasons = reason_labels()
    totals = {g: {"closed": sum(h.values())} for g, h in hists.items()}
    order = ordered(filters.by, totals, "closed")
    rows = []
    by_reason: dict[str, int] = {}
    for g, label in order:
        closed = totals[g]["closed"]
        for key, n in sorted(hists[g].items(), key=lambda kv: (-kv[1], kv[0])):
            outcome, code = key.split(":", 1)
            name = reasons.get(code, code)
            by_reason[name] = by_reason.get(name, 0) + n
            rows.append(
                {
                    "group": label,
                    "outcome": domain.Outcome(outcome).label,
                    "reason": name,
                    "leads": n,
                    "share": share(n, closed),
                }
            )
    top = sorted(by_reason, key=lambda r: (-by_reason[r], r))[:TOP]
    won_label = reasons.get("won", "Won")
    not_won = [r for r in top if r != won_label]
    shown = order[:TOP] if filters.by != "month" else order
    chart = Chart(
        type="bar",
        labels=[label for _, label in shown],
        datasets=[
            Dataset(
                reason,
                [
                    sum(
                        n
                        for key, n in hists[g].items()
                        if reasons.get(key.split(":", 1)[1], key.split(":", 1)[1]) == reason
                    )
                    for g, _ in shown
                ],
                stack="reasons",
            )
            for reason in top
        ],
        y_label="closed leads",
        stacked=True,
    )
    closed_total = sum(t["closed"] for t in totals.values())
    return Report(
        slug="dispositions",
        title="Dispositions",
        definition=(
            COHORT,
            "Every closed lead (won, lost, no response, disqualified) with the reason recorded "
            "when it was closed; the share is of the group's closed leads. Open leads are not "
            "counted; leads recycled to nurture are open.",
        ),
        columns=(
            _group_column(filters),
            Column("outcome", "Outcome", "text"),
            Column("reason", "Reason", "text"),
            Column("leads", "Leads"),
            Column("share", "Share of the group's closed leads (%)", "pct"),
        ),
        rows=tuple(rows),
        chart=chart,
        headlines=(
            Headline("Closed leads", closed_total),
            Headline(
                "Most common reason a lead was not won",
                share(by_reason[not_won[0]], closed_total) if not_won else None,
                "pct",
                not_won[0] if not_won else "no lead closed without a win",
            ),
        ),
    )


# --- Rep scorecard ---------------------------------------------------------------------------

REP_FIELDS = (
    "leads", "touched", "follow_up_1d", "speed_5m", "wins_5_12", "short_closes",
    "opportunities", "won", "revenue",
)  # fmt: skip


def reps(user: User, filters: Filters) -> Report:
    groups = cell_sums(user, filters, REP_FIELDS)
    speed = bucket_counts(user, filters, "speed")
    depth = bucket_counts(user, filters, "depth")
    rows = []
    for g, label in ordered("rep", groups, "leads"):
        c = groups[g]
        closes = {k: n for k, n in depth.get(g, {}).items()}
        touches = sum(int(k.split(":")[1]) * n for k, n in closes.items())
        closed = sum(closes.values())
        counts = {int(k): n for k, n in speed.get(g, {}).items()}
        rows.append(
            {
                "group": label,
                "leads": c["leads"],
                "follow_up_1d": share(c["follow_up_1d"], c["leads"]),
                "never": c["leads"] - c["touched"],
                "median": _pct_value(domain.percentile_minutes(counts, 0.5)),
                "within_5m": share(c["speed_5m"], c["touched"]),
                "touches_per_close": round(touches / closed, 1) if closed else None,
                "wins_5_12": share(c["wins_5_12"], c["won"]),
                "short_closes": c["short_closes"],
                "opportunities": c["opportunities"],
                "won": c["won"],
                "conversion": share(c["won"], c["leads"]),
                "revenue": round(c["revenue"] / 100),
            }
        )
    chart = Chart(
        type="bar",
        labels=[r["group"] for r in rows],
        datasets=[
            Dataset("Followed up within 1 day (%)", [r["follow_up_1d"] for r in rows]),
            Dataset("Within 5 minutes (%)", [r["within_5m"] for r in rows]),
            Dataset("Lead to won (%)", [r["conversion"] for r in rows], kind="line"),
        ],
        y_label="%",
    )
    return Report(
        slug="reps",
        title="Rep scorecard",
        definition=(
            COHORT,
            "Per owner: follow-up within 1 day and never followed up (as in the follow-up "
            "report), median working time to the first sales touch and the share within 5 "
            "minutes (speed-to-lead report), sales touches per closed lead (won, lost or no "
            "response) and the share of wins at touch 5 to 12 (touch-depth report), "
            "opportunities, wins, lead-to-won conversion and won revenue in the reporting "
            "currency. A rep sees their own line; a manager the lines of their teams.",
        ),
        columns=(
            Column("group", "Rep", "text"),
            Column("leads", "Leads"),
            Column("follow_up_1d", "Followed up within 1 day (%)", "pct"),
            Column("never", "Never followed up"),
            Column("median", "Median speed (working minutes, at most)", "minutes"),
            Column("within_5m", "Within 5 minutes (%)", "pct"),
            Column("touches_per_close", "Touches per closed lead", "num"),
            Column("wins_5_12", "Wins at touch 5 to 12 (%)", "pct"),
            Column("short_closes", "Closed as no response too early"),
            Column("opportunities", "Opportunities"),
            Column("won", "Won"),
            Column("conversion", "Lead to won (%)", "pct"),
            Column("revenue", f"Won revenue ({reporting_currency()})", "money"),
        ),
        rows=tuple(rows),
        chart=chart,
        headlines=(
            Headline("Reps", len(rows)),
            Headline(
                "Best follow-up within 1 day",
                max(
                    (r["follow_up_1d"] for r in rows if r["follow_up_1d"] is not None), default=None
                ),
                "pct",
                next(
                    (r["group"] for r in sorted(rows, key=lambda r: -(r["follow_up_1d"] or 0))),
                    "",
                ),
            ),
        ),
    )
