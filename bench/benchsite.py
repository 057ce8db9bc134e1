"""Settings for the benchmarks: the project's own, with one bench-only URL added.

Selected with DJANGO_SETTINGS_MODULE=benchsite (bench/ on the Python path); never used by
the application itself.
"""

from leadrefinery.settings import *  # noqa: F403

ROOT_URLCONF = "benchsite_urls"
DEBUG = False
