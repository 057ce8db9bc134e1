"""The weekly review pages: the manager's home (/review/), a review's agenda (/review/<id>/),
meeting mode (/review/<id>/meet/), decisions, sign-off, a printable view and a CSV export.

Views parse, call one selector or service, and render; every lead read goes through the
viewer's visibility, so a rep sees only their own row and leads."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from typing import Any, cast

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from leadrefinery.accounts.models import Role, User
from leadrefinery.accounts.views import member_view
from leadrefinery.common import spreadsheet
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.access import access_lead
from leadrefinery.leads.models import DispositionReason, Lead, Queue

from . import selectors, services
from .models import Review, ReviewDecision
from .sweep import dead_queue_ids


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _reasons(stage_codes: set[str]) -> list[tuple[str, str]]:
    return list(
        DispositionReason.objects.filter(stage__in=stage_codes, active=True, system_only=False)
        .order_by("stage", "order", "label")
        .values_list("code", "label")
    )


@member_view
@require_GET
def review_home(request: HttpRequest) -> HttpResponse:
    """Per team: each rep's open, overdue, flagged and untouched leads, touches this week,
    leads reviewed in the last 7 days, the coverage, and the next review."""
    user = _user(request)
    at = now()
    teams = []
    for team in selectors.teams_of(user).select_related("manager"):
        rows = selectors.rep_rows(team, user, at)
        open_total = sum(r.open for r in rows)
        reviewed = sum(r.reviewed for r in rows)
        teams.append(
            {
                "team": team,
                "rows": rows,
                "coverage": reviewed / open_total if open_total else None,
                "current": Review.objects.filter(team=team, week_start=selectors.week_start(at))
                .select_related("signed_off_by")
                .first(),
                "past": list(Review.objects.filter(team=team, status=Review.Status.SIGNED_OFF)[:5]),
                "can_run": services.can_run_review(user, team),
            }
        )
    return render(
        request,
        "review/home.html",
        {"teams": teams, "at": at, "unstaffed": selectors.unstaffed_queues(user)},
    )


@member_view
@require_POST
def review_open(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    team = get_object_or_404(selectors.teams_of(user), pk=request.POST.get("team") or 0)
    try:
        review = services.review_open(team=team, actor=user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("review-home")
    return redirect("review-detail", review.pk)


@member_view
@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The agenda: every open lead of each rep, flagged first; with decisions as they are made.
    ``?owner=NAME`` shows one rep's agenda; ``?print=1`` the printable view."""
    user = _user(request)
    review = selectors.access_review(user, pk)
    groups = selectors.agenda(review, user)
    owner = request.GET.get("owner", "")
    if owner:
        groups = [g for g in groups if g.owner == owner]
    items = [i for g in groups for i in g.items]
    context = {
        "review": review,
        "groups": groups,
        "owner": owner,
        "total": len(items),
        "decided": sum(1 for i in items if i.decision is not None),
        "flagged": sum(1 for i in items if i.flags),
        "can_run": services.can_run_review(user, review.team)
        and review.status == Review.Status.OPEN,
        # The team, its manager, and everyone who is not a rep (marketing sits in).
        "attendee_choices": User.objects.filter(is_active=True)
        .filter(Q(team=review.team) | ~Q(role=Role.REP))
        .order_by("username")
        if review.status == Review.Status.OPEN
        else [],
        "attendees": list(review.attendees.order_by("username")),
        "printable": request.GET.get("print") == "1",
    }
    return render(request, "review/detail.html", context)


