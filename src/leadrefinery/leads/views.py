"""The staff UI: lead list, lead detail with its timeline and actions, the forms page.

Views parse, call one selector or service, and render. Every read goes through
``visible_to``/``access_lead``, so a lead someone may not see is a 404, never a hint.
Pages work without JavaScript; with htmx, filters and actions swap template partials.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from leadrefinery.accounts.models import User
from leadrefinery.accounts.views import member_view
from leadrefinery.common.clock import now
from leadrefinery.leads.access import access_lead, can_assign, visible_to

from . import domain, events, money, services
from .actors import Actor
from .custom_field_services import custom_field_rows
from .export import csv_lines
from .forms import (
    ACTION_FORMS,
    BULK_ACTIONS,
    BULK_LIMIT,
    AmountForm,
    AssignForm,
    BulkForm,
    BulkResult,
    CustomFieldsForm,
    NextActionForm,
    NoteForm,
    QualificationForm,
    StageForm,
    TouchForm,
    stage_label,
)
from .forms_list import PAGE_SIZE, SORTS, FilterOptions, LeadFilterForm
from .models import DispositionReason, Lead, LeadEvent, StageDefinition
from .selectors import Countdown, first_contact_countdown, latest_assignment_trace


def _user(request: HttpRequest) -> User:
    # member_view has already turned anonymous visitors away.
    return cast(User, request.user)


def _htmx_target(request: HttpRequest) -> str | None:
    """The element an htmx request wants to replace (None for a full page load)."""
    if request.headers.get("HX-Request") != "true" or request.headers.get(
        "HX-History-Restore-Request"
    ):
        return None
    return request.headers.get("HX-Target") or ""


def _definitions() -> dict[str, str]:
    return dict(StageDefinition.objects.values_list("code", "definition"))


# --- Lead list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadRow:
    lead: Lead
    stage: str
    stage_definition: str
    overdue: bool
    sla: Countdown | None = None  # first-contact countdown while the SLA clock runs
    flags: tuple[tuple[str, str], ...] = ()  # hygiene flags (kind, label), most urgent first

    @property
    def company(self) -> str:
        return company_of(self.lead)


def company_of(lead: Lead) -> str:
    """What the person wrote, else the matched account's name."""
    return lead.person.company_name or (lead.account.name if lead.account else "")


@member_view
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = LeadFilterForm(request.GET, user=user, options=FilterOptions.for_user(user))
    leads = filters.filter(visible_to(user))
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    definitions = _definitions()
    at = now()
    flags = events.lead_action("flag_labels")([lead.pk for lead in page.object_list])
    rows = [
        LeadRow(
            lead=lead,
            stage=stage_label(lead.stage),
            stage_definition=definitions.get(lead.stage, ""),
            overdue=domain.is_overdue(lead.next_action_due_at, at),
            sla=first_contact_countdown(lead, at),
            flags=tuple(flags.get(lead.pk, ())),
        )
        for lead in page.object_list
    ]
    context = {
        "filters": filters,
        "page": page,
        "rows": rows,
        "at": at,
        "sorts": _sort_links(filters.sort_value),
        "bulk_form": BulkForm(user=user) if can_assign(user) else None,
        "bulk": request.session.pop("bulk_results", None),
    }
    template = "leads/lead_list.html"
    if _htmx_target(request) == "lead-table":
        template += "#lead-table"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@dataclass(frozen=True)
class SortLink:
    key: str  # the sort parameter this header's link asks for
    label: str
    arrow: str  # "↑"/"↓" on the column the list is sorted by


def _sort_links(current: str) -> dict[str, SortLink]:
    """One link per sortable column: a click sorts by it, a second click reverses it."""
    links = {}
    for name, label in SORTS.items():
        if current.removeprefix("-") == name:
            descending = current.startswith("-")
            links[name] = SortLink(
                name if descending else f"-{name}", label, "↓" if descending else "↑"
            )
        else:
            links[name] = SortLink(name, label, "")
    return links


