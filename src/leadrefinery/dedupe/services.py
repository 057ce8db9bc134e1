"""Writes for dedupe: matching a batch of inquiries, proposing possible duplicates, linking
people to accounts, and scanning stored people for duplicates. Merging two people and
deciding a reviewed pair are in merging.py.

Every write is a keyword-only, atomic service that records timeline events (LeadEvent) with
the actor and the reason. Refusals raise ``ServiceError`` with a message fit to show the user.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.db import transaction
from rapidfuzz import fuzz, process

from leadrefinery.common.clock import now
from leadrefinery.common.collector import fewer_collections
from leadrefinery.common.db import build, insert_rows, read_in_bulk
from leadrefinery.common.forking import BothEnds
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.events import events_insert
from leadrefinery.leads.models import Account, Lead, LeadEvent, Person

from . import domain, keys, queries, selectors
from .models import DuplicatePair, PersonVariant
from .training import TrainReport, dedupe_train, train_due
from .weights import Weights

# --- Matching a batch of inquiries ----------------------------------------------------------

# A match target: an existing Person, or ("row", n) for a person row n of the batch creates.
Target = Person | int
# While matching, an existing person is a selectors.Stored (its Person is made if chosen).
_Candidate = selectors.Stored | int


@dataclass
class RowMatch:
    """What matching decided for one inquiry."""

    person: Person | None = None  # attach to this existing person
    same_as_row: int | None = None  # attach to the person an earlier row creates
    match: domain.Match | None = None  # why (for the auto decision)
    review: list[tuple[Target, domain.Match]] = field(default_factory=list)

    @property
    def creates(self) -> bool:
        return self.person is None and self.same_as_row is None


class Matcher:
    """Matches rows against the database and against the rows it has seen before (so that
    duplicates inside one file or one batch follow the same rules). Two queries per block per
    call, whatever the number of rows.

    The stored people each block key finds are remembered across calls (up to
    ``_REMEMBERED`` of them; keys that found nobody are kept longer), so a key that later
    rows share again (a common name, a postcode, a company, a stop word) is read once: one
    Matcher serves one batch, or one import's plan, which matches against the people stored
    when it started."""

    def __init__(
        self,
        *,
        auto: float | None = None,
        review: float | None = None,
        weights: Weights | None = None,
    ) -> None:
        default_auto, default_review = selectors.thresholds()
        self.weights = weights or selectors.match_weights()
        self.auto = default_auto if auto is None else auto
        self.review = default_review if review is None else review
        self.rows = 0
        self._stored: dict[selectors.BlockKey, Sequence[selectors.Candidate]] = {}
        self._remembered = 0
        # block key -> [(target, record)], for the rows seen so far
        self._seen: dict[tuple[str, tuple[str, ...]], list[tuple[_Candidate, domain.Record]]] = (
            defaultdict(list)
        )
        # Stop words: keys shared by more than MAX_BLOCK people, stored and seen together.
        self._stop: set[selectors.BlockKey] = set()

    def match(self, people: Sequence[Mapping[str, str]]) -> list[RowMatch]:
        records = [domain.Record.of(p) for p in people]
        index = self._stored_index(records)
        floor = min(self.auto, self.review)
        out: list[RowMatch] = []
        for record in records:
            row = self.rows
            self.rows += 1
            # A candidate found through several blocks is scored once per distinct record
            # (a survivor may stand for several merged records: the best of them counts).
            pairs: dict[tuple[object, int], tuple[_Candidate, domain.Record]] = {}
            keys = [key for key in domain.block_keys(record) if key not in self._stop]
            for key in keys:
                stored, seen = index.get(key, ()), self._seen.get(key, ())
                if len(stored) + len(seen) >= domain.MAX_BLOCK:
                    # With this row, more people than a block may hold: a stop word in the
                    # file as in the database (the online check drops it the same way).
                    self._stop.add(key)
                    self._seen.pop(key, None)
                    continue
                for target, other in (*stored, *seen):
                    pairs.setdefault((_ident(target), id(other)), (target, other))
            # Scored without their reasons; the few pairs kept are explained below.
            scored: dict[object, tuple[_Candidate, domain.Match, domain.Record]] = {}
            for (ident, _), (target, other) in pairs.items():
                match = domain.score_at_least(record, other, floor, weights=self.weights)
                if match is None:  # below both thresholds: dropped below anyway
                    continue
                previous = scored.get(ident)
                if previous is None or match.weight > previous[1].weight:
                    scored[ident] = (target, match, other)
            result = RowMatch()
            # Only pairs at or above a threshold can attach or be proposed: most candidates
            # are dropped before sorting.
            ranked = sorted(
                (tm for tm in scored.values() if tm[1].score >= floor),
                key=lambda tm: (-tm[1].weight, _order(tm[0])),
            )
            owner: _Candidate = row
            first = next((tm for tm in ranked if tm[1].can_attach(self.auto)), None)
            if first is not None:
                owner, _, other = first
                result.match = domain.score(record, other, weights=self.weights)
                if isinstance(owner, selectors.Stored):
                    result.person = owner.person()
                else:
                    result.same_as_row = owner
            if result.creates:
                kept = [
                    (t, other)
                    for t, m, other in ranked
                    if self.review <= m.score and _ident(t) != _ident(owner)
                ][:5]
                result.review = [
                    (_target(t), domain.score(record, other, weights=self.weights))
                    for t, other in kept
                ]
            for key in keys:
                if key not in self._stop:
                    self._seen[key].append((owner, record))
            out.append(result)
        return out

    def _stored_index(
        self, records: Sequence[domain.Record]
    ) -> Mapping[selectors.BlockKey, Sequence[selectors.Candidate]]:
        """The stored people by the block keys of ``records``: those read before, and the
        rest read now (a key that found nobody, or a stop word, is remembered as empty)."""
        if self._remembered > _REMEMBERED:
            # Forget the people found; keep the keys that found nobody (or a stop word's
            # crowd), which cost one entry each and are the reads most worth skipping.
            self._stored = {key: found for key, found in self._stored.items() if not found}
            self._remembered = len(self._stored)
        read = selectors.candidate_index(records, variants=True, known=self._stored)
        self._stop |= read.stop
        found = read.by_key
        for record in records:
            for key in domain.block_keys(record):
                if key not in self._stored:
                    people = found.get(key, ())
                    self._stored[key] = people
                    self._remembered += len(people) + 1
        return self._stored


# Block-key reads a Matcher keeps (people found, plus one per key): a found person costs
# about a kilobyte (its row and record), so at most about 50 MB.
_REMEMBERED = 50_000


# A record kept as a variant: the signature of its block keys ("" when it has none: nothing
# to keep) and the values stored.
Variant = tuple[str, dict[str, str]]


def variant_of(fields: Mapping[str, str]) -> Variant:
    """The variant a record of these person fields (with their match keys) is kept as."""
    record = domain.Record.of(fields)
    block_keys = sorted(domain.block_keys(record))
    if not block_keys:
        return "", {}
    signature = hashlib.sha1(repr(block_keys).encode()).hexdigest()
    return signature, {name: getattr(record, name) or "" for name in _VARIANT_COPY}


def variants_record(attached: Sequence[tuple[Person, Mapping[str, str]]], *, at: datetime) -> int:
    """Keep each record attached to a person as a variant, once per set of block keys, so
    the person's match keys are the union of every record attached to it. Every distinct
    record is kept, not only those bringing keys the person's row lacks at the time: that
    row changes as records fill in its blanks, and what is kept must not depend on how the
    records were batched. Returns how many rows were offered (the same variant is kept once)."""
    return variants_store([(person, variant_of(fields)) for person, fields in attached], at=at)


def variants_store(attached: Sequence[tuple[Person, Variant]], *, at: datetime) -> int:
    """``variants_record`` of variants already made by ``variant_of`` (an import's matching
    process makes them for the rows it attaches)."""
    rows: dict[tuple[int, str], PersonVariant] = {}
    offered = 0
    for person, (signature, values) in attached:
        if not signature:
            continue
        offered += 1
        if (person.pk, signature) in rows:
            continue
        rows[(person.pk, signature)] = build(
            PersonVariant, person_id=person.pk, signature=signature, created_at=at, **values
        )
    # The lean insert (common.db): Django's bulk_create compiled every value through the
    # field machinery, and was two thirds of this function's time on an import.
    insert_rows(PersonVariant, list(rows.values()), ignore_conflicts=True)
    return offered


_VARIANT_COPY = (
    "email", "phone", "first_name", "last_name", "company_name", "street", "city",
    *keys.KEY_FIELDS,
)  # fmt: skip


def _ident(candidate: _Candidate) -> tuple[str, int]:
    if isinstance(candidate, selectors.Stored):
        return ("p", candidate.pk)
    return ("r", candidate)


def _order(candidate: _Candidate) -> tuple[int, int]:
    return (0, candidate.pk) if isinstance(candidate, selectors.Stored) else (1, candidate)


def _target(candidate: _Candidate) -> Target:
    return candidate.person() if isinstance(candidate, selectors.Stored) else candidate


def match_batch(people: Sequence[Mapping[str, str]]) -> list[RowMatch]:
    """For each inquiry (Person attribute names): the person it attaches to, or None, and the
    possible duplicates to review when it creates a new person."""
    results = Matcher().match(people)
    # Candidates were read with the match columns only; the people intake attaches to are
    # read whole (one query), since intake fills in their blanks.
    ids = sorted({r.person.pk for r in results if r.person is not None})
    if ids:
        full = read_in_bulk(Person, ids)
        for result in results:
            if result.person is not None:
                result.person = full[result.person.pk]
    return results


def review_pairs(
    matches: Sequence[RowMatch],
    persons: Sequence[Person],
    leads: Sequence[Lead],
    *,
    responses: Sequence[dict | None],
    found_by: Sequence[str],
    actor: Actor,
    at: datetime,
) -> list[LeadEvent]:
    """Store the possible duplicates of the people a batch created (pairs decided before are
    never proposed again); return the 'possible duplicate' timeline events for their leads.
    Each row's ``responses`` dict gets ``dedupe`` (new, attached or review) and, for review,
    ``possible_duplicates``: the other people's ids."""
    wanted: list[tuple[int, int, domain.Match, int]] = []
    for response, result in zip(responses, matches, strict=True):
        if response is not None:
            response["dedupe"] = "new" if result.creates else "attached"
    for row, result in enumerate(matches):
        for target, match in result.review:
            other = target.pk if isinstance(target, Person) else persons[target].pk
            if other != persons[row].pk:
                wanted.append((persons[row].pk, other, match, row))
    if not wanted:
        return []
    pairs = _propose(wanted, found_by=found_by, at=at)
    events = []
    for pair, row in pairs:
        other = pair.person_a_id if pair.person_b_id == persons[row].pk else pair.person_b_id
        events.append(
            LeadEvent(
                lead=leads[row],
                kind=LeadEvent.Kind.DUPLICATE,
                occurred_at=at,
                actor=actor.user,
                actor_label=actor.label,
                note=f"Possible duplicate of person {other} (score {pair.score:.2f}); "
                "waiting for review",
                data={"pair_id": pair.pk, "other_person_id": other, "reasons": pair.reasons},
            )
        )
        response = responses[row]
        if response is not None:
            response["dedupe"] = "review"
            response.setdefault("possible_duplicates", []).append(other)
    return events


