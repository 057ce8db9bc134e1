"""The rep's Today page (one-click logging, htmx row updates), outcome checks for marketing,
and the cadence editor for admins.

Views parse, call one service or selector, and render. A row action answers with the row
again (still due today) or a one-line "done" row saying what comes next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadrefinery.accounts.models import User
from leadrefinery.accounts.views import member_view
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ConfigRefused, ServiceError
from leadrefinery.leads.access import access_lead, visible_to
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.forms import what_next
from leadrefinery.leads.models import DispositionReason, Lead, Touch
from leadrefinery.leads.services import lead_note_add

from . import access, domain, selectors, services
from .models import CadenceTemplate, OutcomeCheck


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def reason_labels() -> dict[str, str]:
    """Reason codes as people read them (disposition and recycle reasons, hand-back reasons)."""
    return {
        **domain.REJECT_TO_QUEUE_REASONS,
        **dict(DispositionReason.objects.values_list("code", "label")),
    }


def reject_choices() -> list[tuple[str, str]]:
    recycle = DispositionReason.objects.filter(
        stage="nurture", active=True, system_only=False
    ).values_list("code", "label")
    return [
        *(
            (code, f"Back to routing: {label}")
            for code, label in domain.REJECT_TO_QUEUE_REASONS.items()
        ),
        *((code, f"Recycle to marketing: {label}") for code, label in recycle),
    ]


@member_view
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    at = now()
    rows = selectors.today_rows(user, at)
    checks = selectors.open_outcome_checks(user)
    return render(
        request,
        "cadences/today.html",
        {
            "rows": rows,
            "checks": checks,
            "reason_labels": reason_labels() if checks else {},
            "at": at,
            "overdue": sum(1 for r in rows if r.overdue),
            "reject_choices": reject_choices() if any(r.kind == "accept" for r in rows) else [],
            "answers": [(a.value, a.label) for a in domain.Answer],
        },
    )


def _due_at(request: HttpRequest) -> datetime:
    raw = request.POST.get("due_at", "")
    parsed = parse_datetime(raw) if raw else None
    if parsed is None:
        raise ServiceError("give a date and time for the next step", field="due_at")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)  # the user's zone (member_view overrides it)
    return parsed


def _run(request: HttpRequest, action: str, lead_id: int) -> str:
    """Call the service behind ``action``; returns what to tell the rep."""
    user = _user(request)
    actor = Actor.of(user)
    lead = access_lead(user, lead_id)
    note = request.POST.get("note", "").strip()
    if action == "accept":
        lead = services.lead_accept(lead=lead, actor=actor)
        return f"Accepted. First step: {lead.next_action}"
    if action == "reject":
        lead = services.lead_reject(
            lead=lead, actor=actor, reason_code=request.POST.get("reason", ""), note=note
        )
        return f"Rejected: now with {lead.owner_label}"
    if action == "step":
        outcome = request.POST.get("outcome", "")
        enrollment = services.step_complete(lead=lead, actor=actor, outcome=outcome, note=note)
        total = enrollment.template.steps.count()
        done = "Step done" + (f" ({outcome.replace('_', ' ')})" if outcome else "")
        done += f": {enrollment.steps_done} of {total} cadence steps done"
        if not enrollment.running:
            done += ", the cadence stopped"
        return f"{done}. {_what_next(lead.pk)}"
    if action == "meeting":
        logged = services.touch_record(
            lead=lead,
            channel=Touch.Channel.MEETING,
            outcome=Touch.Outcome.MEETING_BOOKED,
            note=note,
            actor=actor,
        )
        return f"{logged.done}. {_what_next(lead.pk)}"
    if action == "replied":
        logged = services.touch_record(
            lead=lead,
            channel=Touch.Channel.EMAIL,
            direction=Touch.Direction.INBOUND,
            outcome=Touch.Outcome.REPLIED,
            note=note,
            actor=actor,
        )
        return f"{logged.done}. {_what_next(lead.pk)}"
    if action == "note":
        lead_note_add(lead=lead, note=note, actor=actor)
        return "Note added"
    if action == "reschedule":
        services.step_reschedule(lead=lead, due_at=_due_at(request), actor=actor, note=note)
        return f"Rescheduled. {_what_next(lead.pk)}"
    raise Http404("No such action")


def _what_next(lead_id: int) -> str:
    return what_next(Lead.objects.get(pk=lead_id))


@member_view
@require_POST
def today_action(request: HttpRequest, lead_id: int, action: str) -> HttpResponse:
    """One click on a Today row. htmx gets the row back; a plain form post goes back to the page
    (or to ``next``, for the buttons on the lead page)."""
    user = _user(request)
    error = ""
    done = ""
    try:
        done = _run(request, action, lead_id)
    except ServiceError as exc:
        error = exc.message
    target = request.POST.get("next", "")
    if not _is_htmx(request):
        (messages.error if error else messages.success)(request, error or done)
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            return redirect(target)
        return redirect(reverse("cadence-today"))
    at = now()
    row = selectors.today_row(user, lead_id, at)
    lead = row.lead if row else None
    if lead is None:
        lead = visible_to(user).select_related("person").filter(pk=lead_id).first()
    context: dict[str, Any] = {
        "row": row,
        "lead": lead,
        "error": error,
        "done": done,
        "at": at,
        "reject_choices": reject_choices() if row and row.kind == "accept" else [],
    }
    template = "cadences/today.html#task-row" if row else "cadences/today.html#task-done"
    return render(request, template, context, status=400 if error and row is None else 200)


@member_view
@require_POST
def outcome_check_answer(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if not selectors.answers_outcome_checks(user):
        raise Http404("No such outcome check")
    check = get_object_or_404(OutcomeCheck, pk=pk)
    try:
        services.outcome_check_record(
            check=check,
            answer=request.POST.get("answer", ""),
            competitor=request.POST.get("competitor", ""),
            note=request.POST.get("note", ""),
            actor=Actor.of(user),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Outcome recorded.")
    return redirect(reverse("cadence-today") + "#outcome-checks")


# --- The cadence editor (admins) ----------------------------------------------------------------


def _editor(request: HttpRequest) -> User:
    user = _user(request)
    if not access.can_edit_cadences(user):
        raise PermissionDenied("Only admins edit cadences.")
    return user


@member_view
@require_GET
def cadence_list(request: HttpRequest) -> HttpResponse:
    _editor(request)
    return render(
        request, "cadences/cadence_list.html", {"templates": selectors.templates_with_steps()}
    )


EXTRA_ROWS = 3
STEP_KEYS = ("day", "channel", "at_time", "title", "instructions", "email_subject", "email_body")


def _posted_steps(request: HttpRequest) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows with a title, in the order given by their day (stable); bad numbers are errors."""
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    count = int(request.POST.get("step_count", "0") or 0)
    for i in range(min(count, 60)):
        raw = {k: request.POST.get(f"step-{i}-{k}", "").strip() for k in STEP_KEYS}
        if not raw["title"]:
            continue
        try:
            day = int(raw["day"] or 0)
        except ValueError:
            errors.append(f"step '{raw['title']}': the day must be a whole number")
            continue
        at_time = None
        if raw["at_time"]:
            try:
                at_time = datetime.strptime(raw["at_time"], "%H:%M").time()
            except ValueError:
                errors.append(f"step '{raw['title']}': the time must look like 09:30")
        rows.append({**raw, "day": day, "at_time": at_time})
    return rows, errors


