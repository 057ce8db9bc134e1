"""The staff page of the web forms: each form's hosted link and embed code."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leadrefinery.accounts.views import member_view
from leadrefinery.leads.models import WebForm


@member_view
@require_GET
def form_list(request: HttpRequest) -> HttpResponse:
    forms = list(WebForm.objects.select_related("source", "campaign").order_by("name"))
    return render(
        request,
        "intake/form_list.html",
        {
            "forms": forms,
            "site_url": settings.SITE_URL,
            "default_rate_limit": settings.REFINERY_FORM_RATE_LIMIT_PER_HOUR,
        },
    )