def _propose(
    wanted: Sequence[tuple[int, int, domain.Match, int]],
    *,
    found_by: Sequence[str] | str,
    at: datetime,
) -> list[tuple[DuplicatePair, int]]:
    decided = selectors.decided_pairs(i for a, b, _, _ in wanted for i in (a, b))
    new: list[DuplicatePair] = []
    rows: list[int] = []
    for a, b, match, row in wanted:
        low, high = sorted((a, b))
        if (low, high) in decided:
            continue
        decided.add((low, high))
        new.append(
            DuplicatePair(
                person_a_id=low,
                person_b_id=high,
                score=match.score,
                reasons=list(match.reasons),
                status=DuplicatePair.Status.OPEN,
                found_by=found_by if isinstance(found_by, str) else found_by[row],
                created_at=at,
                decision_note="",
            )
        )
        rows.append(row)
    insert_rows(DuplicatePair, new)
    return list(zip(new, rows, strict=True))


# --- Lead-to-account matching ---------------------------------------------------------------


class AccountIndex:
    """The stored accounts' company keys by their first three letters, for the fuzzy match
    of ``accounts_for``: each prefix read once and kept for the calls that follow (an import's
    chunks), with the accounts those calls create added. Within a prefix the keys are grouped
    by their numbers (a fuzzy match needs the same ones: 'Company 1' is never 'Company 12'),
    so a name is compared only with the keys it could match.

    Kept for one import: an account another intake creates meanwhile is matched by its exact
    key (read every call) but not fuzzily. Forgets everything past ``_INDEXED`` keys."""

    def __init__(self) -> None:
        # prefix -> its numbers, joined -> [company key, account id, key, id, ...], in id
        # order: one flat list per group (a large database's numbered names, "Company 12345",
        # are each a group of one: two lists and two tuples apiece came to 130 MiB for
        # 250,000 accounts).
        self._prefixes: dict[str, dict[str, list[Any]]] = {}
        self._size = 0

    def best(self, keys_wanted: Sequence[str]) -> dict[str, tuple[float, int]]:
        """(ratio, account id) of the stored account most like each key, for those that
        have one (the first of equals, i.e. the oldest, wins)."""
        if self._size > _INDEXED:
            self._prefixes.clear()
            self._size = 0
        missing = sorted({k[:3] for k in keys_wanted} - self._prefixes.keys())
        if missing:
            fresh: dict[str, dict[str, list[Any]]] = {prefix: {} for prefix in missing}
            for pk, name_key in queries.account_keys_by_prefix(missing):
                prefix = fresh.get(name_key[:3])
                if prefix is not None:
                    self._put(prefix, name_key, pk)
            # Each group in id order, sorted group by group: a sort of all the rows read
            # held a second copy of them (250,000 accounts: 50 MB).
            for groups in fresh.values():
                for members in groups.values():
                    if len(members) > 2:
                        pairs = sorted(zip(members[1::2], members[0::2], strict=True))
                        members[:] = [value for pk, name in pairs for value in (name, pk)]
            self._prefixes.update(fresh)
        out: dict[str, tuple[float, int]] = {}
        for key in keys_wanted:
            group = self._prefixes[key[:3]].get(domain.company_numbers(key))
            if group is None:
                continue
            hits = process.extract(
                key, group[0::2], scorer=fuzz.token_sort_ratio, score_cutoff=90, limit=None
            )
            if hits:
                best = max(hits, key=lambda hit: (hit[1], -hit[2]))
                out[key] = (float(best[1]), group[2 * int(best[2]) + 1])
        return out

    def add(self, accounts: Iterable[Account]) -> None:
        """Accounts just created (stored, with ids): later calls match them fuzzily too."""
        for account in accounts:
            prefixes = self._prefixes.get(account.name_key[:3])
            if prefixes is not None and account.name_key:
                self._put(prefixes, account.name_key, account.pk)

    def _put(self, groups: dict[str, list[Any]], name_key: str, pk: int) -> None:
        group = groups.get(numbers := domain.company_numbers(name_key))
        if group is None:
            groups[numbers] = [name_key, pk]
        else:
            group += (name_key, pk)
        self._size += 1


