"""The report pages: the index (/reports/), one page per report (/reports/<slug>) with its CSV
and JSON, the dashboard (/dashboard) and the costs page (/reports/costs).

Every page builds its reports through ``catalog.build`` (one ``domain.Report`` per report), so
the table, the CSV, the JSON and the dashboard's figures are the same numbers. Rows are
limited to what the viewer may count inside the builders; all roles may open the reports.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from leadrefinery.accounts.models import User
from leadrefinery.accounts.views import member_view
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ConfigRefused

from . import costs, domain, present, rollup
from .catalog import REPORTS, FilterError, ReportSpec, build, filters_for
from .facts import reporting_currency
from .filters import BY_LABELS, Filters, by_label, choices, custom_bys, parse
from .forms import CostEntryForm, RateForm
from .models import CostEntry, CurrencyRate


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _today() -> date:
    # Report months are UTC months (a lead counts in the UTC month its inquiry arrived).
    return now().astimezone(UTC).date()


def _spec(slug: str) -> ReportSpec:
    spec = REPORTS.get(slug)
    if spec is None:
        raise Http404("No such report.")
    return spec


def _period(filters: Filters) -> dict[str, str]:
    return {"from": f"{filters.start:%Y-%m}", "to": f"{filters.end:%Y-%m}"}


# --- The filter form ------------------------------------------------------------------------

_SELECTS = (
    ("source", "Source", "All"),
    ("campaign", "Campaign", "All"),
    ("team", "Team", "All"),
    ("rep", "Rep", "All"),
    ("product", "Product line", "All"),
)


def filter_fields(
    spec: ReportSpec,
    params: Any,
    filters: Filters | None,
    errors: dict[str, list[str]],
    options: dict[str, list[tuple[str, str]]],
) -> list[dict[str, Any]]:
    """The filter form's fields, each with its current value, options and errors. With
    filters that could not be read, each field shows what was sent, so it can be corrected."""

    def value(name: str) -> str:
        if filters is None or name in errors:
            return str(params.get(name, ""))
        return filters.query().get(name, "")

    fields: list[dict[str, Any]] = [
        {"name": name, "label": label, "type": "month", "value": value(name)}
        for name, label in (("from", "From month"), ("to", "To month"))
    ]
    for name, label, empty in _SELECTS:
        fields.append(
            {
                "name": name,
                "label": label,
                "type": "select",
                "value": value(name),
                "options": [("", empty), *options.get(name, [])],
            }
        )
    fields.append(
        {
            "name": "by",
            "label": "Rows by",
            "type": "select",
            "value": value("by") or spec.default_by,
            "options": [(b, BY_LABELS[b]) for b in spec.bys]
            + (custom_bys() if spec.custom else []),
        }
    )
    if spec.slug == "source-roi":
        chosen = value("model") or domain.Model.LINEAR.value
        fields.append(
            {
                "name": "model",
                "label": "Attribution",
                "type": "select",
                "value": chosen,
                "options": [(m.value, m.label) for m in domain.Model],
            }
        )
    for field in fields:
        field["errors"] = errors.get(field["name"], [])
        field["id"] = f"filter-{field['name']}"
    return fields


# --- Report pages ------------------------------------------------------------------------


@member_view
@require_GET
def report_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "reports/index.html",
        {
            "reports": list(REPORTS.values()),
            "can_manage_costs": costs.can_manage_costs(request.user),
        },
    )


@member_view
@require_GET
def report_page(request: HttpRequest, slug: str) -> HttpResponse:
    """One report: filters, headline figures, chart, table, CSV and JSON links, definition.
    Filters that cannot be read answer 400 with the form and each field's error."""
    spec = _spec(slug)
    user = _user(request)
    errors: dict[str, list[str]] = {}
    filters: Filters | None
    try:
        filters = filters_for(slug, request.GET, _today())
    except FilterError as exc:
        filters, errors = None, exc.errors
    context: dict[str, Any] = {
        "spec": spec,
        "reports": list(REPORTS.values()),
        "fields": filter_fields(spec, request.GET, filters, errors, choices(user)),
        "errors": errors,
        "pending": rollup.pending(),
        "can_manage_costs": costs.can_manage_costs(user),
        # The other reports open on the same period when one was chosen.
        "period_query": urlencode(_period(filters))
        if filters is not None and ("from" in request.GET or "to" in request.GET)
        else "",
    }
    if filters is not None:
        report = build(slug, user, filters)
        query = urlencode(filters.query())
        context.update(
            report=report,
            period=filters.period_label(),
            by_label=by_label(filters.by),
            headlines=present.headlines(report, reporting_currency()),
            chart=present.chart_spec(report),
            table=present.table(report),
            csv_url=f"{reverse('report-csv', args=[slug])}?{query}",
            json_url=f"{reverse('report-json', args=[slug])}?{query}",
            api_path=f"/api/v1/reports/{slug}?{query}",
        )
    return render(request, "reports/report.html", context, status=400 if errors else 200)


@member_view
@require_GET
def report_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The table as CSV: the same cell texts as the page's table, with the same filters."""
    _spec(slug)
    try:
        filters = filters_for(slug, request.GET, _today())
    except FilterError as exc:
        lines = [f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items()]
        return HttpResponse(
            "\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8"
        )
    report = build(slug, _user(request), filters)
    response = HttpResponse(present.csv_text(report), content_type="text/csv; charset=utf-8")
    name = present.csv_filename(slug, filters.query())
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@member_view
@require_GET
def report_json(request: HttpRequest, slug: str) -> HttpResponse:
    """What GET /api/v1/reports/<slug> answers, for the logged-in user (the page's link)."""
    _spec(slug)
    try:
        filters = filters_for(slug, request.GET, _today())
    except FilterError as exc:
        return JsonResponse(present.filter_errors_body(exc.errors), status=422)
    report = build(slug, _user(request), filters)
    return JsonResponse({**report.as_json(), "filters": filters.query()})


