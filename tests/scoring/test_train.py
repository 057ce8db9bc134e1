"""`refinery scoring train`: beats its baselines on a history with a known signal, stores a
calibrated probability with reasons on open leads, and refuses politely without history."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from leadrefinery.scoring import training
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
    """Model name -> holdout AUC, from the table `train` prints."""
    found = {}
    names = {
        "gradient boosting, calibrated": "boosted",
        "logistic regression, calibrated": "logistic",
        "baseline: logistic regression": "baseline logistic",
        "baseline: naive Bayes (Odoo-style)": "naive Bayes",
    }
    for line in out.splitlines():
        for name, short in names.items():
            if line.startswith(name) and len(line.split()) >= 4:
                found[short] = float(line[len(name) :].split()[0])
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
    assert set(aucs) == {"boosted", "logistic", "baseline logistic", "naive Bayes"}, out
    # The interactions (manufacturing and many visits) are the boosted model's to find.
    assert aucs["boosted"] > aucs["baseline logistic"]
    assert aucs["boosted"] > aucs["naive Bayes"]
    assert "Activated: gradient boosting, calibrated" in out
    assert "not monotonic" not in out, "the quintiles of the active model rise"
    assert "Reliability" in out and "Lift by decile" in out and "Time-ordered split" in out
    model = ScoringModel.objects.get(active=True)
    assert abs(model.auc - aucs["boosted"]) < 1e-3
    score = LeadScore.objects.get(lead=lead)
    assert 0 <= score.predicted <= 1
    assert score.model_version == model.version


def test_the_probability_follows_the_newest_win_rate(tmp_path):
    """Calibrated on the newest slice of time, not on folds across it: when the win rate
    falls (a market that cools), the probabilities follow it, where a model calibrated on
    the whole past (the plain logistic regression) stays too high."""
    rng = random.Random(4)
    lines = synthetic_history(6000, seed=4).splitlines()
    cooled = [lines[0]]
    for i, line in enumerate(lines[1:]):
        # Later on, more and more of the would-be wins are lost.
        if ",won," in line and rng.random() < 0.6 * i / 6000:
            line = line.replace(",won,", ",lost,")
        cooled.append(line)
    history = tmp_path / "history.csv"
    history.write_text("\n".join(cooled) + "\n")
    call_command("scoring", "import-history", str(history))
    report, trained = training.train()
    assert trained is not None and report.activate
    kept = report.main
    plain = next(e for e in report.evaluations if e.name == training.BASELINE_LOGISTIC)
    ours, theirs = (abs(e.mean_predicted - e.base_rate) for e in (kept, plain))
    assert theirs > 0.05, "the history did not cool enough to tell"
    # Calibrated on the newest outcomes, it lags the still-falling rate far less.
    assert ours < 0.6 * theirs, report.lines()


def linear_history(n: int, seed: int = 11) -> str:
    """Won with a probability that is a logistic function of the sum of five engagement
    counts: a logistic regression's own world."""
    rng = random.Random(seed)
    names = ["visits", "email_opens", "email_clicks", "events", "form_fills"]
    lines = ["id,closed_at,outcome," + ",".join(names)]
    for i in range(n):
        values = [rng.randint(0, 10) for _ in names]
        logit = 0.35 * sum(values) - 8.5
        won = rng.random() < 1 / (1 + math.exp(-logit))
        closed = (START + timedelta(hours=12 * i)).date().isoformat()
        lines.append(f"l{i},{closed},{'won' if won else 'lost'}," + ",".join(map(str, values)))
    return "\n".join(lines) + "\n"


def test_the_active_model_is_at_least_as_good_as_a_plain_logistic_regression(
    tmp_path, capsys, make_lead
):
    history = tmp_path / "history.csv"
    history.write_text(linear_history(600))
    call_command("scoring", "import-history", str(history))
    make_lead()
    call_command("scoring", "train")
    out = capsys.readouterr().out
    aucs = auc_lines(out)
    model = ScoringModel.objects.get(active=True)
    assert model.auc >= aucs["baseline logistic"] - 1e-9, out
    assert model.auc > aucs["naive Bayes"]


