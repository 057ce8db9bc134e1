"""Predictive readiness: learn P(won) from our own closed-loop outcomes.

``collect()`` gathers examples (closed leads: won = 1, lost or disqualified = 0, plus the
history imported from CSV) with features known before the outcome: profile fields, fit and
engagement points, inbound touches by channel. Only the columns a live lead has
(``LIVE_FEATURES``, the same ``lead_features`` for history and live leads) are used: a column
only the history has would make every live lead look the same to the model.

``train()`` splits them by time (the newest quarter is the holdout, as the model will be used
on leads that come later) and fits two candidates on the older part: a gradient-boosted model
and a logistic regression, each calibrated on the newest tenth of its training part (never
with folds cut across time: each fold would calibrate on another period). It reports AUC,
Brier score, a reliability table and lift by decile on the holdout, next to two baselines: a
plain logistic regression and an Odoo-style naive Bayes (per-field value frequencies among
won and lost, as Odoo's predictive lead scoring does). The better candidate is **activated only
when it is at least as good as the plain logistic regression and better than the naive Bayes
on the holdout**; otherwise the previous model (or the rules alone) stays, and the report
says why. ``predict.predict_sweep()`` stores the probability and the top reasons on every open
lead.

Sales touches are left out on purpose: reps touch the leads they already believe in, so
they would leak the outcome into the prediction.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import pickle
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count

from leadrefinery.common.clock import now
from leadrefinery.leads import custom_fields
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.custom_field_services import (
    custom_field_create,
    definitions,
    lead_values,
)
from leadrefinery.leads.models import Lead, Touch

from .models import LeadScore, ScoringModel, TrainingExample

MIN_EXAMPLES = 60
MIN_PER_CLASS = 15
TEST_SHARE = 0.25
FREE_MAIL = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com"}
TOUCH_FEATURES: dict[str, str] = {
    Touch.Channel.VISIT: "visits",
    Touch.Channel.EMAIL_OPEN: "email_opens",
    Touch.Channel.EMAIL_CLICK: "email_clicks",
    Touch.Channel.EVENT: "events",
    Touch.Channel.FORM: "form_fills",
}
NUMERIC = ("fit_points", "engagement", *TOUCH_FEATURES.values())
CATEGORICAL = (
    "source",
    "country",
    "industry",
    "employee_band",
    "product_interest",
    "email_kind",
    "title_level",
)
WON, LOST = "won", ("lost", "disqualified")
# Every feature a live lead has (lead_features): history columns outside it are not used.
LIVE_FEATURES = frozenset((*NUMERIC, *CATEGORICAL))
# The newest part of a training set that calibrates the model: a tenth (the more recent, the
# better it follows a win rate that moves), but at least 200 outcomes, or 30% of a small set.
CALIBRATION_SHARE = 0.1
CALIBRATION_MIN = 200


@dataclass(frozen=True)
class Example:
    key: str
    closed_at: datetime
    won: bool
    features: Mapping[str, Any]


def title_level(title: str) -> str:
    t = title.casefold()
    for word, level in (
        ("chief", "c-level"),
        ("owner", "c-level"),
        ("vp", "vp"),
        ("vice", "vp"),
        ("director", "director"),
        ("head", "director"),
        ("manager", "manager"),
    ):
        if word in t:
            return level
    return "other" if t else "unknown"


def email_kind(email: str) -> str:
    domain = email.rpartition("@")[2]
    if not domain:
        return "none"
    if domain in FREE_MAIL:
        return "free"
    if ".edu" in domain:
        return "student"
    return "company"


def _touch_counts(lead_ids: Sequence[int]) -> dict[int, Counter[str]]:
    out: dict[int, Counter[str]] = defaultdict(Counter)
    rows = (
        Touch.objects.filter(
            lead_id__in=list(lead_ids),
            direction=Touch.Direction.INBOUND,
            channel__in=list(TOUCH_FEATURES),
            voided_at__isnull=True,
        )
        .values("lead_id", "channel")
        .annotate(n=Count("id"))
    )
    for row in rows:
        out[row["lead_id"]][TOUCH_FEATURES[row["channel"]]] = row["n"]
    return out


def lead_features(lead: Lead, score: LeadScore | None, counts: Mapping[str, int]) -> dict[str, Any]:
    person, account = lead.person, lead.account
    features: dict[str, Any] = {
        "source": lead.source.name,
        "country": person.country,
        "industry": account.industry if account else "",
        "employee_band": account.employee_band if account else "",
        "product_interest": lead.product_interest,
        "email_kind": email_kind(person.email),
        "title_level": title_level(person.title),
        "fit_points": score.fit_points if score else 0,
        "engagement": score.engagement if score else 0,
    }
    for name in TOUCH_FEATURES.values():
        features[name] = counts.get(name, 0)
    # The company's own fields, under their names (a history column of the same name feeds
    # the same feature).
    for name, value in lead_values(lead).items():
        if isinstance(value, str | int | float) and name not in features:
            features[name] = value
    return features


def live_features() -> frozenset[str]:
    """The feature names a live lead can have: the built-in ones and the custom fields."""
    return LIVE_FEATURES | {d.name for d in definitions()}


def _leads(stages: Iterable[str]) -> list[Lead]:
    return list(
        Lead.objects.select_related("person", "account", "source", "score")
        .filter(stage__in=list(stages))
        .order_by("pk")
    )


def collect() -> list[Example]:
    """Closed leads and imported history, oldest outcome first."""
    closed = _leads([WON, *LOST])
    counts = _touch_counts([lead.pk for lead in closed])
    examples = [
        Example(
            key=f"lead:{lead.pk}",
            closed_at=lead.disposed_at or lead.stage_changed_at,
            won=lead.stage == WON,
            features=lead_features(lead, getattr(lead, "score", None), counts[lead.pk]),
        )
        for lead in closed
    ]
    live = live_features()
    examples += [
        Example(
            f"import:{t.external_id}",
            t.closed_at,
            t.won,
            {k: v for k, v in t.features.items() if k in live},
        )
        for t in TrainingExample.objects.all()
    ]
    examples.sort(key=lambda e: (e.closed_at, e.key))
    return examples


# --- the report ---------------------------------------------------------------------------


@dataclass
class Evaluation:
    name: str
    auc: float
    calibration: list[tuple[float, float, int]]  # (mean predicted, observed rate, count)
    lift: list[float]  # win rate of each decile (best first) / overall win rate
    brier: float = 0.0  # mean squared error of the probability
    mean_predicted: float = 0.0
    base_rate: float = 0.0

    @property
    def monotonic(self) -> bool:
        """The observed win rate rises with the predicted one, quintile by quintile: no
        quintile's rate falls below the one before by more than twice the standard error of
        the difference (a smaller dip is the noise of a small holdout)."""
        for (_, a, na), (_, b, nb) in itertools.pairwise(self.calibration):
            rate = (a * na + b * nb) / (na + nb) if na + nb else 0.0
            noise = 2 * math.sqrt(rate * (1 - rate) * (1 / max(na, 1) + 1 / max(nb, 1)))
            if a - b > noise:
                return False
        return True


@dataclass
class Report:
    enough: bool
    message: str
    train_size: int = 0
    test_size: int = 0
    split_at: datetime | None = None
    evaluations: list[Evaluation] = field(default_factory=list)
    chosen: str = ""  # the candidate kept (its evaluation's name)
    activate: bool = False
    verdict: str = ""  # why it is, or is not, activated
    notes: list[str] = field(default_factory=list)

    @property
    def main(self) -> Evaluation:
        return next(e for e in self.evaluations if e.name == self.chosen)

    def lines(self) -> list[str]:
        out = [self.message, *self.notes]
        if not self.enough:
            return out
        out.append(
            f"Time-ordered split: {self.train_size} outcomes before {self.split_at:%Y-%m-%d} "
            f"to train, the {self.test_size} after to test (holdout)."
        )
        out.append("")
        out.append(f"{'model':<40} {'AUC':>6} {'Brier':>6} {'mean p':>7} {'base rate':>9}")
        for e in self.evaluations:
            out.append(
                f"{e.name:<40} {e.auc:6.3f} {e.brier:6.3f} {e.mean_predicted:7.3f} "
                f"{e.base_rate:9.3f}"
            )
        for e in self.evaluations:
            out.append("")
            out.append(f"Reliability, {e.name} (predicted vs observed win rate, by quintile):")
            for predicted, observed, n in e.calibration:
                out.append(f"  predicted {predicted:5.2f}   observed {observed:5.2f}   ({n} leads)")
            out.append(f"Lift by decile, {e.name}: " + " ".join(f"{x:.2f}" for x in e.lift))
        out.append("")
        out.append(self.verdict)
        return out


def _evaluate(name: str, y: np.ndarray, p: np.ndarray) -> Evaluation:
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, p))
    order = np.argsort(-p, kind="stable")
    bins = np.array_split(order, 5)
    calibration = [
        (float(p[b].mean()), float(y[b].mean()), len(b))
        for b in sorted(bins, key=lambda b: p[b].mean())
    ]
    base = float(y.mean()) or 1.0
    lift = [float(y[d].mean()) / base if len(d) else 0.0 for d in np.array_split(order, 10)]
    return Evaluation(
        name,
        auc,
        calibration,
        lift,
        brier=float(np.mean((p - y) ** 2)),
        mean_predicted=float(p.mean()),
        base_rate=float(y.mean()),
    )


class Featurizer:
    """Dict features -> a dense matrix: numbers as they are, categories one-hot."""

    def __init__(self, categorical_only: bool = False) -> None:
        from sklearn.feature_extraction import DictVectorizer

        self.categorical_only = categorical_only
        self.vectorizer = DictVectorizer(sparse=False)

    def _rows(self, examples: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for features in examples:
            row: dict[str, Any] = {}
            for key, value in features.items():
                if isinstance(value, bool):
                    value = str(value)
                if isinstance(value, int | float) and not self.categorical_only:
                    row[key] = float(value)
                elif isinstance(value, int | float):
                    row[key] = _bucket(float(value))  # naive Bayes sees value ranges
                else:
                    row[key] = str(value or "(blank)")
            rows.append(row)
        return rows

    def fit(self, examples: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return np.asarray(self.vectorizer.fit_transform(self._rows(examples)))

    def transform(self, examples: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return np.asarray(self.vectorizer.transform(self._rows(examples)))


def _bucket(value: float) -> str:
    for limit in (0, 1, 2, 5, 10, 20, 50, 100):
        if value <= limit:
            return f"<={limit}"
    return ">100"


@dataclass
class Trained:
    featurizer: Featurizer
    model: Any
    columns: list[str]


class TimeCalibrated:
    """A classifier whose probabilities are mapped to the win rates of the newest outcomes it
    was given, by Platt scaling (a logistic curve on the model's log-odds: it keeps every
    lead's rank, where isotonic regression would give thousands of leads one value).
    ``refit``: the model is fitted on all the rows (a logistic regression: calibration then
    only moves its intercept and slope), else on the older rows only (a boosted model would be
    calibrated on rows it has memorised)."""

    def __init__(self, model: Any, *, refit: bool) -> None:
        self.model = model
        self.refit = refit
        self.calibrator: Any = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> TimeCalibrated:
        from sklearn.linear_model import LogisticRegression

        size = max(int(len(y) * CALIBRATION_SHARE), min(CALIBRATION_MIN, int(len(y) * 0.3)))
        cut = len(y) - size
        older, newer = slice(0, cut), slice(cut, None)
        if len(set(y[older])) < 2 or len(set(y[newer])) < 2:
            cut, older, newer = len(y), slice(None), slice(None)  # too few: calibrate in place
        self.model.fit(X if self.refit else X[older], y if self.refit else y[older])
        raw = self._raw(X[newer])
        self.calibrator = LogisticRegression(C=1e6, max_iter=1000)
        self.calibrator.fit(raw.reshape(-1, 1), y[newer])
        if self.calibrator.coef_[0][0] <= 0:
            # The newest outcomes do not rise with the model's score: it has no signal for
            # them. Every lead gets their win rate rather than an inverted order.
            self.calibrator.coef_[0][0] = 0.0
            rate = float(np.clip(y[newer].mean(), 1e-6, 1 - 1e-6))
            self.calibrator.intercept_[0] = float(np.log(rate / (1 - rate)))
        return self

    def _raw(self, X: np.ndarray) -> np.ndarray:
        p = np.clip(self.model.predict_proba(X)[:, 1], 1e-6, 1 - 1e-6)
        return np.asarray(np.log(p / (1 - p)))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.calibrator.predict_proba(self._raw(X).reshape(-1, 1))[:, 1]
        return np.column_stack([1 - p, p])


def _boosted() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    # Small trees, a slow rate and a floor on leaf size: outcome data is noisy and often
    # small; no early stopping (its validation rows would be drawn across time).
    return HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.05,
        max_leaf_nodes=8,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=0,
    )


def _logistic() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


BOOSTED = "gradient boosting, calibrated"
LOGISTIC = "logistic regression, calibrated"
CANDIDATES = {BOOSTED: (_boosted, False), LOGISTIC: (_logistic, True)}


def _fit_candidate(name: str, X: np.ndarray, y: np.ndarray) -> TimeCalibrated:
    from threadpoolctl import threadpool_limits

    make, refit = CANDIDATES[name]
    # One thread: OpenMP's many threads on a small table cost far more than they save, and
    # the command shares the machine with the web server and the worker.
    with threadpool_limits(limits=1):
        return TimeCalibrated(make(), refit=refit).fit(X, y)


def decide(evaluations: Sequence[Evaluation], candidates: Sequence[str]) -> tuple[str, bool, str]:
    """(the candidate kept, activate it?, why). The best candidate by holdout AUC is activated
    only when its AUC is at least the plain logistic regression's and above the naive
    Bayes's; a tie with the naive Bayes is not a win."""
    by_name = {e.name: e for e in evaluations}
    best = max(candidates, key=lambda n: (by_name[n].auc, n == LOGISTIC))
    auc = by_name[best].auc
    logistic = by_name[BASELINE_LOGISTIC].auc
    bayes = by_name[BASELINE_BAYES].auc
    others = [n for n in candidates if n != best]
    lost = "".join(f" ({n}: {by_name[n].auc:.3f})" for n in others)
    if auc >= logistic and auc > bayes:
        return (
            best,
            True,
            f"Activated: {best}, holdout AUC {auc:.3f}{lost}, against the baselines' "
            f"{logistic:.3f} (logistic regression) and {bayes:.3f} (naive Bayes).",
        )
    beaten = [
        f"{name} ({value:.3f})"
        for name, value, lose in (
            ("the plain logistic regression", logistic, auc < logistic),
            ("the naive Bayes", bayes, auc <= bayes),
        )
        if lose
    ]
    return (
        best,
        False,
        f"Not activated: the best model, {best}, has a holdout AUC of {auc:.3f}, no better "
        f"than {' and '.join(beaten)}. The previous model (or the rules alone) stays.",
    )


BASELINE_LOGISTIC = "baseline: logistic regression"
BASELINE_BAYES = "baseline: naive Bayes (Odoo-style)"


def _fit_naive_bayes(X: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.naive_bayes import BernoulliNB

    return BernoulliNB(alpha=1.0).fit(X, y)


def train(examples: Sequence[Example] | None = None) -> tuple[Report, Trained | None]:
    """Fit and evaluate; with too little history, say so and return no model."""
    examples = list(collect() if examples is None else examples)
    won = sum(e.won for e in examples)
    lost = len(examples) - won
    cut = int(len(examples) * (1 - TEST_SHARE))
    train_part, test_part = examples[:cut], examples[cut:]
    need = (
        f"at least {MIN_EXAMPLES} closed outcomes with {MIN_PER_CLASS} won and "
        f"{MIN_PER_CLASS} lost among them, and both outcomes in the newest quarter"
    )
    if (
        len(examples) < MIN_EXAMPLES
        or min(won, lost) < MIN_PER_CLASS
        or len({e.won for e in test_part}) < 2
        or len({e.won for e in train_part}) < 2
    ):
        return (
            Report(
                False,
                f"Not enough history to train: {len(examples)} closed outcomes ({won} won, "
                f"{lost} lost or disqualified); need {need}. Nothing was changed. "
                "Import past outcomes with `refinery scoring import-history FILE`.",
            ),
            None,
        )
    if not any(e.features for e in examples):
        return (
            Report(
                False,
                f"Nothing to learn from: none of the {len(examples)} outcomes has a column "
                f"that leads have ({', '.join(sorted(live_features()))}). Nothing was changed. "
                "Define a custom field for each column your leads should carry too.",
            ),
            None,
        )
    y_train = np.array([e.won for e in train_part], dtype=int)
    y_test = np.array([e.won for e in test_part], dtype=int)
    full = Featurizer()
    X_train = full.fit([e.features for e in train_part])
    X_test = full.transform([e.features for e in test_part])
    fitted = {name: _fit_candidate(name, X_train, y_train) for name in CANDIDATES}
    evaluations = [
        _evaluate(name, y_test, model.predict_proba(X_test)[:, 1]) for name, model in fitted.items()
    ]
    # The logistic candidate is fitted on all the training rows before its calibration: its
    # model is the plain logistic regression the baseline is.
    logistic = fitted[LOGISTIC].model
    nb_features = Featurizer(categorical_only=True)
    nb = _fit_naive_bayes(nb_features.fit([e.features for e in train_part]), y_train)
    evaluations += [
        _evaluate(BASELINE_LOGISTIC, y_test, logistic.predict_proba(X_test)[:, 1]),
        _evaluate(
            BASELINE_BAYES,
            y_test,
            nb.predict_proba(nb_features.transform([e.features for e in test_part]))[:, 1],
        ),
    ]
    chosen, activate, verdict = decide(evaluations, list(CANDIDATES))
    kept = next(e for e in evaluations if e.name == chosen)
    if abs(kept.mean_predicted - kept.base_rate) > 0.02:
        verdict += (
            f" Its mean probability on the holdout is {kept.mean_predicted:.3f} against a win "
            f"rate of {kept.base_rate:.3f}: the win rate moved between the periods."
        )
    if not kept.monotonic:
        verdict += " Its reliability table is not monotonic: read single scores with care."
    report = Report(
        True,
        f"Trained on our own outcomes: {len(examples)} closed ({won} won, {lost} lost or "
        "disqualified).",
        train_size=len(train_part),
        test_size=len(test_part),
        split_at=test_part[0].closed_at,
        evaluations=evaluations,
        chosen=chosen,
        activate=activate,
        verdict=verdict,
    )
    # The stored model learns from every outcome, the newest included (and calibrates on the
    # newest of them).
    final = Featurizer()
    X_all = final.fit([e.features for e in examples])
    model = _fit_candidate(chosen, X_all, np.array([e.won for e in examples], dtype=int))
    return report, Trained(final, model, list(final.vectorizer.get_feature_names_out()))


# --- using the model ----------------------------------------------------------------------


def _reference(examples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The typical lead: the median of each number, the most common value of each category."""
    keys = {k for e in examples for k in e}
    out: dict[str, Any] = {}
    for key in keys:
        values = [e.get(key) for e in examples if key in e]
        numbers = [
            float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        if numbers and len(numbers) == len(values):
            out[key] = float(np.median(numbers))
        else:
            out[key] = Counter(str(v) for v in values).most_common(1)[0][0]
    return out


def _effects(
    trained: Trained, rows: Sequence[Mapping[str, Any]], X: np.ndarray, p: np.ndarray
) -> dict[str, np.ndarray]:
    """Per feature, how much each row's probability falls when that feature alone is set to
    the typical lead's value. Each feature owns its columns of the matrix (its number, or one
    column per category), so the typical value is written into those columns of a copy of
    ``X``: the same matrix as transforming the changed rows, without building them again."""
    reference = _reference(rows)
    typical = trained.featurizer.transform([reference])[0]
    owners: dict[str, list[int]] = defaultdict(list)
    for index, name in enumerate(trained.featurizer.vectorizer.feature_names_):
        owners[str(name).split("=", 1)[0]].append(index)
    effects: dict[str, np.ndarray] = {}
    for key in sorted(reference):
        columns = owners.get(key)
        if not columns:  # a feature the model never saw changes nothing
            effects[key] = np.zeros(len(rows))
            continue
        changed = X.copy()
        changed[:, columns] = typical[columns]
        effects[key] = p - trained.model.predict_proba(changed)[:, 1]
    return effects


def explain(
    trained: Trained, rows: Sequence[Mapping[str, Any]], top: int = 3
) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
    """Probabilities and, per row, the features that move it most against the typical lead
    (each feature set to the typical value in turn: the drop or rise it causes)."""
    X = trained.featurizer.transform(rows)
    p = trained.model.predict_proba(X)[:, 1]
    effects = _effects(trained, rows, X, p)
    reasons = []
    for i, row in enumerate(rows):
        ranked = sorted(effects, key=lambda k: -abs(effects[k][i]))
        reasons.append(
            [
                {
                    "feature": k,
                    "value": row.get(k),
                    "effect": round(float(effects[k][i]), 3),
                    "text": f"{k} = {row.get(k)!s}: {'+' if effects[k][i] >= 0 else ''}"
                    f"{effects[k][i] * 100:.0f} points of probability",
                }
                for k in ranked[:top]
                if abs(effects[k][i]) >= 0.005
            ]
        )
    return p, reasons


def store(
    trained: Trained, report: Report, *, at: datetime | None = None
) -> tuple[ScoringModel, int]:
    """Keep the model; when the report activates it, it replaces the active one and every
    open lead goes on the predict sweep (``predict.predict_sweep``, which the worker runs
    every minute), else it is kept inactive (with its report, for the record) and nothing
    else changes. Returns (model row, open leads put on the sweep)."""
    at = at or now()
    version = at.astimezone(UTC).strftime("m%Y%m%d%H%M%S")
    with transaction.atomic():
        if ScoringModel.objects.filter(version__startswith=version).exists():  # same second
            version += f"-{ScoringModel.objects.filter(version__startswith=version).count() + 1}"
        if report.activate:
            ScoringModel.objects.filter(active=True).update(active=False)
        row = ScoringModel.objects.create(
            version=version,
            trained_at=at,
            examples=report.train_size + report.test_size,
            auc=report.main.auc,
            report={"lines": report.lines()},
            features=trained.columns,
            blob=pickle.dumps(trained),
            active=report.activate,
        )
        if not report.activate:
            return row, 0
        due = LeadScore.objects.filter(lead__stage__in=list(lead_domain.OPEN_STAGES)).update(
            predict_due_at=at
        )
    return row, due


# --- importing history --------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    imported: int
    updated: int
    errors: list[str]
    used: list[str] = field(default_factory=list)  # feature columns live leads have too
    unused: list[str] = field(default_factory=list)  # columns no lead has: left out


def _value(raw: str) -> Any:
    text = raw.strip()
    try:
        return float(text)
    except ValueError:
        return text


def _feature_name(column: str, live: frozenset[str]) -> str:
    """A history column's feature: its own name, or the custom field named after it
    ("emp.var.rate" feeds emp_var_rate)."""
    if column in live:
        return column
    name = custom_fields.slug(column)
    return name if name in live else column


def history_fields_create(text: str, *, sample: int = 2000) -> list[str]:
    """A custom field on leads for each feature column of a history CSV that no lead has (its
    kind read from the column's first ``sample`` values); returns "column (kind)" for each."""
    reader = csv.DictReader(io.StringIO(text))
    live = live_features()
    columns = [c for c in reader.fieldnames or [] if c and c not in {"id", "closed_at", "outcome"}]
    wanted = [c for c in columns if c not in live]
    if not wanted:
        return []
    seen: dict[str, list[str]] = {c: [] for c in wanted}
    for row in itertools.islice(reader, sample):
        for c in wanted:
            seen[c].append(row.get(c) or "")
    created = []
    taken = set(live)
    for column in wanted:
        name = custom_fields.slug(column)
        if not name or name in custom_fields.RESERVED or name in taken:
            continue
        taken.add(name)
        kind = custom_fields.infer_kind(seen[column])
        custom_field_create(name=name, label=column, kind=kind)
        created.append(f"{column} ({kind})")
    return created


@transaction.atomic
def import_history(text: str, *, at: datetime | None = None) -> ImportResult:
    """CSV with columns ``id``, ``closed_at`` (ISO date), ``outcome`` (won / lost /
    disqualified) and any feature columns (the names above, e.g. source, industry,
    engagement, visits). A row with a known id replaces the earlier import. Every column is
    kept with the row; training uses those a live lead has (``used``), not the others
    (``unused``): a model could not score live leads on them."""
    at = at or now()
    reader = csv.DictReader(io.StringIO(text))
    required = {"id", "closed_at", "outcome"}
    missing = required - set(reader.fieldnames or [])
    if missing:
        return ImportResult(0, 0, [f"missing column(s): {', '.join(sorted(missing))}"])
    errors: list[str] = []
    rows: dict[str, TrainingExample] = {}
    live = live_features()
    for number, raw in enumerate(reader, start=2):
        outcome = (raw.get("outcome") or "").strip().lower()
        if outcome not in (WON, *LOST):
            errors.append(f"line {number}: outcome must be won, lost or disqualified")
            continue
        try:
            closed = datetime.fromisoformat((raw.get("closed_at") or "").strip())
        except ValueError:
            errors.append(f"line {number}: closed_at must be an ISO date, e.g. 2025-06-30")
            continue
        if closed.tzinfo is None:
            closed = closed.replace(tzinfo=UTC)
        key = (raw.get("id") or "").strip()
        if not key:
            errors.append(f"line {number}: id is empty")
            continue
        features = {
            _feature_name(k, live): _value(v or "")
            for k, v in raw.items()
            if k and k not in required and (v or "").strip()
        }
        rows[key] = TrainingExample(
            external_id=key[:120],
            closed_at=closed,
            won=outcome == WON,
            features=features,
            imported_at=at,
        )
    if errors:
        return ImportResult(0, 0, errors)
    columns = [_feature_name(c, live) for c in reader.fieldnames or [] if c and c not in required]
    existing = set(
        TrainingExample.objects.filter(external_id__in=list(rows)).values_list(
            "external_id", flat=True
        )
    )
    TrainingExample.objects.bulk_create(
        rows.values(),
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["external_id"],
        update_fields=["closed_at", "won", "features", "imported_at"],
    )
    return ImportResult(
        len(rows) - len(existing),
        len(existing),
        [],
        used=[c for c in columns if c in live],
        unused=[c for c in columns if c not in live],
    )
