"""How a report reads on a page, in its CSV and on the dashboard: one text per cell.

The page's table and the CSV are made from the same :func:`cells`, so they cannot disagree;
the JSON carries the raw values (``domain.cell_text`` of each is the same text, except for
text that a spreadsheet would run as a formula, which both the table and the CSV show with a
leading apostrophe, as the lead export does).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from . import domain

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NO_FIGURE = "\u2013"  # an en dash: no figure (nothing to divide by, no data)


def text(value: Any) -> str:
    """The text of one cell: ``domain.cell_text``, with formula-like text defused. Numbers
    (a negative ROI reads "-35.0") are never changed: only text cells can carry a formula."""
    shown = domain.cell_text(value)
    if isinstance(value, str) and shown.startswith(_FORMULA_START):
        return "'" + shown
    return shown


def header(report: domain.Report) -> list[str]:
    return [text(c.label) for c in report.columns]


def cells(report: domain.Report) -> Iterator[list[str]]:
    """Each row of the table as the texts of its cells, in the columns' order."""
    for row in report.rows:
        yield [text(row.get(c.key)) for c in report.columns]


def csv_text(report: domain.Report) -> str:
    """The report as CSV: the column labels, then one line per table row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header(report))
    writer.writerows(cells(report))
    return out.getvalue()


def csv_filename(slug: str, query: dict[str, str]) -> str:
    return f"{slug}-{query['from']}-{query['to']}.csv"


def figure(value: Any, kind: str, currency: str) -> str:
    """A headline figure for people: "68.9%", "12,500 USD", "240 min", "1,204"; a dash for none.

    Medians past the last bucket come as text (">9600"), read as minutes too."""
    if value is None:
        return NO_FIGURE
    if isinstance(value, str):
        return f"{value} min" if kind == "minutes" else value
    if kind == "pct":
        return f"{value:.1f}%"
    if kind == "money":
        return f"{value:,.0f} {currency}"
    if kind == "minutes":
        return f"{value:,} min" if isinstance(value, int) else f"{value:,.0f} min"
    if kind == "num":
        return f"{value:,.1f}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def headlines(report: domain.Report, currency: str) -> list[dict[str, Any]]:
    return [
        {
            "label": h.label,
            "value": figure(h.value, h.kind, currency),
            "empty": h.value is None,
            "note": h.note,
        }
        for h in report.headlines
    ]


def chart_spec(report: domain.Report) -> dict[str, Any]:
    """The chart as charts.js reads it (the page embeds it with ``json_script``)."""
    spec = asdict(report.chart)
    spec["has_data"] = bool(report.chart.labels) and any(
        v not in (None, 0) for d in report.chart.datasets for v in d.data
    )
    return spec


def table(report: domain.Report) -> dict[str, Any]:
    """Header and rows for the template; numeric columns are marked for right alignment."""
    numeric = [c.kind != "text" for c in report.columns]
    return {
        "header": [
            {"label": label, "numeric": n} for label, n in zip(header(report), numeric, strict=True)
        ],
        "rows": [
            [{"text": t, "numeric": n} for t, n in zip(row, numeric, strict=True)]
            for row in cells(report)
        ],
    }


def filter_errors_body(errors: dict[str, list[str]]) -> dict[str, Any]:
    """Filter errors in the API's 422 shape (``leads.schemas.ValidationErrorOut``)."""
    return {
        "detail": [
            {"loc": ["query", field], "msg": msg, "type": "value_error"}
            for field, msgs in errors.items()
            for msg in msgs
        ],
        "inquiry_id": None,
    }