def evaluation(name: str, auc: float) -> training.Evaluation:
    return training.Evaluation(name, auc, [], [])


def test_a_model_that_loses_to_a_baseline_is_not_activated():
    candidates = [training.BOOSTED, training.LOGISTIC]

    def decide(boosted, logistic, baseline, bayes):
        return training.decide(
            [
                evaluation(training.BOOSTED, boosted),
                evaluation(training.LOGISTIC, logistic),
                evaluation(training.BASELINE_LOGISTIC, baseline),
                evaluation(training.BASELINE_BAYES, bayes),
            ],
            candidates,
        )

    # The owner's telemarketing run: the boosted model lost to both baselines.
    chosen, active, why = decide(0.496, 0.690, 0.698, 0.663)
    assert (chosen, active) == (training.LOGISTIC, False)
    assert "no better than the plain logistic regression (0.698)" in why
    chosen, active, why = decide(0.70, 0.60, 0.65, 0.72)
    assert (chosen, active) == (training.BOOSTED, False)
    assert "the naive Bayes (0.720)" in why
    assert decide(0.80, 0.70, 0.70, 0.60)[:2] == (training.BOOSTED, True)
    # A logistic regression calibrated on the newest outcomes ranks as the plain one does.
    assert decide(0.60, 0.70, 0.70, 0.60)[:2] == (training.LOGISTIC, True)
    assert decide(0.60, 0.70, 0.70, 0.70)[1] is False, "a tie with the naive Bayes is no win"


def test_a_refused_model_is_kept_for_the_record_and_changes_nothing(tmp_path, make_lead):
    history = tmp_path / "history.csv"
    history.write_text(synthetic_history(900))
    call_command("scoring", "import-history", str(history))
    lead = make_lead()
    call_command("scoring", "train")
    before = ScoringModel.objects.get(active=True)
    scored = LeadScore.objects.get(lead=lead)

    report, trained = training.train()
    report.activate = False  # as decide() says when the candidate loses
    row, count = training.store(trained, report)

    assert (row.active, count) == (False, 0)
    assert ScoringModel.objects.get(active=True) == before
    again = LeadScore.objects.get(lead=lead)
    assert (again.predicted, again.model_version) == (scored.predicted, scored.model_version)


def test_history_columns_no_lead_has_are_named_and_left_out(tmp_path, capsys):
    history = tmp_path / "history.csv"
    lines = ["id,closed_at,outcome,job,age,visits"]
    rng = random.Random(5)
    for i in range(400):
        visits = rng.randint(0, 12)
        won = rng.random() < (0.7 if visits > 6 else 0.15)
        day = (START + timedelta(days=i)).date().isoformat()
        lines.append(f"h{i},{day},{'won' if won else 'lost'},admin.,{rng.randint(20, 60)},{visits}")
    history.write_text("\n".join(lines) + "\n")
    call_command("scoring", "import-history", str(history))
    out = capsys.readouterr().out
    assert "Columns used for training: visits" in out
    assert "no lead has them" in out and "job, age" in out
    _, trained = training.train()
    assert trained is not None
    assert trained.columns == ["visits"]


def test_a_history_without_any_column_leads_have_trains_nothing(tmp_path, capsys):
    history = tmp_path / "history.csv"
    lines = ["id,closed_at,outcome,job,age"]
    for i in range(200):
        day = (START + timedelta(days=i)).date().isoformat()
        lines.append(f"h{i},{day},{'won' if i % 3 == 0 else 'lost'},admin.,{20 + i % 40}")
    history.write_text("\n".join(lines) + "\n")
    call_command("scoring", "import-history", str(history))
    call_command("scoring", "train")
    out = capsys.readouterr().out
    assert "Nothing to learn from: none of the 200 outcomes has a column that leads have" in out
    assert ScoringModel.objects.count() == 0


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


