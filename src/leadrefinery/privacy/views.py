"""The privacy pages: an admin downloads a person's data or erases it, from the lead page.

Only admins: anyone else gets 404 (as for a lead they may not see), on GET and POST alike.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from leadrefinery.accounts.views import member_view
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead

from . import selectors, services


class EraseForm(forms.Form):
    reason = forms.CharField(
        max_length=services.MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why",
        help_text="For the privacy log, e.g. 'GDPR request of 1 Dec, ticket 4411'. Do not "
        "write the person's name or address here.",
    )
    confirm = forms.BooleanField(
        label="I understand this cannot be undone.",
        error_messages={"required": "Tick the box to confirm."},
    )


def _admin_subject(request: HttpRequest, person_id: int) -> selectors.Subject:
    if not getattr(request.user, "is_admin_role", False):
        raise Http404("No such page")
    try:
        return selectors.subject_find(str(person_id))
    except selectors.NotFound:
        raise Http404("No such person") from None


def _lead_to_return_to(subject: selectors.Subject, wanted: str | None) -> int | None:
    if wanted and wanted.isdigit() and int(wanted) in subject.lead_ids:
        return int(wanted)
    return subject.lead_ids[0] if subject.lead_ids else None


@member_view
@require_GET
def person_export(request: HttpRequest, person_id: int) -> HttpResponse:
    subject = _admin_subject(request, person_id)
    document = selectors.person_export(subject)
    services.export_record(subject=subject, actor=Actor.of(request.user))  # type: ignore[arg-type]
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="person-{person_id}.json"'
    return response


@member_view
@require_http_methods(["GET", "POST"])
def person_erase(request: HttpRequest, person_id: int) -> HttpResponse:
    subject = _admin_subject(request, person_id)
    lead_id = _lead_to_return_to(subject, request.GET.get("lead") or request.POST.get("lead"))
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.person_erase(
                subject=subject,
                actor=Actor.of(request.user),  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as exc:
            form.add_error("reason", exc.message)
        else:
            messages.success(
                request,
                f"Personal data erased: {sum(event.counts.values())} record(s) redacted. "
                "The leads stay for the reports.",
            )
            if lead_id is not None:
                return redirect(reverse("lead-detail", args=[lead_id]))
            return redirect(reverse("lead-list"))
    context: dict[str, Any] = {
        "form": form,
        "subject": subject,
        "person": subject.people[0] if subject.people else None,
        "leads": Lead.objects.filter(pk__in=subject.lead_ids).select_related("source"),
        "lead_id": lead_id,
    }
    return render(request, "privacy/erase.html", context, status=400 if form.errors else 200)
