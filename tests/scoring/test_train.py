"""`refinery scoring train`: beats its baselines on a history with a known signal, stores a
calibrated probability with reasons on open leads, and refuses politely without history."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from leadrefinery.scoring.models import LeadScore, ScoringModel, TrainingExample

pytestmark = pytest.mark.django_db

START = datetime(2024, 1, 1, tzinfo=UTC)


def synthetic_history(n: int, seed: int = 7) -> str:
    """Won when a manufacturer keeps coming back (many visits) or a senior person attends
    webinars; engagement alone, or industry alone, says little. Ten percent label noise."""
    rng = random.Random(seed)
    lines = ["id,closed_at,outcome,industry,title_level,visits,events,engagement,source"]
    for i in range(n):
        industry = rng.choice(["manufacturing", "retail", "software", "logistics"])
        level = rng.choice(["director", "vp", "manager", "other"])
        visits = rng.randint(0, 20)
        events = rng.randint(0, 3)
        engagement = rng.randint(0, 80)
        signal = (industry == "manufacturing" and visits >= 10) or (
            level in ("director", "vp") and events >= 2
        )
        won = signal if rng.random() > 0.1 else not signal
        closed = (START + timedelta(hours=12 * i)).date().isoformat()
        source = rng.choice(["Website", "Trade show", "Webinar"])
        lines.append(
            f"h{i},{closed},{'won' if won else 'lost'},{industry},{level},{visits},{events},"
            f"{engagement},{source}"
        )
    return "\n".join(lines) + "\n"


def auc_lines(out: str) -> dict[str, float]:
    found = {}
    for line in out.splitlines():
        for name in ("readiness model", "logistic regression", "naive Bayes"):
            if (
                line.startswith(("readiness", "baseline"))
                and name in line
                and "(predicted" not in line
                and "Lift" not in line
            ):
                found[name] = float(line.split()[-1])
    return found


def test_train_beats_the_baselines_it_prints_and_scores_open_leads(tmp_path, capsys, make_lead):
    history = tmp_path / "history.csv"
    history.write_text(synthetic_history(900))
    call_command("scoring", "import-history", str(history))
    assert TrainingExample.objects.count() == 900
    lead = make_lead(title="Plant Director", company="Acme")

    call_command("scoring", "train")

    out = capsys.readouterr().out
    aucs = auc_lines(out)
    assert set(aucs) == {"readiness model", "logistic regression", "naive Bayes"}, out
    assert aucs["readiness model"] > aucs["logistic regression"]
    assert aucs["readiness model"] > aucs["naive Bayes"]
    assert "Calibration" in out and "Lift by decile" in out and "Time-ordered split" in out
    model = ScoringModel.objects.get(active=True)
    assert model.auc == aucs["readiness model"] or abs(model.auc - aucs["readiness model"]) < 1e-3
    score = LeadScore.objects.get(lead=lead)
    assert 0 <= score.predicted <= 1
    assert score.model_version == model.version


def test_with_too_little_history_it_says_so_and_changes_nothing(tmp_path, capsys, make_lead):
    history = tmp_path / "history.csv"
    history.write_text(synthetic_history(20))
    call_command("scoring", "import-history", str(history))
    lead = make_lead()

    call_command("scoring", "train")

    out = capsys.readouterr().out
    assert "Not enough history to train: 20 closed outcomes" in out
    assert "Nothing was changed" in out
    assert ScoringModel.objects.count() == 0
    assert LeadScore.objects.get(lead=lead).predicted is None


def test_import_history_refuses_a_file_with_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,closed_at,outcome\n1,2025-01-01,maybe\n")
    with pytest.raises(Exception, match="nothing imported"):
        call_command("scoring", "import-history", str(bad))
    assert TrainingExample.objects.count() == 0
