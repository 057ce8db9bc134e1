import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from leadrefinery.dedupe.training import dedupe_train, dedupe_weights_reset
from leadrefinery.dedupe.weights import LEVELS
from leadrefinery.dedupe.weights import default as default_weights
from leadrefinery.leads.models import Person

# No monitor thread behind the progress bars (they are updated at every chunk or batch):
# a process running a second thread does its work on the other core in a new interpreter
# instead of a fork of itself (common/forking.py), which costs a second or more to start.
tqdm.monitor_interval = 0


class Command(BaseCommand):
    help = (
        "Learn the weights of duplicate matching from the people already stored, without "
        "labels (Fellegi-Sunter: u from random pairs, m by expectation-maximisation over the "
        "pairs that share a block key), and use them from now on for intake, import and "
        "dedupe-scan. Prints each weight next to the hand-set one. Run it after the first "
        "large import, then `refinery dedupe-scan`. (Run as `refinery dedupe-train`.)"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="show the weights that would be learnt; keep using the current ones",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="go back to the hand-set weights (learnt models are kept, unused)",
        )
        parser.add_argument(
            "--random-pairs",
            type=int,
            default=50_000,
            help="pairs drawn at random to learn how often fields agree by chance (default 50000)",
        )
        parser.add_argument("--seed", type=int, default=0, help="for the random pairs (default 0)")
        parser.add_argument(
            "--no-progress", action="store_true", help="do not show the progress bar"
        )

    def handle(self, *args, **o):
        if o["reset"]:
            count = dedupe_weights_reset()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Matching uses the hand-set weights again ({count} learnt model(s) set aside)."
                )
            )
            return
        if o["random_pairs"] < 1000:
            raise CommandError("--random-pairs: at least 1000")
        bar = tqdm(
            total=Person.objects.count(),
            unit="people",
            desc="dedupe-train",
            disable=True if o["no_progress"] else None,
            file=sys.stderr,
        )
        with bar:
            report = dedupe_train(
                random_pairs=o["random_pairs"],
                seed=o["seed"],
                save=not o["dry_run"],
                progress=bar.update,
            )
        if report.learnt is None:
            raise CommandError(f"Nothing learnt: {report.refused}.")
        learnt = report.learnt
        hand = default_weights()
        self.stdout.write(
            f"Learnt from {report.people} people: {learnt.blocked_pairs} pairs sharing a block "
            f"key (about {learnt.matches:.0f} of them the same human), {learnt.random_pairs} "
            f"random pairs; EM {'converged' if learnt.converged else 'stopped'} after "
            f"{learnt.iterations} iterations."
        )
        self.stdout.write(f"{'level':<22} {'hand-set':>9} {'learnt':>8} {'matched pairs':>14}")
        self.stdout.write(f"{'prior':<22} {hand.prior:>9.3g} {learnt.weights.prior:>8.3g}")
        for level in LEVELS:
            self.stdout.write(
                f"{level:<22} {hand.values[level]:>9.3g} {learnt.weights.values[level]:>8.3g} "
                f"{learnt.evidence.get(level, 0):>14.0f}"
            )
        if report.refused:
            raise CommandError(f"Not kept: {report.refused}. Matching keeps its current weights.")
        if report.model is None:
            self.stdout.write("Dry run: matching keeps its current weights.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Saved as match model {report.model.pk}: intake, import and dedupe-scan "
                    "use these weights from now on (`refinery dedupe-train --reset` goes back "
                    "to the hand-set ones)."
                )
            )
