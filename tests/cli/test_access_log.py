"""`refinery serve`'s access log never records a query string: searches for an email address,
a form's fields in a link, a tracked page's URL stay out of the log that standard output
feeds to whatever keeps it."""

from __future__ import annotations

import time
from pathlib import Path

from tests.cli.test_serve_worker import _free_port, _get, _start, _stop, _wait_for, site

__all__ = ["site"]  # the fixture: a freshly migrated installation of its own


def test_the_access_log_has_the_path_but_not_the_query_string(site, tmp_path: Path):
    port = _free_port()
    log = tmp_path / "serve.log"
    proc = _start(site, log, "serve", "--no-worker", "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(lambda: _get(base + "/healthz"), 90, "the web server")
        answer = _get(base + "/api/v1/leads?q=grace.jones%40example.com&limit=5")
        assert answer is not None and answer[0] == 401
        _get(base + "/login/?next=/leads/%3Fq%3Dgrace.jones%2540example.com")

        def logged() -> str:
            text = log.read_text()
            return text if "/api/v1/leads " in text and "/login/ " in text else ""

        text = str(_wait_for(logged, 30, "the access log lines"))
    finally:
        _stop(proc)
    time.sleep(0.1)
    line = next(x for x in text.splitlines() if "/api/v1/leads " in x)
    assert '"GET /api/v1/leads HTTP/1.1" 401' in line
    assert "grace" not in text and "jones" not in text and "example.com" not in text
