"""Reporting, pure: a lead's facts, what they add to the rollups, attribution, percentiles
from histograms, and the shape every report has.

No Django, no clock. ``reports.facts`` reads the raw rows into a :class:`Fact`;
:func:`contributions` turns a fact into the numbers it adds to each rollup row; the sweep
applies the difference between a lead's old and new contributions. A rollup therefore always
equals the sum of the contributions of the current facts (the property tests check it).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

# Upper edges (working minutes) of the speed-to-lead histogram; the last bucket is "longer".
# Fine below an hour (where the 5-minute and 1-hour marks are), coarser after.
SPEED_EDGES: tuple[int, ...] = (
    1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480,
    720, 960, 1440, 2400, 4800, 9600,
)  # fmt: skip
FOLLOW_UP_DAYS: tuple[int, ...] = (1, 3, 7, 30)
DEPTH_CAP = 21  # touches are counted one by one up to 20; "21" stands for "more than 20"
PERSISTENT_WINS = (5, 12)  # the seeds: most sales come on the 5th to 12th contact


class Outcome(StrEnum):
    OPEN = ""
    WON = "won"
    LOST = "lost"
    NO_RESPONSE = "no_response"
    DISQUALIFIED = "disqualified"

    @property
    def label(self) -> str:
        return {
            "": "Open",
            "won": "Won",
            "lost": "Lost",
            "no_response": "No response",
            "disqualified": "Disqualified",
        }[self.value]


class Model(StrEnum):
    """Attribution models over a person's touches that carry a source or campaign."""

    FIRST = "first"
    LAST = "last"
    LINEAR = "linear"
    POSITION = "position"

    @property
    def label(self) -> str:
        return {
            "first": "First touch",
            "last": "Last touch",
            "linear": "Linear",
            "position": "Position-based (40/20/40)",
        }[self.value]


CHECK_ANSWERS = ("us", "competitor", "nobody", "unknown")


@dataclass(frozen=True)
class Dims:
    """Where a lead is counted: the month its inquiry arrived (UTC), its source and campaign,
    its owner (a rep, or 0 for a queue) and the owner's team, its product line. 0 and ""
    stand for "none" so that the rollups' unique keys work on every database."""

    month: date
    source: int
    campaign: int = 0
    user: int = 0
    team: int = 0
    product: str = ""

    def key(self) -> tuple[Any, ...]:
        return (self.month, self.source, self.campaign, self.user, self.team, self.product)


@dataclass(frozen=True)
class Credit:
    """A share (weight, summing to 1 over a lead) of a lead credited to a source/campaign."""

    model: str
    source: int
    campaign: int
    weight: float


@dataclass(frozen=True)
class Fact:
    """What the reports count of one lead. ``counted`` is False for a merged lead (its
    survivor carries the history) and for a lead whose import was undone."""

    dims: Dims
    counted: bool = True
    inquiries: int = 1
    sales_ready: bool = False
    accepted: bool = False
    opportunity: bool = False
    outcome: str = Outcome.OPEN
    reason: str = ""
    follow_up_seconds: int | None = None  # wall clock, inquiry to first sales touch
    speed_seconds: int | None = None  # working time, inquiry to first sales touch
    touches_at_close: int = 0
    short_close: bool = False  # closed as no response before the persistence rule was met
    pipeline: int = 0  # cents of the reporting currency, once an opportunity
    revenue: int = 0  # cents, once won
    unpriced: bool = False  # an amount in a currency without an exchange rate (left out)
    nurture_open: bool = False
    recycled_open: bool = False
    check: str = ""  # the latest answered outcome check (Rule of 45)
    credits: tuple[Credit, ...] = ()
    inquiry_sources: tuple[tuple[int, int, int], ...] = ()  # (source, campaign, inquiries)

    def to_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in _PLAIN_FIELDS}
        d = self.dims
        out["dims"] = {
            "month": d.month.isoformat(),
            "source": d.source,
            "campaign": d.campaign,
            "user": d.user,
            "team": d.team,
            "product": d.product,
        }
        out["credits"] = [[c.model, c.source, c.campaign, c.weight] for c in self.credits]
        out["inquiry_sources"] = [list(s) for s in self.inquiry_sources]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fact:
        data = dict(data)
        dims = dict(data.pop("dims"))
        dims["month"] = date.fromisoformat(dims["month"])
        credits = tuple(Credit(*c) for c in data.pop("credits", ()))
        sources = tuple(tuple(s) for s in data.pop("inquiry_sources", ()))
        return cls(dims=Dims(**dims), credits=credits, inquiry_sources=sources, **data)  # type: ignore[arg-type]


