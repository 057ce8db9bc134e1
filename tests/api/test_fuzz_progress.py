"""The schema fuzz test reports progress per API operation: each operation is its own test id,
so pytest's progress (and `-v`) moves as operations finish instead of stalling for minutes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from leadrefinery.api import api

ROOT = Path(__file__).resolve().parents[2]


def test_each_api_operation_is_its_own_test_id():
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/api/test_openapi_fuzz.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    ids = [line for line in collected if line.startswith("tests/api/test_openapi_fuzz.py::")]
    operations = sum(
        1
        for methods in api.get_openapi_schema()["paths"].values()
        for method in methods
        if method in {"get", "post", "put", "patch", "delete"}
    )
    assert len(ids) == operations
    assert len(set(ids)) == len(ids), "operations share a test id"
    assert (
        "tests/api/test_openapi_fuzz.py::test_api_conforms_to_its_schema[GET /api/v1/leads]" in ids
    )
