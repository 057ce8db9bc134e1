import logging
from pathlib import Path

from django.db import connection
from django.http import FileResponse, HttpRequest, JsonResponse

log = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    """200 ``{"status": "ok"}`` when the database answers, 503 ``{"status": "unavailable"}``
    otherwise. The endpoint is public, so the database's error (which may name hosts, users
    or paths) goes to the log only."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception:  # any database failure means unhealthy
        log.exception("health check: the database did not answer")
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


_FAVICON = Path(__file__).resolve().parent.parent / "static" / "favicon.ico"


def favicon(request: HttpRequest) -> FileResponse:
    """/favicon.ico, which browsers ask for on pages that name no icon (the admin, public
    forms); our own pages link to it in /static/."""
    response = FileResponse(_FAVICON.open("rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