_PLAIN_FIELDS = tuple(
    name for name in Fact.__dataclass_fields__ if name not in ("dims", "credits", "inquiry_sources")
)

# ---------------------------------------------------------------------------------------
# Contributions: what one fact adds to each rollup row.

CELL_COUNTERS: tuple[str, ...] = (
    "leads", "inquiries", "sales_ready", "accepted", "opportunities", "won", "lost",
    "no_response", "disqualified", "open", "touched", "follow_up_1d", "follow_up_3d",
    "follow_up_7d", "follow_up_30d", "speed_5m", "speed_1h", "short_closes", "wins_5_12",
    "pipeline", "revenue", "nurture_open", "recycled_open", "checks", "check_us",
    "check_competitor", "check_nobody", "check_unknown", "unpriced",
)  # fmt: skip
CREDIT_COUNTERS: tuple[str, ...] = ("inquiries", "leads", "opportunities", "pipeline", "revenue")

# A contribution: {(table, *key): {column: amount}}; tables are "cell", "bucket", "credit".
Contribution = dict[tuple[Any, ...], dict[str, float]]


def speed_bucket(seconds: int) -> int:
    """Index of the histogram bucket of a working time (len(SPEED_EDGES) is "longer")."""
    return bisect.bisect_left(SPEED_EDGES, seconds / 60)


def depth_key(outcome: str, touches: int) -> str:
    return f"{outcome}:{min(max(touches, 0), DEPTH_CAP)}"


def contributions(fact: Fact | None) -> Contribution:
    """The numbers a lead adds to the rollups (nothing for no fact or an uncounted lead)."""
    if fact is None or not fact.counted:
        return {}
    dims = fact.dims.key()
    outcome = fact.outcome
    won = outcome == Outcome.WON
    follow = fact.follow_up_seconds
    cell: dict[str, float] = {
        "leads": 1,
        "inquiries": fact.inquiries,
        "sales_ready": int(fact.sales_ready),
        "accepted": int(fact.accepted),
        "opportunities": int(fact.opportunity),
        "won": int(won),
        "lost": int(outcome == Outcome.LOST),
        "no_response": int(outcome == Outcome.NO_RESPONSE),
        "disqualified": int(outcome == Outcome.DISQUALIFIED),
        "open": int(outcome == Outcome.OPEN),
        "touched": int(follow is not None),
        "speed_5m": int(fact.speed_seconds is not None and fact.speed_seconds <= 300),
        "speed_1h": int(fact.speed_seconds is not None and fact.speed_seconds <= 3600),
        "short_closes": int(fact.short_close),
        "wins_5_12": int(won and PERSISTENT_WINS[0] <= fact.touches_at_close <= PERSISTENT_WINS[1]),
        "pipeline": fact.pipeline,
        "revenue": fact.revenue,
        "nurture_open": int(fact.nurture_open),
        "recycled_open": int(fact.recycled_open),
        "checks": int(fact.check in CHECK_ANSWERS),
        "unpriced": int(fact.unpriced),
    }
    for days in FOLLOW_UP_DAYS:
        cell[f"follow_up_{days}d"] = int(follow is not None and follow <= days * 86400)
    for answer in CHECK_ANSWERS:
        cell[f"check_{answer}"] = int(fact.check == answer)
    out: Contribution = {("cell", *dims): {k: v for k, v in cell.items() if v}}
    if fact.speed_seconds is not None:
        out[("bucket", "speed", *dims, str(speed_bucket(fact.speed_seconds)))] = {"n": 1}
    if outcome in (Outcome.WON, Outcome.LOST, Outcome.NO_RESPONSE):
        out[("bucket", "depth", *dims, depth_key(outcome, fact.touches_at_close))] = {"n": 1}
    if outcome != Outcome.OPEN and fact.reason:
        out[("bucket", "reason", *dims, f"{outcome}:{fact.reason}")] = {"n": 1}
    rest = dims[3:]
    for credit in fact.credits:
        key = ("credit", credit.model, fact.dims.month, credit.source, credit.campaign, *rest)
        row = out.setdefault(key, {})
        w = credit.weight
        row["leads"] = row.get("leads", 0) + w
        if fact.opportunity:
            row["opportunities"] = row.get("opportunities", 0) + w
        if fact.pipeline:
            row["pipeline"] = row.get("pipeline", 0) + w * fact.pipeline
        if won and fact.revenue:
            row["revenue"] = row.get("revenue", 0) + w * fact.revenue
    for source, campaign, n in fact.inquiry_sources:
        for model in Model:
            key = ("credit", model.value, fact.dims.month, source, campaign, *rest)
            row = out.setdefault(key, {})
            row["inquiries"] = row.get("inquiries", 0) + n
    return out