_INDEXED = 500_000  # company keys an AccountIndex keeps (250,000 numbered ones took 75 MiB)


def accounts_for(
    people: Sequence[Mapping[str, str]],
    *,
    at: datetime,
    index: AccountIndex | None = None,
    company_keys: Sequence[str | None] | None = None,
) -> list[Account | None]:
    """The Account of each inquiry: by web domain first (unless the inquiry names another
    company outright), then by company key (cleanco), then by a fuzzy company name among
    accounts sharing the key's first letters; else a new Account (inserted here) when a
    company is named, whose domain is the website's (never an email domain, which may be
    shared). At most three queries per batch. ``company_keys``: each inquiry's company key
    when it was worked out already (None where not), as ``keys.company_key`` gives it."""
    domains = [keys.domain_key(p.get("website", ""), p.get("email", "")) for p in people]
    given = company_keys or [None] * len(people)
    names = [
        keys.company_key(p.get("company_name", "")) if known is None else known
        for p, known in zip(people, given, strict=True)
    ]
    by_domain: dict[str, Account] = {}
    by_key: dict[str, Account] = {}
    wanted_domains = sorted({d for d in domains if d})
    wanted_keys = sorted({k for k in names if k})
    if wanted_domains or wanted_keys:
        domain_set, key_set = set(wanted_domains), set(wanted_keys)
        # Raw reads here and below (queries.py): this runs in every intake, where building the
        # QuerySets cost more than the database's answers.
        exact = queries.accounts_by_domain_or_key(wanted_domains, wanted_keys)
        for known in exact:
            if known.domain in domain_set:
                by_domain.setdefault(known.domain, known)
            if known.name_key in key_set:
                by_key.setdefault(known.name_key, known)
    missing = sorted({k for k in wanted_keys if k not in by_key})
    # Fuzzy candidates by the key's first three letters: a name is compared only with the
    # accounts that could match it. Stored ones are read as (key, id) and only the best
    # match of each name is loaded: one prefix can hold thousands of accounts.
    # Every stored account of each prefix, in id order (a stored one wins a tie): a
    # candidate left out could make intake create a duplicate account.
    index = index or AccountIndex()
    stored_best = index.best(missing) if missing else {}
    fuzzy: dict[str, list[Account]] = defaultdict(list)  # accounts this batch creates
    loaded = read_in_bulk(Account, sorted({pk for _, pk in stored_best.values()}))
    out: list[Account | None] = []
    new: list[Account] = []
    sites = [keys.domain_key(p.get("website", ""), "") for p in people]
    for person, dom, key, site in zip(people, domains, names, sites, strict=True):
        account: Account | None = by_domain.get(dom) if dom else None
        if account is not None and key and not _same_company(key, account.name_key):
            account = None  # a company named outright wins over a shared domain
        if account is None and key:
            account = by_key.get(key)
            if account is None:
                account = _fuzzy_account(key, stored_best.get(key), loaded, fuzzy)
            if account is None:
                account = Account(
                    name=person.get("company_name", "")[:200],
                    name_key=key,
                    # Only a website names the company's domain: an email domain may be
                    # shared (an agency, a reseller, example.com in every demo).
                    domain=site if site and site not in by_domain else "",
                    country=person.get("country", ""),
                    created_at=at,
                )
                new.append(account)
                fuzzy[key[:3]].append(account)
            by_key.setdefault(key, account)
        if account is not None and account.domain:
            by_domain.setdefault(account.domain, account)
        out.append(account)
    insert_rows(Account, new)
    index.add(new)
    return out


