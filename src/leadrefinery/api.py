"""The REST API (django-ninja): /api/v1/, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.

Every error is JSON. Bad input answers 4xx, never 500:
- 400 ``{"detail": "..."}`` when the body is not JSON; 413 when it is too large;
- 401 / 403 / 404 / 409 ``{"detail": "..."}``;
- 422 ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`` for field errors, both
  the schema's own and the intake rules' (see docs/api.md).
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from leadrefinery.common.unavailable import MESSAGE as UNAVAILABLE
from leadrefinery.common.unavailable import RETRY_AFTER_SECONDS, database_unreachable
from leadrefinery.intake.api import router as intake_router
from leadrefinery.intake.schemas import InquiryIn
from leadrefinery.leads.api import router as leads_router

log = logging.getLogger(__name__)

_ERROR = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"detail": {"anyOf": [{"type": "string"}, {"type": "array"}]}},
                "required": ["detail"],
            }
        }
    }
}
_COMMON_ERRORS = {
    400: "The body is not valid JSON.",
    401: "No token, or not a valid one.",
    403: "The token lacks the scope, or the user the right, for this.",
    404: "No such object, or not visible to this user.",
    422: "Field errors.",
    503: "The database cannot be reached at the moment; try again after Retry-After seconds.",
}
# Refused by the web server before the app sees it, so not JSON (docs/api.md, Errors).
_URI_TOO_LONG = {
    "description": "The request line (the URL with its query string) is longer than 8,190 "
    "bytes; the web server answers this in plain text. Use shorter filters.",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}


class RefineryAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Every operation documents the errors every operation can give (one place, so a new
        endpoint cannot forget one): 401, 403, 414, 422 and 503 always, 400 with a body, 404
        with ids."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for path, methods in schema["paths"].items():
            for method, operation in methods.items():
                responses = operation.setdefault("responses", {})
                for code, text in _COMMON_ERRORS.items():
                    if code == 400 and method not in ("post", "put", "patch"):
                        continue
                    if code == 404 and "{" not in path:
                        continue
                    if code not in responses and str(code) not in responses:
                        responses[code] = {"description": text, **_ERROR}
                responses.setdefault(414, _URI_TOO_LONG)
        return schema


api = RefineryAPI(
    title="Lead Refinery API",
    version="1",
    description="Intake inquiries, read leads, and manage routing, SLA policies and webhooks. "
    "Authenticate with `Authorization: Bearer <token>` "
    '(create one with `refinery token create --user NAME`). Errors are JSON: `{"detail": '
    '"..."}`, or for field errors (422) `{"detail": [{"loc": [...], "msg": "...", "type": '
    '"..."}]}`.',
    urls_namespace="api",
)


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic's errors in our documented shape, with friendlier words for unknown fields."""
    out = []
    for error in errors:
        loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        msg = str(error.get("msg", "invalid value"))
        kind = str(error.get("type", "value_error"))
        if kind == "extra_forbidden" and loc[:2] == ["body", "payload"] and len(loc) == 3:
            name = str(loc[-1])
            close = difflib.get_close_matches(name, list(InquiryIn.model_fields), n=1)
            msg = f"unknown field '{name}'" + (f"; did you mean '{close[0]}'?" if close else "")
        elif msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
        out.append({"loc": loc, "msg": msg, "type": kind})
    return out


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": _field_errors(exc.errors), "inquiry_id": None}, status=422
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"detail": "The request body is too large."}, status=413)


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Django answers these with 400 outside the API; inside it they must not become a 500.
    return api.create_response(request, {"detail": "Bad request."}, status=400)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    if database_unreachable(exc):  # not a bug: the database is down or out of reach
        log.error(
            "API %s %s: the database cannot be reached: %s", request.method, request.path, exc
        )
        response = api.create_response(request, {"detail": UNAVAILABLE}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    # Still a 500 (a bug), but as JSON and logged with the traceback.
    log.error("API error on %s %s", request.method, request.path, exc_info=exc)
    return api.create_response(
        request, {"detail": "Internal error; it has been logged."}, status=500
    )


api.add_router("/", intake_router)
api.add_router("/", leads_router)
api.add_router("/", "leadrefinery.routing.api_queue.router")
api.add_router("/", "leadrefinery.routing.api.router")
api.add_router("/", "leadrefinery.sla.api.router")
api.add_router("/", "leadrefinery.notifications.api.router")
api.add_router("/", "leadrefinery.nurture.api.router")
api.add_router("/", "leadrefinery.tracking.api.router")
api.add_router("/", "leadrefinery.scoring.api.router")
api.add_router("/", "leadrefinery.leads.api_actions.router")
api.add_router("/", "leadrefinery.cadences.api.lead_router")
api.add_router("/", "leadrefinery.cadences.api.router")
api.add_router("/", "leadrefinery.dedupe.api.router")
api.add_router("/", "leadrefinery.review.api.router")
api.add_router("/", "leadrefinery.reports.api.router")
api.add_router("/", "leadrefinery.privacy.api.router")