# ---------------------------------------------------------------------------------------
# Grains: each rollup is kept at more than one grain, so that a report reads a few hundred
# rows where it can. "f" (full) has every dimension; "s" only month, source and campaign (the
# marketer's and the admin's questions); "o" only month, owner and team (the rep scorecard,
# a manager's view). A coarse row is the sum of the full rows it stands for; the dimensions it
# does not have read 0 and "". Credits (always asked per source or campaign) have no "o".

DIM_NAMES = ("month", "source", "campaign", "user", "team", "product")
GRAINS: dict[str, frozenset[str]] = {
    "s": frozenset({"month", "source", "campaign"}),
    "o": frozenset({"month", "user", "team"}),
    "f": frozenset(DIM_NAMES),
}
_NONE = (None, 0, 0, 0, 0, "")
_GRAINS_OF = {"cell": ("s", "o", "f"), "bucket": ("s", "o", "f"), "credit": ("s", "f")}


def grain_for(table: str, dims: Iterable[str]) -> str:
    """The coarsest grain of ``table`` that has every dimension in ``dims``."""
    needed = set(dims) | {"month"}
    for grain in _GRAINS_OF[table]:
        if needed <= GRAINS[grain]:
            return grain
    return "f"


def _project(dims: Sequence[Any], grain: str) -> tuple[Any, ...]:
    kept = GRAINS[grain]
    return tuple(v if n in kept else z for n, v, z in zip(DIM_NAMES, dims, _NONE, strict=True))


def grained(contrib: Contribution) -> Contribution:
    """A contribution (keys with the six dimensions) at every grain: the grain goes in front
    of the dimensions, as in the rollup tables' keys."""
    out: Contribution = {}
    for key, cols in contrib.items():
        table = key[0]
        lead = 2 if table in ("bucket", "credit") else 1  # kind or model before the dims
        head, dims, tail = key[:lead], key[lead : lead + 6], key[lead + 6 :]
        for grain in _GRAINS_OF[table]:
            row = out.setdefault((*head, grain, *_project(dims, grain), *tail), {})
            for c, v in cols.items():
                row[c] = row.get(c, 0) + v
    return out


def difference(old: Contribution, new: Contribution) -> Contribution:
    """new - old, row by row and column by column, without the zeros."""
    out: Contribution = {}
    for key in old.keys() | new.keys():
        before, after = old.get(key, {}), new.get(key, {})
        delta = {c: after.get(c, 0) - before.get(c, 0) for c in before.keys() | after.keys()}
        delta = {c: v for c, v in delta.items() if v}
        if delta:
            out[key] = delta
    return out