def _same_company(key: str, other: str) -> bool:
    return not other or domain.company_similar(key, other)


T = TypeVar("T")


def _best_fuzzy(key: str, candidates: Iterable[tuple[str, T]]) -> tuple[float, T] | None:
    """The (ratio, value) of the candidate key most like ``key`` among similar ones (the
    first of equals wins), or None."""
    best: tuple[float, T] | None = None
    for name_key, value in candidates:
        if not name_key or name_key[:3] != key[:3]:
            continue
        if not domain.company_similar(key, name_key):
            continue
        ratio = fuzz.token_sort_ratio(key, name_key)
        if best is None or ratio > best[0]:
            best = (ratio, value)
    return best


def _fuzzy_account(
    key: str,
    stored_best: tuple[float, int] | None,
    loaded: Mapping[int, Account],
    created: Mapping[str, Sequence[Account]],
) -> Account | None:
    """The best fuzzy match among stored accounts (found beforehand) and the ones this batch
    created; a stored one wins a tie, as it comes first."""
    new = _best_fuzzy(key, ((a.name_key, a) for a in created.get(key[:3], ())))
    if stored_best is not None and (new is None or stored_best[0] >= new[0]):
        account = loaded.get(stored_best[1])
        if account is not None:
            return account
    return new[1] if new else None


