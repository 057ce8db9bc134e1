"""The predict sweep: the active model's probability, with its top reasons, on every open lead
that is due (``LeadScore.predict_due_at``).

A lead falls due when it is new, when its engagement, fit or custom fields change, and when a
model is activated (every open lead). The worker runs ``predict_sweep`` every minute, so leads
that arrive after training get a probability too; ``refinery scoring train`` and ``refinery
scoring predict`` run the same sweep to the end at once. Each chunk of leads is read, scored
and written in a transaction of its own, so intake never waits behind a rescoring of the
whole pipeline; a run stops after its time budget and the next one goes on where it stopped.
"""

from __future__ import annotations

import pickle
import time
from datetime import datetime

from django.db import transaction
from threadpoolctl import threadpool_limits

from leadrefinery.common.clock import now
from leadrefinery.common.db import update_rows
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.models import Lead

from .models import LeadScore, ScoringModel
from .training import Trained, _touch_counts, explain, lead_features

CHUNK = 2000
BUDGET_SECONDS = 50.0  # the worker runs the sweep every minute


def active_model() -> tuple[str, Trained] | None:
    """The active model's version and estimator."""
    row = ScoringModel.objects.filter(active=True).values_list("version", "blob").first()
    if row is None:
        return None
    return row[0], pickle.loads(bytes(row[1]))  # our own stored model


def predict_due_count() -> int:
    return LeadScore.objects.filter(predict_due_at__isnull=False).count()


def predict_sweep(
    *, at: datetime | None = None, chunk: int = CHUNK, budget_seconds: float | None = BUDGET_SECONDS
) -> int:
    """Score the open leads due by ``at`` with the active model; returns how many were scored.
    Closed leads that were due are taken off the sweep unscored. Without an active model
    there is nothing to predict with: what was due is taken off (activating a model puts
    every open lead on the sweep again). ``budget_seconds=None`` runs until none is due."""
    at = at or now()
    if not LeadScore.objects.filter(predict_due_at__isnull=False).exists():
        return 0
    active = active_model()
    if active is None:
        LeadScore.objects.filter(predict_due_at__isnull=False).update(predict_due_at=None)
        return 0
    version, trained = active
    started = time.monotonic()
    done = 0
    # One BLAS thread: the worker's other jobs (and the web process) share the cores.
    with threadpool_limits(limits=1):
        while budget_seconds is None or time.monotonic() - started < budget_seconds:
            # Oldest first, read from the partial index alone (a second sort key would sort
            # every due row for each chunk).
            ids = list(
                LeadScore.objects.filter(predict_due_at__lte=at)
                .order_by("predict_due_at")
                .values_list("lead_id", flat=True)[:chunk]
            )
            if not ids:
                break
            done += _predict_chunk(ids, trained, version, at)
    return done


@transaction.atomic
def _predict_chunk(lead_ids: list[int], trained: Trained, version: str, at: datetime) -> int:
    part = list(
        Lead.objects.select_related("person", "account", "source", "score")
        .filter(pk__in=lead_ids, stage__in=list(lead_domain.OPEN_STAGES))
        .order_by("pk")
    )
    scores = []
    if part:
        counts = _touch_counts([lead.pk for lead in part])
        rows = [lead_features(lead, lead.score, counts[lead.pk]) for lead in part]
        probabilities, reasons = explain(trained, rows)
        for lead, probability, why in zip(part, probabilities, reasons, strict=True):
            score = lead.score
            score.predicted = round(float(probability), 4)
            score.predicted_reasons = why
            score.predicted_at = at
            score.model_version = version
            scores.append(score)
        update_rows(scores, ["predicted", "predicted_reasons", "predicted_at", "model_version"])
    # Off the sweep, unless something put the lead on it again after ``at``.
    LeadScore.objects.filter(lead_id__in=lead_ids, predict_due_at__lte=at).update(
        predict_due_at=None
    )
    return len(scores)