@member_view
@require_GET
def lead_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV: exactly the leads the list shows this user, every page."""
    user = _user(request)
    filters = LeadFilterForm(request.GET, user=user, options=FilterOptions.for_user(user))
    response = StreamingHttpResponse(
        csv_lines(filters.filter(visible_to(user))), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime(now()).strftime("%Y-%m-%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    return cast(HttpResponse, response)  # streamed; member_view passes it through


@member_view
@require_POST
def lead_bulk(request: HttpRequest) -> HttpResponse:
    """One action on the leads ticked in the list, lead by lead through the single action's
    service: each lead succeeds or is refused on its own, and the list says which and why."""
    user = _user(request)
    if not can_assign(user):
        raise PermissionDenied("Only managers and admins change leads in bulk.")
    back = reverse("lead-list")
    query = request.POST.get("back", "")
    if query.startswith("?"):
        back += query
    form = BulkForm(request.POST, user=user)
    ids = list(dict.fromkeys(int(v) for v in request.POST.getlist("lead") if v.isdigit()))
    if not ids:
        messages.error(request, "Tick the leads to change first.")
        return redirect(back)
    if len(ids) > BULK_LIMIT:
        messages.error(request, f"At most {BULK_LIMIT} leads at a time.")
        return redirect(back)
    if not form.is_valid():
        problems = [str(m) for errors in form.errors.values() for m in errors]
        messages.error(request, " ".join(problems))
        return redirect(back)
    found = {lead.pk: lead for lead in visible_to(user).select_related("person").filter(pk__in=ids)}
    actor = Actor.of(user)
    results = []
    for pk in ids:
        lead = found.get(pk)
        if lead is None:
            results.append(BulkResult(pk, f"Lead {pk}", False, "not found among your leads"))
            continue
        name = lead.person.display_name
        try:
            results.append(BulkResult(pk, name, True, form.run(lead, actor=actor)))
        except services.ServiceError as exc:
            results.append(BulkResult(pk, name, False, exc.message))
    done = sum(r.ok for r in results)
    request.session["bulk_results"] = {
        "summary": f"{dict(BULK_ACTIONS)[form.cleaned_data['action']].rstrip('…')}: "
        f"{done} of {len(results)} lead{'s' if len(results) != 1 else ''} changed"
        + (f", {len(results) - done} refused" if done < len(results) else "")
        + ".",
        "rows": [r.__dict__ for r in results],
    }
    return redirect(back)


# --- Lead detail ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    event: LeadEvent
    title: str
    who: str
    stage_change: str
    reason: str
    details: str


def _event_title(event: LeadEvent) -> str:
    if event.kind == LeadEvent.Kind.CREATED:
        return "Lead created"
    if event.kind == LeadEvent.Kind.DISPOSED:
        return "Closed"
    return event.get_kind_display()


def _event_details(event: LeadEvent) -> str:
    data = event.data or {}
    if event.kind == LeadEvent.Kind.ASSIGNED and data.get("to"):
        before = data.get("from")
        return f"{before} → {data['to']}" if before else f"Owner: {data['to']}"
    if event.kind == LeadEvent.Kind.TOUCH:
        parts = [str(data.get(k, "")).replace("_", " ") for k in ("direction", "channel")]
        if data.get("outcome"):
            parts.append(f"({str(data['outcome']).replace('_', ' ')})")
        return " ".join(p for p in parts if p)
    if event.kind == LeadEvent.Kind.NEXT_ACTION and data.get("due_at"):
        due = datetime.fromisoformat(data["due_at"])
        return "due " + timezone.localtime(due).strftime("%b %d, %H:%M")
    return ""


def _system_label(label: str) -> str:
    # "system:intake:form" reads as "System (intake:form)" to a sales person.
    return f"System ({label.removeprefix('system:')})" if label.startswith("system:") else label


def _reason_label(event: LeadEvent, labels: dict[str, str]) -> str:
    """The reason as people read it: a disposition's label, the label the event carries, or
    nothing for events whose note already says why (nurture entries and exits)."""
    if not event.reason:
        return ""
    if event.reason in labels:
        return labels[event.reason]
    label = (event.data or {}).get("label")
    if label:
        return str(label)
    if event.kind == LeadEvent.Kind.NURTURE:
        return ""
    return event.reason.replace("_", " ").capitalize()


def timeline(lead: Lead) -> list[TimelineItem]:
    reasons = dict(DispositionReason.objects.values_list("code", "label"))
    items = []
    for event in lead.events.select_related("actor").order_by("-occurred_at", "-id"):
        change = ""
        if event.to_stage and event.from_stage:
            change = f"{stage_label(event.from_stage)} → {stage_label(event.to_stage)}"
        elif event.to_stage:
            change = f"Stage: {stage_label(event.to_stage)}"
        items.append(
            TimelineItem(
                event=event,
                title=_event_title(event),
                who=str(event.actor) if event.actor else _system_label(event.actor_label),
                stage_change=change,
                reason=_reason_label(event, reasons),
                details=_event_details(event),
            )
        )
    return items


@dataclass(frozen=True)
class Persistence:
    """Progress toward the persistence rule, in words a rep can act on."""

    touches: int
    min_touches: int
    days: int
    min_days: int
    touches_left: int
    days_left: int

    @property
    def met(self) -> bool:
        return self.touches_left == 0 and self.days_left == 0

    @property
    def summary(self) -> str:
        # Days beyond the minimum read as "56 days (14 needed)", never "56 of 14 days".
        days = (
            f"{self.days} of {self.min_days} days"
            if self.days < self.min_days
            else f"{self.days} day{'s' if self.days != 1 else ''} ({self.min_days} needed)"
        )
        progress = f"{self.touches} of {self.min_touches} touches, {days}"
        if self.met:
            return f"{progress}: 'No response' may be recorded."
        needed = []
        if self.touches_left:
            needed.append(f"{self.touches_left} touch{'es' if self.touches_left != 1 else ''}")
        if self.days_left:
            needed.append(f"{self.days_left} day{'s' if self.days_left != 1 else ''}")
        return f"{progress}: 'No response' is available in {' and '.join(needed)}."


def persistence(lead: Lead, at: datetime) -> Persistence:
    rule = services.persistence_rule()
    touches_left, days_left = rule.remaining(
        touches=lead.sales_touch_count, first_touch_at=lead.first_sales_touch_at, at=at
    )
    days = 0
    if lead.first_sales_touch_at:
        days = int((at - lead.first_sales_touch_at).total_seconds() // 86400)
    return Persistence(
        touches=lead.sales_touch_count,
        min_touches=rule.min_touches,
        days=days,
        min_days=rule.min_days,
        touches_left=touches_left,
        days_left=math.ceil(days_left),
    )


@dataclass(frozen=True)
class DealValue:
    """The lead's money as the page shows it ("12,500.00 EUR"; "" when not set)."""

    expected: str
    won: str
    is_won: bool
    changed: LeadEvent | None  # the latest change, for "updated ... by ..."