# --- Merge and dismiss ----------------------------------------------------------------------


# --- dedupe-scan ------------------------------------------------------------------------------


@dataclass
class ScanReport:
    people: int = 0
    comparisons: int = 0
    found: int = 0  # pairs at or above the review threshold
    proposed: int = 0  # new pairs stored (decided ones are never proposed again)
    skipped_blocks: int = 0  # block keys too common to be informative
    training: TrainReport | None = None  # when the scan learnt the weights first


@fewer_collections()
def dedupe_scan(
    *,
    batch_size: int = 500,
    max_block: int = domain.MAX_BLOCK,
    learn: bool | None = None,
    progress: Callable[[int], None] | None = None,
    learning_progress: Callable[[int], None] | None = None,
    actor: Actor | None = None,
    at: datetime | None = None,
) -> ScanReport:
    """Find possible duplicates among the people already stored, in primary-key batches.

    Each person is compared only with the people that share a block key and came before it
    (so each pair once), never with everyone: the work grows with the block sizes, near
    n log n. Pairs go to the review queue (a transaction for about every thousand found).

    First it learns the match weights from the stored people (``dedupe_train``) when
    ``learn`` is True, or, when it is None, when they are due (``training.train_due``: none
    learnt yet, or the people have doubled since)."""
    at = at or now()
    actor = actor or Actor.system("dedupe-scan")
    _, review = selectors.thresholds()
    report = ScanReport()
    batches: Iterable[selectors.ScanBatch] | None = None
    people = Person.objects.count()
    if learn or (learn is None and train_due(people)):
        if people <= selectors.HELD_PEOPLE:
            # Learning goes through the same batches: a small list's are kept for the scan.
            batches = list(selectors.scan_batches_held(batch_size))
        report.training = dedupe_train(
            actor=actor,
            at=at,
            max_block=max_block,
            batches=batches,
            batch_size=batch_size,
            progress=learning_progress,
        )
    weights = selectors.match_weights()
    if batches is None:
        batches = selectors.scan_batches_for(people, batch_size)
        if people <= selectors.HELD_PEOPLE:
            batches = list(batches)
    scanned_batches: Iterable[tuple[list[Person], _Scanned]]
    if isinstance(batches, list) and len(batches) > 1:
        # Held in memory: a fork on the other core scans the batches from the first on while
        # this process scans them from the last, until they meet (common/forking.py). The
        # pairs are written below in the batches' order, as when scanned here alone.
        held = batches

        def scan(start: int, stop: int) -> list[_Scanned]:
            return [
                _scan_batch(held[i][1], held[i][2], review, weights, max_block)
                for i in range(start, stop)
            ]

        found = BothEnds(len(held), scan, lambda a, b: a + b, step=1).finish()
        scanned_batches = zip((b[0] for b in held), found, strict=True)
    else:
        scanned_batches = (
            (batch, _scan_batch(records, index, review, weights, max_block))
            for batch, records, index in batches
        )
    # The pairs found are written in transactions of about _PAIRS_PER_WRITE (each pair is
    # found in one batch only: the newer person's); a scan of a new list finds a few in each
    # batch, and a transaction for each batch was about a sixteenth of the scan's time.
    waiting: list[tuple[int, int, domain.Match, int]] = []
    for batch, scanned in scanned_batches:
        report.comparisons += scanned.comparisons
        report.skipped_blocks += scanned.skipped_blocks
        report.people += len(batch)
        report.found += len(scanned.wanted)
        waiting += scanned.wanted
        if len(waiting) >= _PAIRS_PER_WRITE:
            report.proposed += _scan_write(waiting, actor=actor, at=at)
            waiting = []
        if progress:
            progress(len(batch))
    report.proposed += _scan_write(waiting, actor=actor, at=at)
    return report