@member_view
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every report's headline figures for one period (the last 12 months by default), each
    card linking into its report for that period. One build per report.

    Without a chosen period each report keeps its own default (the Rule of 45 looks back 24
    months: its answers come a year after the close), and its card says so."""
    user = _user(request)
    chosen = {k: request.GET[k] for k in ("from", "to") if request.GET.get(k)}
    currency = reporting_currency()
    cards: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    shown: Filters | None = None
    try:
        shown = parse(chosen, today=_today())
    except FilterError as exc:
        errors = exc.errors
    if shown is not None:
        for slug, spec in REPORTS.items():
            filters = filters_for(slug, chosen, _today())
            report = build(slug, user, filters)
            query = f"?{urlencode(_period(filters))}" if chosen else ""
            cards.append(
                {
                    "spec": spec,
                    "headlines": present.headlines(report, currency),
                    "url": f"{reverse('report-page', args=[slug])}{query}",
                    "period": filters.period_label()
                    if (filters.start, filters.end) != (shown.start, shown.end)
                    else "",
                }
            )
    values = _period(shown) if shown is not None else chosen
    context = {
        "cards": cards,
        "errors": errors,
        "period": shown.period_label() if shown is not None else "",
        "fields": [
            {
                "name": name,
                "id": f"filter-{name}",
                "label": label,
                "value": values.get(name, ""),
                "errors": errors.get(name, []),
            }
            for name, label in (("from", "From month"), ("to", "To month"))
        ],
        "pending": rollup.pending(),
        "reports": list(REPORTS.values()),
        "can_manage_costs": costs.can_manage_costs(user),
        "period_query": urlencode(_period(shown)) if shown is not None and chosen else "",
    }
    return render(request, "reports/dashboard.html", context, status=400 if errors else 200)


# --- Costs and exchange rates ---------------------------------------------------------------


def _cost_manager(request: HttpRequest) -> User:
    user = _user(request)
    if not costs.can_manage_costs(user):
        raise PermissionDenied("Costs and exchange rates are kept by marketers and admins.")
    return user


def _costs_context(
    request: HttpRequest,
    *,
    form: CostEntryForm | None = None,
    rate_form: RateForm | None = None,
) -> dict[str, Any]:
    currency = reporting_currency()
    entries = CostEntry.objects.select_related("source", "campaign", "created_by").order_by(
        "-starts_on", "-id"
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return {
        "form": form or CostEntryForm(reporting=currency),
        "rate_form": rate_form or RateForm(),
        "page": page,
        "rates": [
            {"currency": r.currency, "rate": f"{r.rate.normalize():f}", "updated_at": r.updated_at}
            for r in CurrencyRate.objects.order_by("currency")
        ],
        "currency": currency,
    }


def _refused(form: CostEntryForm | RateForm, exc: ConfigRefused) -> None:
    for field, msgs in exc.errors.items():
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)


@member_view
@require_GET
def costs_page(request: HttpRequest) -> HttpResponse:
    _cost_manager(request)
    return render(request, "reports/costs.html", _costs_context(request))


@member_view
@require_POST
def cost_add(request: HttpRequest) -> HttpResponse:
    user = _cost_manager(request)
    form = CostEntryForm(request.POST, reporting=reporting_currency())
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = costs.cost_entry_create(
                source=data["source"],
                campaign=data["campaign"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                amount=data["amount"],
                currency=data["currency"],
                note=data["note"],
                actor=user,
            )
        except ConfigRefused as exc:
            _refused(form, exc)
        else:
            messages.success(
                request,
                f"Recorded {entry.amount:,} {entry.currency or reporting_currency()} "
                f"on {entry.source.name} from {entry.starts_on} to {entry.ends_on}.",
            )
            return redirect("report-costs")
    context = _costs_context(request, form=form)
    return render(request, "reports/costs.html", context, status=400)


@member_view
@require_POST
def cost_void(request: HttpRequest, pk: int) -> HttpResponse:
    user = _cost_manager(request)
    entry = get_object_or_404(CostEntry, pk=pk)
    costs.cost_entry_void(entry=entry, actor=user)
    messages.success(
        request,
        f"Voided the cost on {entry.source.name} from {entry.starts_on}: "
        "it no longer counts in the reports.",
    )
    return redirect("report-costs")


@member_view
@require_POST
def rate_set(request: HttpRequest) -> HttpResponse:
    user = _cost_manager(request)
    form = RateForm(request.POST)
    if form.is_valid():
        try:
            row = costs.currency_rate_set(
                currency=form.cleaned_data["currency"], rate=form.cleaned_data["rate"], actor=user
            )
        except ConfigRefused as exc:
            _refused(form, exc)
        else:
            messages.success(
                request,
                f"1 {row.currency} = {row.rate.normalize():f} {reporting_currency()}. Lead "
                "amounts in this currency are counted again within a minute.",
            )
            return redirect("report-costs")
    context = _costs_context(request, rate_form=form)
    return render(request, "reports/costs.html", context, status=400)
