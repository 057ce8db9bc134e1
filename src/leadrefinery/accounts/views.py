"""What every staff page shares: who may open it, and in which time zone it shows times."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

View = Callable[..., HttpResponse]


def member_view(view: View) -> View:
    """Logged-in users only, with times shown and entered in the user's own time zone."""

    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            zone = zoneinfo.ZoneInfo(getattr(request.user, "time_zone", "") or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        with timezone.override(zone):
            return view(request, *args, **kwargs)

    return wrapped