def test_a_reliability_table_that_falls_is_flagged_but_not_its_noise():
    def table(*observed: float, n: int = 400) -> training.Evaluation:
        rows = [(0.1 * (i + 1), o, n) for i, o in enumerate(observed)]
        return training.Evaluation("m", 0.7, rows, [])

    assert table(0.05, 0.10, 0.20, 0.30, 0.45).monotonic
    assert table(0.05, 0.10, 0.09, 0.30, 0.45).monotonic, "a dip of 1 point in 400 is noise"
    assert not table(0.05, 0.35, 0.09, 0.30, 0.45).monotonic, "predicted 0.39 -> observed 0.09"


def test_a_custom_field_carries_a_history_column_to_live_leads(tmp_path, capsys, make_lead):
    """The history's fleet size reaches live leads through a custom field of the same name:
    leads with other fleet sizes get other probabilities, explained by it."""
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.custom_field_services import custom_field_create, lead_custom_set

    custom_field_create(name="fleet_size", label="Fleet size", kind="number")
    rng = random.Random(8)
    lines = ["id,closed_at,outcome,fleet_size,visits"]
    for i in range(800):
        fleet = rng.randint(1, 400)
        won = rng.random() < (0.75 if fleet > 150 else 0.1)
        day = (START + timedelta(hours=12 * i)).date().isoformat()
        lines.append(f"h{i},{day},{'won' if won else 'lost'},{fleet},{rng.randint(0, 9)}")
    history = tmp_path / "history.csv"
    history.write_text("\n".join(lines) + "\n")
    call_command("scoring", "import-history", str(history))
    assert "Columns used for training: fleet_size, visits" in capsys.readouterr().out
    big, small = make_lead(company="Big"), make_lead(company="Small")
    lead_custom_set(lead=big, changes={"fleet_size": 300}, actor=Actor.system("t"))
    lead_custom_set(lead=small, changes={"fleet_size": 5}, actor=Actor.system("t"))

    call_command("scoring", "train")

    assert ScoringModel.objects.get(active=True)
    big_score, small_score = (LeadScore.objects.get(lead=lead) for lead in (big, small))
    assert big_score.predicted > small_score.predicted + 0.3
    assert big_score.predicted_reasons[0]["feature"] == "fleet_size"


def test_import_history_can_create_the_fields_its_columns_need(tmp_path, capsys, make_lead):
    """A telemarketing-like history: none of its columns exists on leads until
    --create-fields makes them custom fields; then a list imported with the same columns gets
    different, explained probabilities."""
    rng = random.Random(9)
    lines = ["id,closed_at,outcome,job,age,emp.var.rate"]
    for i in range(900):
        job = rng.choice(["admin.", "technician", "retired", "student"])
        age = rng.randint(18, 80)
        rate = rng.choice([-1.8, 1.1, 1.4])
        won = rng.random() < (0.6 if job in ("retired", "student") and rate < 0 else 0.08)
        day = (START + timedelta(hours=12 * i)).date().isoformat()
        lines.append(f"h{i},{day},{'won' if won else 'lost'},{job},{age},{rate}")
    history = tmp_path / "history.csv"
    history.write_text("\n".join(lines) + "\n")
    call_command("scoring", "import-history", str(history), "--create-fields")
    out = capsys.readouterr().out
    assert "Created custom fields: job (text), age (number), emp.var.rate (number)" in out
    assert "Columns used for training: job, age, emp_var_rate" in out
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "Email,job,age,emp.var.rate\na@x.example,retired,70,-1.8\nb@x.example,admin.,35,1.4\n"
    )
    call_command("import_leads", str(leads), "--source", "List", "--no-progress")
    call_command("scoring", "train")
    retired, admin = (
        LeadScore.objects.get(lead__person__email=e) for e in ("a@x.example", "b@x.example")
    )
    assert retired.predicted > admin.predicted + 0.2
    assert retired.predicted_reasons and admin.predicted_reasons


