"""The web process's own flush of the hit buffer, after its responses have gone out.

With ``REFINERY_TRACKING_FLUSH_SECONDS`` >= 0 each web process runs ``services.hits_flush`` at
most once per that many seconds (a timer catches the hits of the requests in between), so
under load one flush writes the hits of many requests. Negative (the default): only the
``tracking-flush`` job flushes, in the worker.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import connections

from . import services

log = logging.getLogger(__name__)

_flush_lock = threading.Lock()
_last_flush = 0.0
_timer: threading.Timer | None = None


def _flush(from_timer: bool = False) -> None:
    global _last_flush, _timer
    with _flush_lock:
        _last_flush = time.monotonic()
        if from_timer:
            _timer = None
    try:
        services.hits_flush(limit=1000)
    except Exception:  # the hits stay buffered; the next flush or the tracking-flush job retries
        log.exception("tracking: flushing the hit buffer failed")
    finally:
        if from_timer:
            connections.close_all()  # the timer's thread is gone after this


def flush_soon() -> None:
    """With REFINERY_TRACKING_FLUSH_SECONDS >= 0: flush the hit buffer now if this process has
    not flushed within that interval, else once it is over (a timer), so under load one flush
    writes the hits of many requests. Negative (the default): the tracking-flush job does it,
    in the worker, and the web process only buffers (see bench/tracking.py for the cost)."""
    global _timer
    interval = float(getattr(settings, "REFINERY_TRACKING_FLUSH_SECONDS", -1.0))
    if interval < 0:
        return  # this process only buffers; the tracking-flush job writes the hits
    with _flush_lock:
        wait = _last_flush + interval - time.monotonic()
        if wait > 0:
            if _timer is None:
                _timer = threading.Timer(wait, _flush, kwargs={"from_timer": True})
                _timer.daemon = True
                _timer.start()
            return
    _flush()
