"""The Webhooks page (administrators): endpoints, registering one, and the delivery log.

The signing secret appears once, in the answer to the POST that created the endpoint (not
through a redirect and the session), and never again.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from leadrefinery.accounts.models import User
from leadrefinery.accounts.views import member_view

from . import webhooks
from .models import OutboxMessage, WebhookEndpoint


def _admin(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not user.is_admin_role:
        raise PermissionDenied("Only administrators manage webhooks.")
    return user


def _page(request: HttpRequest, **extra: Any) -> HttpResponse:
    endpoints = webhooks.endpoint_list()
    selected = None
    wanted = request.GET.get("endpoint", "")
    if wanted.isdigit():
        selected = next((e for e in endpoints if e.pk == int(wanted)), None)
    waiting = OutboxMessage.objects.filter(
        kind=OutboxMessage.Kind.WEBHOOK,
        status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED],
    ).aggregate(
        pending=Count("pk", filter=Q(status=OutboxMessage.Status.PENDING)),
        failed=Count("pk", filter=Q(status=OutboxMessage.Status.FAILED)),
    )
    context = {
        "endpoints": endpoints,
        "selected": selected,
        "deliveries": webhooks.delivery_log(selected),
        "events": webhooks.EVENTS,
        "waiting": waiting,
        "form": {"url": "", "description": "", "events": []},
        "errors": {},
        **extra,
    }
    return render(request, "notifications/webhooks.html", context, status=extra.get("status", 200))


@member_view
@require_http_methods(["GET", "POST"])
def webhook_page(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    if request.method == "GET":
        return _page(request)
    url = request.POST.get("url", "").strip()
    description = request.POST.get("description", "").strip()
    events = request.POST.getlist("events")
    form = {"url": url, "description": description, "events": events}
    try:
        created = webhooks.webhook_create(
            url=url, events=events, description=description, created_by=user
        )
    except webhooks.WebhookError as exc:
        return _page(request, form=form, errors={exc.field: exc.message}, status=400)
    return _page(request, created=created)


@member_view
@require_POST
def webhook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    _admin(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    active = request.POST.get("active") == "1"
    webhooks.webhook_update(endpoint, active=active)
    messages.success(
        request,
        f"{endpoint.url} is {'active again' if active else 'deactivated: nothing more is sent to it'}.",
    )
    return redirect("webhook-page")
