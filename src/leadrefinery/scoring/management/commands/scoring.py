from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from threadpoolctl import threadpool_limits

from leadrefinery.scoring import predict, rules, services, training


class Command(BaseCommand):
    help = (
        "Scoring jobs. `refinery scoring train`: learn predictive readiness from closed "
        "outcomes (won vs lost/disqualified, time-ordered split), print a backtest next to a "
        "logistic regression and a naive Bayes baseline, and, only when the model beats both "
        "on the newest outcomes, activate it and store its probability with the top reasons "
        "on every open lead (with too little history it says so and changes nothing; with "
        "--background the worker scores the open leads instead). `refinery scoring predict`: "
        "run the predict sweep now (the worker runs it every minute: new leads, and leads "
        "whose engagement or fields changed, get the active model's probability). "
        "`refinery scoring import-history FILE`: load past outcomes from a CSV (id, "
        "closed_at, outcome, feature columns; it says which columns leads have and will be "
        "used). `refinery scoring decay`: run the "
        "decay sweep now (the worker runs it daily). `refinery scoring rescore`: recompute "
        "the fit of every open lead."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="train and backtest the readiness model")
        train.add_argument(
            "--dry-run", action="store_true", help="print the backtest, store nothing"
        )
        train.add_argument(
            "--background",
            action="store_true",
            help="activate the model and leave the scoring of the open leads to the worker "
            "(its predict sweep runs every minute, in chunks)",
        )
        history = sub.add_parser("import-history", help="load past outcomes from CSV")
        history.add_argument("file", help="CSV: id, closed_at, outcome, feature columns")
        history.add_argument(
            "--create-fields",
            action="store_true",
            help="create a custom field on leads for each column no lead has yet (its kind "
            "read from its values), so that the model can use it and score live leads on it",
        )
        sub.add_parser("predict", help="score the leads that are due with the active model, now")
        sub.add_parser("decay", help="decay the scores that are due now")
        sub.add_parser("rescore", help="recompute the fit grade of every open lead")

    def handle(self, *args, **o):
        action = o["action"]
        if action == "train":
            with threadpool_limits(limits=1):  # see training._fit_candidate
                self._train(dry_run=o["dry_run"], background=o["background"])
        elif action == "import-history":
            path = Path(o["file"])
            if not path.exists():
                raise CommandError(f"no such file: {path}")
            text = path.read_text(encoding="utf-8-sig")
            if o["create_fields"]:
                created = training.history_fields_create(text)
                if created:
                    self.stdout.write("Created custom fields: " + ", ".join(created))
            result = training.import_history(text)
            if result.errors:
                for error in result.errors[:50]:
                    self.stderr.write(error)
                raise CommandError(f"nothing imported: {len(result.errors)} error(s)")
            self.stdout.write(
                f"Imported {result.imported} past outcome(s), replaced {result.updated}."
            )
            if result.used:
                self.stdout.write("Columns used for training: " + ", ".join(result.used))
            if result.unused:
                self.stdout.write(
                    self.style.WARNING(
                        "Not used for training, as no lead has them (a model could not score "
                        "live leads on them): " + ", ".join(result.unused) + ". Define a custom "
                        "field of the same name for each one your leads should carry (or run "
                        "import-history again with --create-fields)."
                    )
                )
        elif action == "predict":
            with threadpool_limits(limits=1):
                done = predict.predict_sweep(budget_seconds=None)
            self.stdout.write(f"{done} open lead(s) have a new predicted readiness.")
        elif action == "decay":
            self.stdout.write(f"{services.decay_sweep()} lead score(s) brought up to date.")
        elif action == "rescore":
            self.stdout.write(f"{rules.scores_rescore()} lead(s) changed grade or temperature.")

    def _train(self, *, dry_run: bool, background: bool) -> None:
        report, trained = training.train()
        for line in report.lines():
            self.stdout.write(line)
        if trained is None or dry_run:
            return
        row, due = training.store(trained, report)
        if not row.active:
            self.stdout.write(f"Kept model {row.version} for the record, not active.")
            return
        if background:
            self.stdout.write(
                f"Stored model {row.version}; the worker scores {due} open lead(s) in the "
                "background (`refinery scoring predict` does it now)."
            )
            return
        scored = predict.predict_sweep(at=row.trained_at, budget_seconds=None)
        self.stdout.write(
            f"Stored model {row.version}; {scored} open lead(s) have a predicted readiness."
        )
