"""Scoring pages for admins: the rules by kind, a rule editor and the temperature matrix, each
with a live preview (htmx) of how many open leads the change would move."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from leadrefinery.accounts.models import User
from leadrefinery.accounts.views import member_view

from . import rules, selectors, services
from .forms import RuleForm, SettingsForm
from .models import ScoringRule


def _admin(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not user.is_admin_role:
        raise PermissionDenied("Only admins edit scoring rules.")
    return user


@member_view
@require_http_methods(["GET"])
def rule_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    rules = list(ScoringRule.objects.order_by("kind", "order", "id"))
    groups = [
        (label, [r for r in rules if r.kind == kind]) for kind, label in ScoringRule.Kind.choices
    ]
    return render(request, "scoring/rule_list.html", {"groups": groups})


def _form_errors(form: Any, exc: services.ScoringRefused) -> None:
    for field, msgs in exc.errors.items():
        target = "conditions_json" if field == "conditions" else field
        for msg in msgs:
            form.add_error(target if target in form.fields else None, msg)


@member_view
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    _admin(request)
    rule = get_object_or_404(ScoringRule, pk=rule_id) if rule_id is not None else None
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            saved = rules.scoring_rule_save(rule=rule, changes=form.changes())
        except services.ScoringRefused as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Rule '{saved.name}' saved; open leads were rescored.")
            return redirect("scoring-rules")
    status = 400 if request.method == "POST" else 200
    return render(request, "scoring/rule_form.html", {"form": form, "rule": rule}, status=status)


@member_view
@require_POST
def rule_preview(request: HttpRequest) -> HttpResponse:
    """The live preview: how many open leads the change in the form would move."""
    _admin(request)
    context: dict[str, Any] = {}
    try:
        if request.POST.get("settings"):
            form: Any = SettingsForm(request.POST, row=selectors.settings_row())
            if form.is_valid():
                context["preview"] = rules.preview(settings_changes=form.changes())
        else:
            rule_id = request.POST.get("rule_id")
            rule = ScoringRule.objects.filter(pk=rule_id).first() if rule_id else None
            form = RuleForm(request.POST, instance=rule)
            if form.is_valid():
                context["preview"] = rules.preview(rule=rule, changes=form.changes())
        if "preview" not in context:
            context["problem"] = "Fix the fields marked in the form to see the effect."
    except services.ScoringRefused as exc:
        context["problem"] = "; ".join(m for msgs in exc.errors.values() for m in msgs)
    return render(request, "scoring/_preview.html", context)


@member_view
@require_http_methods(["GET", "POST"])
def settings_edit(request: HttpRequest) -> HttpResponse:
    _admin(request)
    row = selectors.settings_row()
    form = SettingsForm(request.POST or None, row=row)
    if request.method == "POST" and form.is_valid():
        try:
            rules.scoring_settings_save(changes=form.changes())
        except services.ScoringRefused as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Temperature matrix saved; open leads were rescored.")
            return redirect("scoring-settings")
    status = 400 if request.method == "POST" else 200
    return render(request, "scoring/settings.html", {"form": form}, status=status)