def test_the_worker_predicts_for_leads_that_come_after_training(tmp_path, capsys, make_lead):
    """Training with --background leaves the open leads to the worker's predict sweep; a lead
    that arrives later, and a lead whose fleet size a rep changes, are scored again by it."""
    from leadrefinery.common.jobs import REGISTRY
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.custom_field_services import custom_field_create, lead_custom_set
    from leadrefinery.scoring import predict

    assert "leadrefinery.scoring.predict.predict_sweep" in {job.func for job in REGISTRY}
    custom_field_create(name="fleet_size", label="Fleet size", kind="number")
    rng = random.Random(11)
    lines = ["id,closed_at,outcome,fleet_size"]
    for i in range(600):
        fleet = rng.randint(1, 400)
        won = rng.random() < (0.75 if fleet > 150 else 0.1)
        day = (START + timedelta(hours=12 * i)).date().isoformat()
        lines.append(f"h{i},{day},{'won' if won else 'lost'},{fleet}")
    history = tmp_path / "history.csv"
    history.write_text("\n".join(lines) + "\n")
    call_command("scoring", "import-history", str(history))
    before = make_lead(company="Before")
    lead_custom_set(lead=before, changes={"fleet_size": 10}, actor=Actor.system("t"))

    call_command("scoring", "train", "--background")
    assert "the worker scores 1 open lead(s) in the background" in capsys.readouterr().out
    assert LeadScore.objects.get(lead=before).predicted is None

    later = make_lead(company="Later")
    lead_custom_set(lead=later, changes={"fleet_size": 300}, actor=Actor.system("t"))
    closed = make_lead(company="Closed")
    type(closed).objects.filter(pk=closed.pk).update(stage="lost")
    assert predict.predict_sweep() == 2, "the two open leads, not the lost one"
    low, high = (LeadScore.objects.get(lead=lead) for lead in (before, later))
    assert high.predicted > low.predicted + 0.3
    assert high.predicted_reasons[0]["feature"] == "fleet_size"
    assert LeadScore.objects.get(lead=closed).predicted is None
    assert predict.predict_due_count() == 0
    assert predict.predict_sweep() == 0, "nothing is due twice"

    lead_custom_set(lead=before, changes={"fleet_size": 350}, actor=Actor.system("t"))
    assert predict.predict_sweep() == 1
    assert LeadScore.objects.get(lead=before).predicted > low.predicted + 0.3


def test_the_reasons_are_what_changing_each_feature_does(tmp_path):
    """explain() writes the typical value into each feature's columns of the matrix; that is
    the same as changing the feature in the lead and transforming it again (the slow way)."""
    import numpy as np

    history = tmp_path / "history.csv"
    history.write_text(synthetic_history(600))
    call_command("scoring", "import-history", str(history))
    _, trained = training.train()
    assert trained is not None
    rng = random.Random(3)
    rows = [
        {
            "industry": rng.choice(["manufacturing", "retail", "software", "a new one"]),
            "title_level": rng.choice(["director", "vp", "other"]),
            "visits": rng.randint(0, 20),
            "events": rng.randint(0, 3),
            "engagement": rng.randint(0, 80),
            "source": rng.choice(["Website", "Webinar", "Partner"]),
        }
        for _ in range(60)
    ]
    X = trained.featurizer.transform(rows)
    p = trained.model.predict_proba(X)[:, 1]
    fast = training._effects(trained, rows, X, p)
    reference = training._reference(rows)
    for key in reference:
        changed = [{**r, key: reference[key]} for r in rows]
        slow = p - trained.model.predict_proba(trained.featurizer.transform(changed))[:, 1]
        assert np.allclose(fast[key], slow), key
    assert any(np.abs(fast["visits"]) > 0.01), "the signal moves the probability"
