"""503, not 500, while the database cannot be reached.

A request that needs the database while it is down (PostgreSQL restarting, a network cut, a
connection refused) used to end in a 500 "server error", which reads as a bug and is not
retried by clients. A failure to *connect* is answered 503 Service Unavailable with a plain
message and ``Retry-After``: JSON under /api/, a short page elsewhere (rendered without the
database: no user, no template that reads it). Other database errors stay 500s: they are bugs.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

RETRY_AFTER_SECONDS = 30
MESSAGE = "The database cannot be reached at the moment; please try again in a minute."
# Where Django (and its backends) open a connection: an error raised below one of these is a
# failure to connect, not a failing query.
_CONNECTING = {"ensure_connection", "connect", "get_new_connection", "init_connection_state"}


def database_unreachable(exc: BaseException | None) -> bool:
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    if isinstance(exc, InterfaceError):  # e.g. "connection already closed"
        return True
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in _CONNECTING:
            return True
        tb = tb.tb_next
    return False


def unavailable_response(request: HttpRequest) -> HttpResponse:
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE}, status=503)
    else:
        response = HttpResponse(
            "<!doctype html><html lang=en><meta charset=utf-8><title>Unavailable · Lead "
            f"Refinery</title><h1>Temporarily unavailable</h1><p>{MESSAGE}</p></html>",
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 when the error is an unreachable database, else Django's 500."""
    if database_unreachable(sys.exc_info()[1]):
        return unavailable_response(request)
    return defaults.server_error(request)
