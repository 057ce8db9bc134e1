"""The public inquiry forms at /f/<slug>/: hosted page, embed script, thank-you page.

These pages are framed by other sites (the embed script puts them in an iframe), so they
are exempt from X-Frame-Options (and their Content-Security-Policy lets any page frame them),
and the POST is exempt from CSRF: a third-party iframe has
no usable CSRF cookie. See public_forms.py for what protects them instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TypeVar, cast

from csp.decorators import csp_replace
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from leadrefinery.common.clock import now
from leadrefinery.leads.models import WebForm
from leadrefinery.tracking.views import visitor_id

from . import public_forms as pf

log = logging.getLogger(__name__)


# Customers' pages frame these pages (any site may: that is what the embed script is for),
# and a form's thank-you page may be on the customer's own site: the POST redirects there.
_FRAMABLE = csp_replace({"frame-ancestors": ["*"], "form-action": None})
_View = TypeVar("_View", bound=Callable[..., HttpResponse])


def _framable(view: _View) -> _View:
    return cast(_View, _FRAMABLE(view))  # type: ignore[arg-type]  # csp types 1-arg views only


def _active_form(slug: str) -> WebForm:
    return get_object_or_404(
        WebForm.objects.select_related("source", "campaign"), slug=slug, active=True
    )


def _is_embedded(request: HttpRequest) -> bool:
    return request.GET.get("embed") == "1"


def _render_form(
    request: HttpRequest,
    form: WebForm,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    other_errors: list[str] | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    fields = pf.declared_fields(form)
    pf.fill(fields, values, errors or {})
    embedded = _is_embedded(request)
    action = reverse("public-form", args=[form.slug]) + ("?embed=1" if embedded else "")
    context = {
        "form": form,
        "fields": fields,
        "utm": [(name, values[name]) for name in pf.UTM_FIELDS if values.get(name)],
        "token": pf.issue_token(form),
        "token_field": pf.TOKEN_FIELD,
        "honeypot_field": pf.HONEYPOT_FIELD,
        "other_errors": other_errors or [],
        "has_errors": bool(errors or other_errors),
        "notice": notice,
        "embedded": embedded,
        "action": action,
    }
    return render(request, "intake/form.html", context, status=status)


def _thanks(form: WebForm, embedded: bool) -> HttpResponse:
    # Inside an iframe, stay on our own thank-you page: the form owner's page would open
    # inside the frame. It links to the owner's page instead.
    if form.thank_you_url and not embedded:
        return redirect(form.thank_you_url)
    url = reverse("public-form-thanks", args=[form.slug])
    return redirect(url + ("?embed=1" if embedded else ""))


def _seconds_to_next_hour() -> int:
    # The limit counts per clock hour (tracking/limits.py).
    at = now()
    return max(1, 3600 - (at.minute * 60 + at.second))


@_framable
@xframe_options_exempt
@csrf_exempt
@require_http_methods(["GET", "POST"])
def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    form = _active_form(slug)
    if request.method == "GET":
        utm = {name: request.GET[name][:200] for name in pf.UTM_FIELDS if request.GET.get(name)}
        return _render_form(request, form, values=utm)

    embedded = _is_embedded(request)
    screening = pf.screen(form, request.POST)
    ip = pf.client_ip(request)
    if screening.discard:
        # Answer exactly like a success so that the bot learns nothing.
        log.info("public form %s: discarded a submission from %s (%s)", slug, ip, screening.discard)
        return _thanks(form, embedded)
    fields = pf.declared_fields(form)
    values = pf.submitted_values(fields, request.POST)
    if screening.expired:
        notice = "This page was open for a long time. Please check your details and send again."
        return _render_form(request, form, values=values, notice=notice, status=400)
    missing = pf.missing_required(fields, values)
    if missing:
        return _render_form(request, form, values=values, errors=missing, status=400)
    if not pf.token_use(form, request.POST, screening):
        log.info("public form %s: a used time-trap token was sent again from %s", slug, ip)
        notice = "This form was already sent from this page. To send it again, check your "
        notice += "details and press Send."
        return _render_form(request, form, values=values, notice=notice, status=400)
    if not pf.rate_limit_take(form, ip):
        log.info("public form %s: rate limit reached for %s", slug, ip)
        response = render(
            request, "intake/rate_limited.html", {"form": form, "embedded": embedded}, status=429
        )
        response["Retry-After"] = str(_seconds_to_next_hour())
        return response
    visitor = visitor_id(request)  # the tracking snippet's id: merges the visitor's history
    submitted = pf.form_submit(
        form=form,
        values={**values, "visitor_id": visitor} if visitor else values,
        ip=ip,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    if not submitted.accepted:
        return _render_form(
            request,
            form,
            values=values,
            errors=submitted.errors,
            other_errors=submitted.other_errors,
            status=400,
        )
    return _thanks(form, embedded)


@_framable
@xframe_options_exempt
@require_GET
def form_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    form = _active_form(slug)
    return render(request, "intake/thanks.html", {"form": form, "embedded": _is_embedded(request)})


@require_GET
@cache_control(public=True, max_age=300)
def form_embed_js(request: HttpRequest, slug: str) -> HttpResponse:
    """A script that puts the form in an iframe where the script tag stands (or into
    ``<div id="refinery-form-<slug>">``), passes the host page's UTM parameters on, and
    resizes the frame to the form's height."""
    form = _active_form(slug)
    context = {
        "form": form,
        "form_path": reverse("public-form", args=[form.slug]),
        "utm_json": json.dumps(list(pf.UTM_FIELDS)),
    }
    return render(
        request, "intake/embed.js", context, content_type="application/javascript; charset=utf-8"
    )
