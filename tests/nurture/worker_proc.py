"""Run `refinery nurture_send` in a subprocess against the test database (its name is given
on the command line, since the test runner created it under another name)."""

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
    call_command("nurture_send", *sys.argv[2:])


if __name__ == "__main__":
    main()