def deal_value(lead: Lead) -> DealValue:
    currency = lead.currency or services.reporting_currency()

    def shown(amount: Any) -> str:
        return money.format_amount(amount, currency) if amount is not None else ""

    return DealValue(
        expected=shown(lead.opportunity_amount),
        won=shown(lead.won_amount),
        is_won=lead.stage == domain.Stage.WON,
        changed=lead.events.filter(kind=LeadEvent.Kind.AMOUNT)
        .select_related("actor")
        .order_by("-occurred_at", "-id")
        .first(),
    )


def _lead(user: Any, pk: int) -> Lead:
    lead = access_lead(user, pk)
    # One query for everything the page shows about the lead itself.
    return Lead.objects.select_related(
        "person", "account", "owner_user", "owner_queue", "source", "campaign", "disposition"
    ).get(pk=lead.pk)


def _render_detail(
    request: HttpRequest,
    lead: Lead,
    *,
    failed: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    at = now()
    bound = failed or {}

    def form(name: str, cls: type) -> Any:
        return bound.get(name) or cls(lead=lead, user=user)

    is_open = domain.Stage(lead.stage).is_open
    # A confirmation tagged with its action shows in that action's box, where the user is
    # looking; others show at the top.
    general: list[Any] = []
    by_action: dict[str, list[Any]] = {}
    for message in messages.get_messages(request):
        tags = [t for t in message.extra_tags.split() if t.startswith("action-")]
        if tags:
            by_action.setdefault(tags[0].removeprefix("action-").replace("-", "_"), []).append(
                message
            )
        else:
            general.append(message)
    context = {
        "page_messages": general,
        "action_messages": by_action,
        "lead": lead,
        "person": lead.person,
        "company": company_of(lead),
        "stage": stage_label(lead.stage),
        "stage_definition": _definitions().get(lead.stage, ""),
        "is_open": is_open,
        "overdue": domain.is_overdue(lead.next_action_due_at, at),
        "persistence": persistence(lead, at) if domain.Stage(lead.stage).is_sales else None,
        "sla": first_contact_countdown(lead, at) if is_open else None,
        "why_owner": latest_assignment_trace(lead),
        "at": at,
        "timeline": timeline(lead),
        "touches": list(lead.touches.select_related("actor").order_by("-occurred_at", "-id")),
        "stage_form": form("stage", StageForm) if is_open else None,
        "touch_form": form("touch", TouchForm) if lead.stage != domain.Stage.MERGED else None,
        "note_form": form("note", NoteForm),
        "next_action_form": form("next-action", NextActionForm) if is_open else None,
        "assign_form": form("assign", AssignForm) if is_open and can_assign(user) else None,
        "qualify_form": form("qualify", QualificationForm) if is_open else None,
        "custom_form": form("custom", CustomFieldsForm) if is_open else None,
        "deal": deal_value(lead),
        "amount_form": form("amount", AmountForm) if lead.stage != domain.Stage.MERGED else None,
        "qualified": lead.events.filter(kind=LeadEvent.Kind.QUALIFIED)
        .select_related("actor")
        .order_by("-occurred_at", "-id")
        .first(),
    }
    custom_form = context["custom_form"]
    context["custom_fields"] = custom_field_rows(  # the form's definitions: one read
        lead, custom_form.definitions if custom_form is not None else None
    )
    for name in list(by_action):
        if context.get(f"{name}_form") is None:  # that box is gone (the lead closed)
            general.extend(by_action.pop(name))
    template = "leads/lead_detail.html"
    if _htmx_target(request) == "lead-main":
        template += "#lead-main"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@member_view
@require_GET
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _lead(request.user, pk))


