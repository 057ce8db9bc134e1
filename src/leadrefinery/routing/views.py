"""Routing pages: the rules in order (edit, create, switch off, test a lead) for admins and
managers, and the team page (availability, weights, caps; deactivate a rep) for everyone:
reps see and set only their own away date there."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from leadrefinery.accounts.models import Role, User
from leadrefinery.accounts.views import member_view
from leadrefinery.common.clock import now
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import queue_is_dead
from leadrefinery.sla import access as sla_access

from . import access, selectors, services
from .forms import AvailabilityForm, PreviewForm, RuleForm
from .models import RoutingRule


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _editor(request: HttpRequest) -> User:
    user = _user(request)
    if not access.can_edit_routing(user):
        raise PermissionDenied("Only admins and managers edit routing rules.")
    return user


def _rule_rows() -> list[dict[str, Any]]:
    return [
        {
            "rule": rule,
            "conditions": selectors.rule_conditions_in_words(rule),
            "target": selectors.rule_target_label(rule),
            # A queue that lost its last member: its leads would wait for nobody.
            "unstaffed": rule.active
            and rule.target_queue is not None
            and queue_is_dead(rule.target_queue),
        }
        for rule in selectors.rules_in_order()
    ]


@member_view
@require_http_methods(["GET"])
def rule_list(request: HttpRequest) -> HttpResponse:
    """The rules in the order they are tried, and a "test a lead" form (GET: no side effects)."""
    _editor(request)
    preview = PreviewForm(request.GET if "test" in request.GET else None)
    decision = None
    if preview.is_bound and preview.is_valid():
        decision = services.routing_preview(preview.lead_fields())
    return render(
        request,
        "routing/rule_list.html",
        {"rows": _rule_rows(), "preview": preview, "decision": decision},
    )


@member_view
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _editor(request)
    rule = get_object_or_404(RoutingRule, pk=pk) if pk is not None else None
    form = RuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            messages.success(request, f"Rule '{saved.name}' saved.")
            return redirect("routing-rules")
    status = 400 if request.method == "POST" else 200
    return render(request, "routing/rule_form.html", {"form": form, "rule": rule}, status=status)


@member_view
@require_POST
def rule_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    _editor(request)
    rule = get_object_or_404(RoutingRule, pk=pk)
    try:
        services.routing_rule_deactivate(rule=rule)
    except services.ConfigRefused:
        messages.error(
            request, "The fallback rule cannot be switched off: every lead needs an owner."
        )
    else:
        messages.success(request, f"Rule '{rule.name}' switched off.")
    return redirect("routing-rules")


# --- Team page ------------------------------------------------------------------------------


def _team_context(request: HttpRequest, failed: AvailabilityForm | None = None) -> dict[str, Any]:
    user = _user(request)
    at = now()
    if user.role == Role.REP and not user.is_admin_role:
        teams = selectors.teams_with_availability(
            at, team_ids={user.team_id} if user.team_id else set()
        )
    else:
        teams = selectors.teams_with_availability(at)
    rows = []
    for team in teams:
        members = []
        for status in team.members:
            editable = sla_access.can_edit_availability(
                user, status.user, sla_access.AVAILABILITY_SELF
            )
            form = None
            if editable:
                form = (
                    failed
                    if failed is not None and failed.member.pk == status.user.pk
                    else AvailabilityForm(member=status.user, editor=user)
                )
            members.append({"status": status, "form": form})
        rows.append({"team": team.team, "members": members})
    return {
        "teams": rows,
        "can_deactivate": user.is_admin_role,
        "at": at,
    }


@member_view
@require_http_methods(["GET"])
def team(request: HttpRequest) -> HttpResponse:
    return render(request, "routing/team.html", _team_context(request))


@member_view
@require_POST
def availability(request: HttpRequest, username: str) -> HttpResponse:
    editor = _user(request)
    member = get_object_or_404(User, username=username)
    if not sla_access.can_edit_availability(editor, member, sla_access.AVAILABILITY_SELF):
        raise Http404("No such user")
    form = AvailabilityForm(request.POST, member=member, editor=editor)
    if form.is_valid() and form.save():
        messages.success(request, f"Availability of {member.username} saved.")
        return redirect("routing-team")
    return render(request, "routing/team.html", _team_context(request, failed=form), status=400)


@member_view
@require_http_methods(["GET", "POST"])
def deactivate(request: HttpRequest, username: str) -> HttpResponse:
    """GET: what deactivating would do to the user's open leads (by the rules, now), with a
    confirm button. POST: deactivate, and say where each group of leads went."""
    editor = _user(request)
    if not editor.is_admin_role:
        raise PermissionDenied("Only admins deactivate users.")
    member = get_object_or_404(User, username=username)
    if member.pk == editor.pk:
        messages.error(request, "You cannot deactivate yourself.")
        return redirect("routing-team")
    if not member.is_active:
        messages.info(request, f"{member.username} is already inactive.")
        return redirect("routing-team")
    if request.method == "GET":
        plan = services.rep_deactivate_preview(user=member)
        return render(request, "routing/deactivate.html", {"member": member, "plan": plan})
    reason = request.POST.get("reason", "").strip()[:200]
    result = services.rep_deactivate(user=member, actor=Actor.of(editor), reason=reason)
    if result.leads:
        messages.success(
            request,
            f"{member.username} is deactivated; {result.leads} open "
            f"lead{'s' if result.leads != 1 else ''} reassigned through the rules: "
            f"{result.summary}.",
        )
    else:
        messages.success(request, f"{member.username} is deactivated; they had no open leads.")
    for warning in result.warnings():
        messages.warning(request, warning)
    return redirect("routing-team")
