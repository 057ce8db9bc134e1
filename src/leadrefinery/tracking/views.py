"""The public tracking endpoints: the snippet, page-visit collection, the open pixel and the
click redirect. Each answers after one INSERT into the hit buffer (and one per-address
limit: ``REFINERY_TRACKING_RATE_LIMIT_PER_HOUR``, tracking/limits.py); the ``tracking-flush`` job
(and, when configured, the web process after the response has been sent:
``FlushAfterResponse`` and flush.py) turns the buffer into visits, touches and scores in
batches. A forged or damaged token records nothing and still gets its pixel (or a 404 for a
click): it never raises an error.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from leadrefinery.common.text import scrub

from . import flush, limits, links, services
from .models import Hit

log = logging.getLogger(__name__)

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
VISITOR_KEY = re.compile(r"[A-Za-z0-9-]{8,64}")
MAX_BODY = 4096


class FlushAfterResponse(HttpResponse):
    """An HttpResponse that flushes the hit buffer when the server closes it, i.e. after the
    bytes went to the client: the visitor never waits for scoring."""

    def close(self) -> None:
        flush.flush_soon()
        super().close()


class FlushAfterRedirect(HttpResponseRedirect):
    def close(self) -> None:
        flush.flush_soon()
        super().close()


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _pixel(*, recorded: bool) -> HttpResponse:
    cls = FlushAfterResponse if recorded else HttpResponse
    return _no_store(cls(PIXEL, content_type="image/gif"))


@require_GET
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    found = links.read_open(token)
    if found is None or not limits.tracking_allows("open", request):
        return _pixel(recorded=False)  # the image shows either way
    services.hit_record(
        kind=Hit.Kind.OPEN, person_id=found.person_id, message_ref=found.message_ref
    )
    return _pixel(recorded=True)


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    found = links.read_click(token)
    if found is None:
        return _no_store(HttpResponseNotFound("This link is not valid.", content_type="text/plain"))
    if not limits.tracking_allows("click", request):
        return _no_store(HttpResponseRedirect(found.url))  # the person still gets there
    services.hit_record(
        kind=Hit.Kind.CLICK, person_id=found.person_id, message_ref=found.message_ref, url=found.url
    )
    return _no_store(FlushAfterRedirect(found.url))


def _tracking_refused(request: HttpRequest) -> bool:
    """Do Not Track and Global Privacy Control are honoured on the server too."""
    return request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1"


def _cors(response: HttpResponse) -> HttpResponse:
    # The snippet runs on the customer's own site: any origin may post a visit (no cookies of
    # ours are read or set, so nothing is exposed).
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    return response


@csrf_exempt
def collect(request: HttpRequest) -> HttpResponse:
    """POST /t/v: one page visit, as JSON (sent as text/plain by navigator.sendBeacon)."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    if request.method != "POST":
        return _cors(HttpResponse(status=405))
    if _tracking_refused(request) or len(request.body) > MAX_BODY:
        return _cors(HttpResponse(status=204))
    data: Any
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _cors(HttpResponse(status=400))
    if not isinstance(data, dict):
        return _cors(HttpResponse(status=400))
    data, removed = scrub(data)  # NUL and other control characters go (and are counted)
    key, url = data.get("vid"), data.get("url")
    if not isinstance(key, str) or not VISITOR_KEY.fullmatch(key):
        return _cors(HttpResponse(status=400))
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        return _cors(HttpResponse(status=400))
    if not limits.tracking_allows("visit", request):
        response = HttpResponse(
            "Too many page visits from this address; try again later.",
            status=429,
            content_type="text/plain",
        )
        response["Retry-After"] = "3600"
        return _cors(response)
    title, ref = data.get("title"), data.get("ref")
    services.hit_record(
        kind=Hit.Kind.VISIT,
        visitor_key=key,
        url=url[:500],
        title=title[:200] if isinstance(title, str) else "",
        referrer=ref[:500] if isinstance(ref, str) else "",
        removed_control_characters=removed,
    )
    return _cors(FlushAfterResponse(status=204))


@require_GET
@cache_control(public=True, max_age=300)
def snippet(request: HttpRequest) -> HttpResponse:
    """The first-party tracking snippet (see docs/tracking.md)."""
    path = reverse("tracking-collect")
    context = {"collect_path": path, "collect_url": settings.SITE_URL + path}
    return render(
        request,
        "tracking/snippet.js",
        context,
        content_type="application/javascript; charset=utf-8",
    )


def visitor_id(request: HttpRequest) -> str:
    """The tracking snippet's visitor id sent with a form: the hidden ``refinery_visitor``
    input it adds, else its first-party cookie (when the form is on the same site)."""
    for value in (request.POST.get("refinery_visitor"), request.COOKIES.get("rf_vid")):
        if isinstance(value, str) and VISITOR_KEY.fullmatch(value):
            return value
    return ""
