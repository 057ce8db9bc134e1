"""Structured logs: one JSON object per line when ``REFINERY_LOG_FORMAT=json``
(python-json-logger), with the request id on every line logged while a request is served and
the job id (and job name) on every line logged while a background job runs; email addresses
and phone numbers in messages are masked in both formats.

- ``RequestId`` (middleware): takes a sane ``X-Request-ID`` from the proxy or makes one,
  answers it in the response's ``X-Request-ID``, and holds it in a context variable for the
  request's lines.
- ``job_started`` / ``job_finished`` (django-q's pre_execute / post_execute_in_worker
  signals, connected in ``common.apps``): the same for a job.
- ``ContextFilter`` puts both on every record and masks personal data in the message.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.json import JsonFormatter

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
job: contextvars.ContextVar[tuple[str, str]] = contextvars.ContextVar("job", default=("", ""))
access = logging.getLogger("refinery.request")
jobs = logging.getLogger("refinery.job")

_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"\+\d[\d ()./-]{6,}\d")  # international form only: dates stay


def mask(text: str) -> str:
    """``grace.jones@example.com`` -> ``g***@example.com``; ``+1 415 555 0100`` ->
    ``[phone]``."""
    return _PHONE.sub("[phone]", _EMAIL.sub(r"\1***@\2", text))


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.job_id, record.job = job.get()
        if isinstance(record.msg, str):
            record.msg = mask(record.getMessage())
            record.args = None
        return True


class Formatter(JsonFormatter):
    """Fixed keys first (time, level, logger, message), the ids when set, then extras."""

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for name in ("request_id", "job_id", "job"):
            if not log_data.get(name):
                log_data.pop(name, None)


class RequestId:
    """Middleware: the request's id, for its log lines and its response. In JSON mode it also
    writes the access line (method, URL name, status, time; never the path or query, which
    can hold ids and addresses) in place of the web server's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.log_access = getattr(settings, "LOG_FORMAT", "plain") == "json"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            if self.log_access:
                match = getattr(request, "resolver_match", None)
                view = (match.view_name if match else "") or "(unmatched)"
                ms = round((time.perf_counter() - started) * 1000, 1)
                access.info(
                    "%s %s %s in %s ms",
                    request.method,
                    view,
                    response.status_code,
                    ms,
                    extra={"method": request.method, "view": view,
                           "status": response.status_code, "duration_ms": ms},
                )  # fmt: skip
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


def job_started(sender: Any = None, func: Any = None, task: dict | None = None, **_: Any) -> None:
    task = task or {}
    job.set((str(task.get("id", "")), str(task.get("group") or task.get("name") or "")))


def job_finished(sender: Any = None, task: dict | None = None, **_: Any) -> None:
    task = task or {}
    if getattr(settings, "LOG_FORMAT", "plain") != "json":
        job.set(("", ""))
        return
    jobs.info(
        "job %s %s",
        job.get()[1] or task.get("func", ""),
        "done" if task.get("success", True) else "failed",
        extra={"success": bool(task.get("success", True))},
    )
    job.set(("", ""))