@member_view
@require_GET
def review_meet(request: HttpRequest, pk: int) -> HttpResponse:
    """Meeting mode: one lead at a time, a decision per lead, keyboard keys for everything."""
    user = _user(request)
    review = selectors.access_review(user, pk)
    items = selectors.agenda_items(review, user)
    if not items:
        messages.info(request, "This review has no leads on its agenda.")
        return redirect("review-detail", review.pk)
    try:
        index = max(0, min(int(request.GET.get("i", "0")), len(items) - 1))
    except ValueError:
        index = 0
    item = items[index]
    lead = Lead.objects.select_related("person", "owner_user", "owner_queue", "source").get(
        pk=item.lead.pk
    )
    tomorrow = timezone.localtime(now() + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    context = {
        "review": review,
        "item": item,
        "lead": lead,
        "index": index,
        "count": len(items),
        "decided": sum(1 for i in items if i.decision is not None),
        "next_index": index + 1 if index + 1 < len(items) else None,
        "prev_index": index - 1 if index > 0 else None,
        "can_run": services.can_run_review(user, review.team)
        and review.status == Review.Status.OPEN,
        "is_open": lead_domain.Stage(lead.stage).is_open,
        "next_stage": services.NEXT_STAGE.get(lead_domain.Stage(lead.stage)),
        "recycle_reasons": _reasons({lead_domain.Stage.NURTURE}),
        "close_reasons": _reasons(
            {lead_domain.Stage.WON, lead_domain.Stage.LOST, lead_domain.Stage.DISQUALIFIED}
        ),
        "reps": User.objects.filter(is_active=True, role=Role.REP).order_by("username"),
        "queues": [q for q in Queue.objects.all() if q.pk not in dead_queue_ids()],
        "default_due": tomorrow.strftime("%Y-%m-%dT%H:%M"),
        "touches": list(lead.touches.select_related("actor").order_by("-occurred_at")[:5]),
    }
    return render(request, "review/meet.html", context)


@member_view
@require_POST
def review_decide(request: HttpRequest, pk: int, lead_id: int) -> HttpResponse:
    user = _user(request)
    review = selectors.access_review(user, pk)
    lead = access_lead(user, lead_id)
    index = request.POST.get("i", "0")
    due_at = None
    if request.POST.get("due_at"):
        try:
            due_at = timezone.make_aware(
                datetime.fromisoformat(request.POST["due_at"]), timezone.get_current_timezone()
            )
        except ValueError:
            messages.error(request, "Give the due time as a date and time.")
            return redirect(f"{reverse('review-meet', args=[review.pk])}?i={index}")
    owner_user = queue = None
    target = request.POST.get("owner", "")
    if target.startswith("user:"):
        owner_user = User.objects.filter(pk=target[5:] or 0, is_active=True).first()
    elif target.startswith("queue:"):
        queue = Queue.objects.filter(pk=target[6:] or 0).first()
    try:
        decision = services.review_decide(
            review=review,
            lead=lead,
            kind=request.POST.get("kind", ""),
            actor=user,
            note=request.POST.get("note", "").strip(),
            next_action=request.POST.get("next_action", ""),
            due_at=due_at,
            reason_code=request.POST.get("reason", ""),
            owner_user=owner_user,
            owner_queue=queue,
        )
    except ServiceError as exc:
        messages.error(request, f"{lead.person.display_name}: {exc.message}")
        return redirect(f"{reverse('review-meet', args=[review.pk])}?i={index}")
    messages.success(request, f"{lead.person.display_name}: {decision.detail}.")
    try:
        following = int(index) + 1
    except ValueError:
        following = 0
    return redirect(f"{reverse('review-meet', args=[review.pk])}?i={following}")


@member_view
@require_POST
def review_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    review = selectors.access_review(user, pk)
    ids = [int(x) for x in request.POST.getlist("attendees") if x.isdigit()]
    attendees = list(User.objects.filter(pk__in=ids))
    try:
        services.review_sign_off(review=review, actor=user, attendees=attendees)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Review signed off. Leads not reached carry over to next week.")
    return redirect("review-detail", review.pk)


@member_view
@require_GET
def review_export(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    review = selectors.access_review(user, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="review-{review.team.name}-{review.week_start}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        [
            "lead_id",
            "name",
            "company",
            "owner",
            "stage",
            "next_action",
            "next_action_due_at",
            "flags",
            "decision",
            "decision_detail",
            "decided_by",
            "decided_at",
        ]
    )
    for item in selectors.agenda_items(review, user):
        d: ReviewDecision | None = item.decision
        writer.writerow(
            _safe(
                [
                    item.lead.pk,
                    item.lead.name,
                    item.lead.company,
                    item.owner,
                    item.lead.stage,
                    item.lead.next_action,
                    item.lead.next_action_due_at.isoformat()
                    if item.lead.next_action_due_at
                    else "",
                    "; ".join(f.label for f in item.flags),
                    d.kind if d else "",
                    d.detail if d else "",
                    d.decided_by.username if d else "",
                    d.decided_at.isoformat() if d else "",
                ]
            )
        )
    return response


def _safe(row: list[Any]) -> list[Any]:
    """Cells a spreadsheet would run as a formula get a leading apostrophe."""
    return [spreadsheet.cell(v) for v in row]
