"""The web server's answers at its edges, as a client meets them over HTTP: a URL too long is
the 414 the API documents, and a database that cannot be reached is a 503 with a clear
message (JSON under /api/), never a 500."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from leadrefinery.common.management.commands.serve import (
    LIMIT_REQUEST_LINE,
    _gunicorn_extra_args,
)
from tests.cli.test_serve_worker import (  # noqa: F401  (site: a migrated installation)
    _free_port,
    _get,
    _start,
    _stop,
    _wait_for,
    site,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc"),
]


def _request(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_a_url_too_long_is_the_documented_414(site, tmp_path):  # noqa: F811
    port = _free_port()
    proc = _start(site, tmp_path / "serve.log", "serve", "--port", str(port), "--no-worker")
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(lambda: _get(base + "/healthz"), 90, "the web server")
        long_q = "a" * (LIMIT_REQUEST_LINE + 10)
        status, _, _ = _request(f"{base}/api/v1/leads?q={long_q}")
        assert status == 414
        status, _, _ = _request(f"{base}/api/v1/leads?q={'a' * 7000}")
        assert status == 401  # within the limit: the app answers (no token)
        schema = json.loads(_request(f"{base}/api/v1/openapi.json")[2])
        for path, methods in schema["paths"].items():
            for method, operation in methods.items():
                assert "414" in operation["responses"], (method, path)
                assert "503" in operation["responses"], (method, path)
    finally:
        assert _stop(proc) == 0


def test_an_unreachable_database_is_a_503_not_a_500(tmp_path):
    closed = _free_port()  # nothing listens there
    port = _free_port()
    env = dict(
        os.environ,
        REFINERY_HOME=str(tmp_path / "home"),
        DATABASE_URL=f"postgres://refinery@127.0.0.1:{closed}/refinery",
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "leadrefinery.wsgi:application",
                "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2",
                *_gunicorn_extra_args(),
            ],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        health = _wait_for(lambda: _get(base + "/healthz"), 60, "the web server")
        assert isinstance(health, tuple) and health[0] == 503

        status, headers, body = _request(
            f"{base}/api/v1/leads", {"Authorization": "Bearer lr_not-checked-without-a-db"}
        )
        assert status == 503, body[:300]
        assert json.loads(body) == {
            "detail": "The database cannot be reached at the moment; please try again in a minute."
        }
        assert headers["Retry-After"] == "30"

        # A signed-in person's page (the session is read from the database), a public form.
        for path, cookie in (("/leads/", "sessionid=" + "a1" * 16), ("/f/contact/", "")):
            status, headers, body = _request(base + path, {"Cookie": cookie} if cookie else {})
            assert status == 503, (path, body[:300])
            assert b"The database cannot be reached" in body
            assert headers["Retry-After"] == "30"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
