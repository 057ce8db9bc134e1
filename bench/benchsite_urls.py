"""The project's URLs plus ``POST /bench/bare-insert``: the baseline for the intake benchmark.

The bare endpoint does the least a JSON intake endpoint can do on the same stack (Django,
its middleware, gunicorn, the same database): parse the JSON body, insert one row with one
statement, answer JSON. Whatever the real intake costs on top of that is ours.
"""

import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from leadrefinery.common.clock import now
from leadrefinery.urls import urlpatterns as project_urlpatterns

BARE_TABLE = "bench_bare_insert"


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {BARE_TABLE} (email, body, created_at) VALUES (%s, %s, %s)",
            [body.get("email", ""), request.body.decode(), now()],
        )
    return JsonResponse({"ok": True}, status=201)


def bare_json(request: HttpRequest) -> JsonResponse:
    """The baseline for bench/tracking.py: the same stack answering a GET with no work."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/bare-insert", bare_insert),
    path("bench/bare-json", bare_json),
    *project_urlpatterns,
]
