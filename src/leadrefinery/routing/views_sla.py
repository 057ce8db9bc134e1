"""SLA policy pages for admins and managers: the policies in the order they are tried, and an
editor. The API has the same operations (/api/v1/sla-policies)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from leadrefinery.accounts.views import member_view
from leadrefinery.sla.models import SlaPolicy

from .forms_sla import SlaPolicyForm
from .views import _editor


@member_view
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    _editor(request)
    policies = SlaPolicy.objects.select_related("source").order_by("-active", "order", "id")
    return render(request, "routing/sla_list.html", {"policies": list(policies)})


@member_view
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _editor(request)
    policy = get_object_or_404(SlaPolicy, pk=pk) if pk is not None else None
    form = SlaPolicyForm(request.POST if request.method == "POST" else None, policy=policy)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            messages.success(request, f"SLA policy '{saved.name}' saved.")
            return redirect("sla-policies")
    status = 400 if request.method == "POST" else 200
    return render(request, "routing/sla_form.html", {"form": form, "policy": policy}, status=status)
