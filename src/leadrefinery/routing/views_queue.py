"""The qualifying center in the UI: the queues you belong to, and a "Next lead" button.

Views parse, call ``routing.pull`` and render; the order and the locking live there.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from leadrefinery.accounts.models import Role, User
from leadrefinery.accounts.views import member_view
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.models import Queue

from .pull import queue_pull, queues_of


@member_view
@require_GET
def queue_list(request: HttpRequest) -> HttpResponse:
    """Every queue the user is a member of, how many leads wait, and a "Next lead" button;
    managers and admins see every queue and who works it."""
    user = cast(User, request.user)
    watches_all = user.is_admin_role or user.role == Role.MANAGER
    return render(
        request,
        "routing/queue_next.html",
        {"summaries": queues_of(user, every=watches_all), "watches_all": watches_all},
    )


@member_view
@require_POST
def queue_next(request: HttpRequest, pk: int) -> HttpResponse:
    """Pull the next lead and open it; back to the queues page when there is none."""
    queue = Queue.objects.filter(pk=pk).first()
    if queue is None:
        raise Http404("No such queue")
    try:
        pulled = queue_pull(queue=queue, user=cast(User, request.user))
    except ServiceError as exc:
        messages.error(request, exc.message[:1].upper() + exc.message[1:] + ".")
        return redirect("queue-list", permanent=False)
    if pulled is None:
        messages.info(request, f"{queue.name} is empty: no open lead is waiting.")
        return redirect("queue-list", permanent=False)
    messages.success(request, f"{pulled.lead.person} is yours now ({pulled.why}).")
    return redirect(reverse("lead-detail", args=[pulled.lead.pk]))
