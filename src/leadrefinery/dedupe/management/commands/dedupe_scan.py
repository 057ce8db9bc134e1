import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from leadrefinery.dedupe.services import dedupe_scan
from leadrefinery.dedupe.training import TrainReport, train_due
from leadrefinery.leads.models import Person

# No monitor thread behind the progress bars (they are updated at every chunk or batch):
# a process running a second thread does its work on the other core in a new interpreter
# instead of a fork of itself (common/forking.py), which costs a second or more to start.
tqdm.monitor_interval = 0


class Command(BaseCommand):
    help = (
        "Find possible duplicates among the people already stored and put them in the review "
        "queue (the Duplicates page, GET /api/v1/duplicates). Works in batches by blocking on "
        "the stored match keys, so it never compares all pairs; pairs once marked 'not a "
        "duplicate' are never proposed again. Merges nothing by itself. First it learns the "
        "match weights from the stored people (as `refinery dedupe-train` does) when none "
        "were learnt yet or the people have doubled since. (Run as `refinery dedupe-scan`.)"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="people per batch (default 500)"
        )
        parser.add_argument(
            "--max-block",
            type=int,
            default=200,
            help="skip a block key shared by more people than this, as uninformative (default 200)",
        )
        learning = parser.add_mutually_exclusive_group()
        learning.add_argument(
            "--learn", action="store_true", help="learn the match weights first, whatever is due"
        )
        learning.add_argument(
            "--no-learn", action="store_true", help="scan with the weights in use, learning none"
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="do not show the progress bar"
        )

    def handle(self, *args, **o):
        people = Person.objects.count()
        learn = bool(o["learn"]) or (not o["no_learn"] and train_due(people))
        learning = self._bar(people, "learning weights", o) if learn else None
        with self._bar(people, "dedupe-scan", o) as bar:
            report = dedupe_scan(
                batch_size=max(1, o["batch_size"]),
                max_block=max(2, o["max_block"]),
                learn=learn,
                progress=bar.update,
                learning_progress=learning.update if learning is not None else None,
            )
        if learning is not None:
            learning.close()
        if report.training is not None:
            self._say_learnt(report.training)
        self.stdout.write(
            self.style.SUCCESS(
                f"Scanned {report.people} people with {report.comparisons} comparisons: "
                f"{report.found} possible duplicate pair(s), {report.proposed} new in the review "
                f"queue."
            )
        )
        if report.skipped_blocks:
            self.stdout.write(
                f"{report.skipped_blocks} block key(s) were too common to compare "
                "(raise --max-block to include them)."
            )

    def _bar(self, total: int, what: str, o) -> tqdm:
        return tqdm(
            total=total,
            unit="people",
            desc=what,
            disable=True if o["no_progress"] else None,  # None: off when not a terminal
            file=sys.stderr,
        )

    def _say_learnt(self, training: TrainReport) -> None:
        if training.model is not None:
            self.stdout.write(
                f"Learnt the match weights from {training.people} people (match model "
                f"{training.model.pk}; `refinery dedupe-train --dry-run` shows them, "
                "`--reset` goes back to the hand-set ones)."
            )
        else:
            self.stdout.write(f"Kept the match weights in use: {training.refused}.")
