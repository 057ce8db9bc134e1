"""Structured logs: JSON lines with the request id on a request's lines and the job id on a
job's, and no email address or phone number in any message."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.test import Client, override_settings

from leadrefinery.common import logs

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logs.Formatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(job_id)s %(job)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


@override_settings(LOG_FORMAT="json")
def test_a_request_writes_one_json_access_line_with_its_id_and_no_address(captured, users):
    browser = Client()
    browser.force_login(users.rep)
    response = browser.get("/leads/", {"q": "grace.jones@example.com"})
    assert response.status_code == 200
    lines = [line for line in captured() if line["logger"] == "refinery.request"]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["request_id"] == response["X-Request-ID"]
    assert (line["view"], line["status"], line["level"]) == ("lead-list", 200, "INFO")
    assert "grace" not in json.dumps(line)
    # A sane id from the proxy is kept, so lines join up across machines.
    again = browser.get("/leads/", HTTP_X_REQUEST_ID="edge-1234abcd")
    assert again["X-Request-ID"] == "edge-1234abcd"
    assert captured()[-1]["request_id"] == "edge-1234abcd"


@override_settings(LOG_FORMAT="json")
def test_a_jobs_lines_carry_its_id_and_messages_are_masked(captured):
    logs.job_started(task={"id": "t-42", "group": "outbox-send"})
    logging.getLogger("leadrefinery.notifications").warning(
        "could not mail %s (%s)", "grace.jones@example.com", "+1 415 555 0100"
    )
    logs.job_finished(task={"id": "t-42", "success": True})
    logging.getLogger("leadrefinery").info("after the job, on 2026-12-06 09:30")
    warning, done, after = captured()
    assert (warning["job_id"], warning["job"]) == ("t-42", "outbox-send")
    assert warning["message"] == "could not mail g***@example.com ([phone])"
    assert done["message"] == "job outbox-send done" and done["job_id"] == "t-42"
    assert "job_id" not in after and after["message"] == "after the job, on 2026-12-06 09:30"