@member_view
@require_POST
def lead_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action form posted: parse it, call its service, then show the lead again."""
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404("No such action")
    lead = _lead(request.user, pk)
    if form_class is AssignForm and not can_assign(request.user):
        raise PermissionDenied("Only managers and admins assign leads.")
    form = form_class(request.POST, lead=lead, user=request.user)
    if form.is_valid():
        try:
            message = form.submit(actor=Actor.of(_user(request)))
        except services.ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, message, extra_tags=f"action-{action}")
            return _after_action(request, pk, action)
    if isinstance(form, StageForm):
        # Validation accepted any offered reason (the service explains a mismatch);
        # the form shown again offers those of the chosen stage.
        form.narrow_reasons(request.POST.get("to_stage"))
    return _render_detail(request, lead, failed={action: form}, status=400)


def _after_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    # A recycle or a reassignment can take the lead out of this user's sight.
    still_visible = visible_to(_user(request)).filter(pk=pk).exists()
    if not still_visible:
        messages.info(request, "The lead now belongs to someone you do not see; it left your list.")
    target = (
        reverse("lead-detail", args=[pk]) + f"#action-{action}"
        if still_visible
        else reverse("lead-list")
    )
    if _htmx_target(request) is not None:
        if still_visible:
            return _render_detail(request, _lead(request.user, pk))
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


@member_view
@require_GET
def lead_reasons(request: HttpRequest, pk: int) -> HttpResponse:
    """The reason select for one target stage (htmx swaps it in when the stage changes)."""
    form = StageForm(lead=_lead(request.user, pk), user=request.user)
    form.narrow_reasons(request.GET.get("to_stage"))
    return render(request, "leads/lead_detail.html#reason-select", {"stage_form": form})