def total(contribs: Iterable[Contribution]) -> Contribution:
    """The sum of many contributions (a rollup recomputed from scratch)."""
    out: dict[tuple[Any, ...], dict[str, float]] = defaultdict(dict)
    for contrib in contribs:
        for key, cols in contrib.items():
            row = out[key]
            for c, v in cols.items():
                row[c] = row.get(c, 0) + v
    return dict(out)


# ---------------------------------------------------------------------------------------
# Attribution.


def attribution(touches: Sequence[tuple[int, int]]) -> tuple[Credit, ...]:
    """Credits of a lead under each model, from the ordered (source, campaign) of the
    person's touches that carry one (oldest first). Weights of one model sum to 1.

    - first: all to the first touch; last: all to the last;
    - linear: equal shares;
    - position (40/20/40): 40% first, 40% last, 20% shared by the touches between; with
      two touches 50/50, with one 100%.
    """
    n = len(touches)
    if n == 0:
        return ()
    weights: dict[str, list[float]] = {
        Model.FIRST: [1.0] + [0.0] * (n - 1),
        Model.LAST: [0.0] * (n - 1) + [1.0],
        Model.LINEAR: [1.0 / n] * n,
    }
    if n == 1:
        weights[Model.POSITION] = [1.0]
    elif n == 2:
        weights[Model.POSITION] = [0.5, 0.5]
    else:
        middle = 0.2 / (n - 2)
        weights[Model.POSITION] = [0.4] + [middle] * (n - 2) + [0.4]
    credits: list[Credit] = []
    for model in Model:
        summed: dict[tuple[int, int], float] = defaultdict(float)
        for touch, w in zip(touches, weights[model], strict=True):
            if w:
                summed[touch] += w
        credits.extend(
            Credit(model.value, s, c, round(w, 9)) for (s, c), w in sorted(summed.items())
        )
    return tuple(credits)


# ---------------------------------------------------------------------------------------
# Reading histograms.


def percentile_minutes(counts: dict[int, int], q: float) -> int | None:
    """The upper edge (working minutes) of the speed bucket holding the q-quantile; None for
    no data, -1 for the open-ended last bucket ("longer than the last edge")."""
    n = sum(counts.values())
    if n == 0:
        return None
    rank = q * n
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            return SPEED_EDGES[index] if index < len(SPEED_EDGES) else -1
    return -1


def share(part: float, whole: float) -> float | None:
    """A percentage with one decimal; None when there is nothing to divide by."""
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


def roi(revenue: float, cost: float) -> float | None:
    """(revenue - cost) / cost as a percentage; None without a cost."""
    if not cost:
        return None
    return round(100.0 * (revenue - cost) / cost, 1)


# ---------------------------------------------------------------------------------------
# The shape of a report: one object gives the page's table, chart and headline figures, its
# CSV and its JSON, so that the three cannot disagree.


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # with its unit, e.g. "Follow-up within 1 day (%)"
    kind: str = "int"  # text | int | num | pct | money | minutes


@dataclass(frozen=True)
class Dataset:
    label: str
    data: list[float | None]
    kind: str = "bar"  # bar | line
    axis: str = "y"  # y | y1 (a second axis on the right)
    stack: str | None = None


@dataclass(frozen=True)
class Chart:
    type: str  # bar | line
    labels: list[str]
    datasets: list[Dataset]
    y_label: str = ""
    y1_label: str = ""
    stacked: bool = False
    horizontal: bool = False


@dataclass(frozen=True)
class Headline:
    label: str
    value: float | int | None
    kind: str = "int"
    note: str = ""


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    definition: tuple[str, ...]  # paragraphs: what counts, which time, which attribution
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]  # values already rounded as shown: the CSV is str(value)
    chart: Chart
    headlines: tuple[Headline, ...] = ()
    notes: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.slug,
            "title": self.title,
            "definition": list(self.definition),
            "columns": [asdict(c) for c in self.columns],
            "rows": [dict(r) for r in self.rows],
            "headlines": [asdict(h) for h in self.headlines],
            "chart": asdict(self.chart),
            "notes": list(self.notes),
        }


def cell_text(value: Any) -> str:
    """How a value reads in the table and in the CSV (the same text in both)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
