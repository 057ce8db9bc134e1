"""GET /metrics under `refinery serve` with two web processes: the request histogram adds up
every process's requests (prometheus-client's multi-process mode), and the pipeline figures
move when an inquiry arrives over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cli import test_serve_worker
from tests.cli.test_serve_worker import _django, _free_port, _get, _start, _stop, _wait_for

site = test_serve_worker.site  # the fixture: a freshly migrated installation of its own

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc"),
]


def _samples(base: str) -> dict[tuple[str, tuple], float]:
    got = _get(base + "/metrics")
    assert got is not None and got[0] == 200
    out = {}
    for family in text_string_to_metric_families(got[2].decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_add_up_the_web_processes_and_move_with_inquiries(site, tmp_path):
    port = _free_port()
    proc = _start(site, tmp_path / "serve.log", "serve", "--port", str(port), "--workers", "2")
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(lambda: _get(base + "/healthz"), 90, "the web server")
        for _ in range(40):  # spread over both processes by the kernel
            assert _get(base + "/healthz") is not None
        before = _samples(base)
        healthz = ("refinery_http_request_duration_seconds_count",
                   (("method", "GET"), ("status", "2xx"), ("view", "healthz")))  # fmt: skip
        assert before[healthz] >= 41
        _django(
            site,
            "from leadrefinery.leads.models import Source\n"
            "from leadrefinery.intake.services import intake_process, intake_receive\n"
            "src = Source.objects.get_or_create(name='API')[0]\n"
            "r, _ = intake_receive(channel='api', payload={'email': 'm@x.example'}, source=src)\n"
            "intake_process(r)\n",
        )
        after = _samples(base)
        assert (
            after[("refinery_leads", (("stage", "inquiry"),))]
            == before[("refinery_leads", (("stage", "inquiry"),))] + 1
        )
        pids = {
            p.name
            for p in Path(site["REFINERY_HOME"], "prometheus", str(port)).glob("histogram_*.db")
        }
        assert len(pids) >= 2, f"each web process writes its own file: {pids}"
    finally:
        _stop(proc)