_PAIRS_PER_WRITE = 1000


def _scan_write(
    wanted: Sequence[tuple[int, int, domain.Match, int]], *, actor: Actor, at: datetime
) -> int:
    """Propose the pairs a scan found (those not decided before), with their timeline
    events, in one transaction; how many were new."""
    if not wanted:
        return 0
    with transaction.atomic():
        pairs = _propose(wanted, found_by=DuplicatePair.FoundBy.SCAN, at=at)
        _scan_events([p for p, _ in pairs], actor=actor, at=at)
    return len(pairs)


@dataclass
class _Scanned:
    """What the scan found in one batch: the pairs to propose, and its counts."""

    wanted: list[tuple[int, int, domain.Match, int]]
    comparisons: int
    skipped_blocks: int


def _scan_batch(
    records: Mapping[int, list[domain.Record]],
    index: selectors.ScanIndex,
    review: float,
    weights: Weights,
    max_block: int,
) -> _Scanned:
    """Each person of a batch against the people before it that share a block key; only
    what is in memory (it may run in a fork)."""
    scanned = _Scanned([], 0, 0)
    for pk, own in records.items():
        # The best-scoring pair of records per other person, scored without reasons
        # (and without its address when it could not reach the review threshold
        # anyway); the pairs kept are explained below.
        best: dict[int, tuple[domain.Match, domain.Record, domain.Record]] = {}
        compared: set[int] = set()
        scored: set[tuple[int, int]] = set()  # (own record, other record): once each
        for record in own:
            for key in domain.block_keys(record):
                members = index.get(key, [])
                if len(members) > max_block:
                    scanned.skipped_blocks += 1
                    continue
                for other, other_record in members:
                    pair = (id(record), id(other_record))
                    if other >= pk or pair in scored:
                        continue
                    scored.add(pair)
                    compared.add(other)
                    match = domain.score_at_least(record, other_record, review, weights=weights)
                    if match is not None and (
                        other not in best or match.weight > best[other][0].weight
                    ):
                        best[other] = (match, record, other_record)
        scanned.wanted.extend(
            (other, pk, domain.score(record, other_record, weights=weights), 0)
            for other, (m, record, other_record) in best.items()
            if m.score >= review
        )
        scanned.comparisons += len(compared)
    return scanned


def _scan_events(pairs: Sequence[DuplicatePair], *, actor: Actor, at: datetime) -> None:
    """A 'possible duplicate' event on the newest open lead of the newer person of each pair."""
    if not pairs:
        return
    latest: dict[int, Lead] = {}
    for lead in Lead.objects.filter(
        person_id__in=[p.person_b_id for p in pairs], stage__in=list(lead_domain.OPEN_STAGES)
    ).order_by("pk"):
        latest[lead.person_id] = lead
    events = [
        LeadEvent(
            lead=latest[pair.person_b_id],
            kind=LeadEvent.Kind.DUPLICATE,
            occurred_at=at,
            actor=actor.user,
            actor_label=actor.label,
            note=f"Possible duplicate of person {pair.person_a_id} (score {pair.score:.2f}); "
            "waiting for review",
            data={"pair_id": pair.pk, "other_person_id": pair.person_a_id, "reasons": pair.reasons},
        )
        for pair in pairs
        if pair.person_b_id in latest
    ]
    events_insert(events)