@member_view
@require_http_methods(["GET", "POST"])
def cadence_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _editor(request)
    template = get_object_or_404(CadenceTemplate, pk=pk) if pk else None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        steps, step_errors = _posted_steps(request)
        changes = {
            "name": request.POST.get("name", "").strip(),
            "description": request.POST.get("description", "").strip(),
            "active": request.POST.get("active") == "on",
            "is_default": request.POST.get("is_default") == "on",
            "end_wait_days": int(request.POST.get("end_wait_days") or 0),
        }
        if step_errors:
            errors = {"steps": step_errors}
        else:
            try:
                saved = services.cadence_template_save(
                    template=template, changes=changes, steps=steps
                )
            except ConfigRefused as exc:
                errors = exc.errors
            else:
                messages.success(request, f"Saved '{saved.name}'.")
                return redirect(reverse("cadence-list"))
        shown = steps
        values = changes
    else:
        shown = (
            [{k: getattr(s, k) for k in STEP_KEYS} for s in selectors.template_steps(template.pk)]
            if template
            else []
        )
        values = {
            "name": template.name if template else "",
            "description": template.description if template else "",
            "active": template.active if template else True,
            "is_default": template.is_default if template else False,
            "end_wait_days": template.end_wait_days if template else 2,
        }
    rows = [*shown, *({"day": "", "channel": "call"} for _ in range(EXTRA_ROWS))]
    return render(
        request,
        "cadences/cadence_form.html",
        {
            "template": template,
            "values": values,
            "rows": rows,
            "errors": errors,
            "channels": [(c.value, c.label) for c in domain.Channel],
            "placeholders": domain.PLACEHOLDERS,
        },
        status=400 if errors else 200,
    )
