"""The reports, by slug: their titles, what each page's headline says, how each is built.

Views, the API, the CSV and the dashboard all go through ``build``: one ``domain.Report`` per
request, so that the page, its CSV and its JSON show the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from leadrefinery.accounts.models import User

from . import domain, marketing, sales
from .filters import FilterError, Filters, parse


@dataclass(frozen=True)
class ReportSpec:
    slug: str
    title: str
    summary: str  # one line for the dashboard and the menu
    default_by: str
    bys: tuple[str, ...]
    builder: Callable[[User, Filters], domain.Report]
    months: int = 12  # the default period: this many months up to the current one
    custom: bool = True  # rows by a custom field too (by=field:<name>; custom_group.py)


REPORTS: dict[str, ReportSpec] = {
    spec.slug: spec
    for spec in (
        ReportSpec(
            "funnel",
            "Funnel",
            "Inquiries to won deals, step by step, by month of inquiry.",
            "source",
            ("source", "campaign", "month", "team", "rep", "product"),
            sales.funnel,
        ),
        ReportSpec(
            "follow-up",
            "Follow-up rate",
            "How many inquiries got a sales touch within 1, 3, 7 and 30 days, and how many never.",
            "rep",
            ("rep", "team", "source", "campaign", "month", "product"),
            sales.follow_up,
        ),
        ReportSpec(
            "speed-to-lead",
            "Speed to lead",
            "Working time from inquiry to first sales touch.",
            "rep",
            ("rep", "team", "source", "campaign", "month", "product"),
            sales.speed_to_lead,
        ),
        ReportSpec(
            "touch-depth",
            "Persistence and touch depth",
            "Sales touches before each outcome; wins at touch 5 to 12; closes that gave up early.",
            "rep",
            ("rep", "team", "source", "campaign", "month", "product"),
            sales.touch_depth,
        ),
        ReportSpec(
            "dispositions",
            "Dispositions",
            "Why leads were closed, by source, campaign and rep.",
            "source",
            ("source", "campaign", "rep", "team", "month", "product"),
            sales.dispositions,
        ),
        ReportSpec(
            "source-roi",
            "Source ROI",
            "Cost, pipeline and revenue per source and campaign, under four attribution models.",
            "source",
            ("source", "campaign"),
            marketing.source_roi,
            custom=False,  # credits go to sources and campaigns, not to a lead's fields
        ),
        ReportSpec(
            "rule-of-45",
            "Rule of 45",
            "Did the inquiries we did not win buy within a year, and from whom?",
            "source",
            ("source", "campaign", "month", "team", "rep", "product"),
            marketing.rule_of_45,
            months=24,  # outcome checks come 12 months after a close
        ),
        ReportSpec(
            "reps",
            "Rep scorecard",
            "Follow-up, speed, persistence and conversion per rep, for the weekly review.",
            "rep",
            ("rep",),
            sales.reps,
            custom=False,
        ),
    )
}


def filters_for(slug: str, params: Mapping[str, Any], today: date) -> Filters:
    """The filters of a request to report ``slug`` (FilterError names what is wrong)."""
    spec = REPORTS[slug]
    return parse(
        params,
        today=today,
        default_by=spec.default_by,
        bys=spec.bys,
        months=spec.months,
        custom=spec.custom,
    )


def build(slug: str, user: User, filters: Filters) -> domain.Report:
    return REPORTS[slug].builder(user, filters)


__all__ = ["REPORTS", "FilterError", "ReportSpec", "build", "filters_for"]
