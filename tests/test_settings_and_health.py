"""Health check, production settings, and the secret key made on first run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError


@pytest.mark.django_db
def test_healthz_answers_200_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_without_the_database_and_hides_its_error(client, monkeypatch):
    """A database that does not answer makes the check fail with a bare "unavailable": the
    driver's message (host names, users, file paths) never reaches the public endpoint."""
    from django.db import connection

    secret = "could not connect to server at db-internal.example:5432 as user payroll"

    def refuse(*args, **kwargs):
        raise OperationalError(secret)

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert "example" not in response.content.decode()


def _run(args, home: Path, **env):
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("REFINERY_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    full_env.update({"REFINERY_HOME": str(home), **env})
    return subprocess.run(
        [sys.executable, "-m", "leadrefinery", *args], env=full_env, capture_output=True, text=True
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        REFINERY_ENV="production",
        REFINERY_ALLOWED_HOSTS="leads.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_settings_are_flagged_by_check_deploy(tmp_path):
    """Without REFINERY_ENV=production the deployment check must complain (so the test above means something)."""
    result = _run(["check", "--deploy", "--fail-level", "WARNING"], tmp_path)
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stderr + result.stdout


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("REFINERY_") and k != "DJANGO_SECRET_KEY"
    }
    env.update(REFINERY_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="leadrefinery.settings")
    first = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    second = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert first == second and len(first.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_the_reporting_currency_is_an_iso_code_or_the_app_does_not_start(tmp_path):
    code = "from django.conf import settings; print(settings.REFINERY_REPORTING_CURRENCY)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFINERY_")}
    env.update(REFINERY_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="leadrefinery.settings")

    def start(**extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); " + code],
            env={**env, **extra},
            capture_output=True,
            text=True,
        )

    assert start().stdout.strip() == "USD"
    assert start(REFINERY_REPORTING_CURRENCY=" eur ").stdout.strip() == "EUR"
    wrong = start(REFINERY_REPORTING_CURRENCY="EURO")
    assert wrong.returncode != 0
    assert "REFINERY_REPORTING_CURRENCY='EURO' is not an ISO 4217 currency code" in wrong.stderr
