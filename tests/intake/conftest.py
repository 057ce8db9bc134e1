"""Fixtures of the intake tests: the logged-in test client of the UI tests."""

from tests.ui.conftest import client_for  # noqa: F401 - fixture
