"""Run `refinery worker` (the django-q cluster and its periodic jobs) in a subprocess against
the test database, whose name the test runner chose and passes on the command line."""

from __future__ import annotations

import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrefinery.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    name = sys.argv[1]
    settings.DATABASES["default"]["NAME"] = name
    connections.settings["default"]["NAME"] = name
    call_command("worker")


if __name__ == "__main__":
    main()
