"""Which person each row of an import file is: decided in one pass before anything is written.

An import matches its rows the way its dry run does: one ``Matcher`` walks the whole file in
order, against the people stored when the import started and against the file's earlier rows.
The import then writes chunk by chunk and hands each chunk's decisions to intake
(``process_records(..., matches=plan.matches_for)``) instead of matching the chunk again.
So the people an import makes do not depend on its chunk size, and its dry run predicts them:
matching each chunk against what earlier chunks had just written would see those people
through their stored (and by then enriched) rows instead of the file's own records, and the
result would shift with the chunk size.

A decision names a stored person by id and a row of the file by its index among the file's
good rows; ``matches_for`` turns those into what intake expects for one chunk: the stored
people read whole, and a row of the same chunk by its position, an earlier chunk's row by the
person it became (``done``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from leadrefinery.common.db import read_in_bulk
from leadrefinery.dedupe import domain as dedupe_domain
from leadrefinery.dedupe.keys import person_keys
from leadrefinery.dedupe.selectors import survivors
from leadrefinery.dedupe.services import (
    AccountIndex,
    Matcher,
    RowMatch,
    Target,
    Variant,
    variant_of,
)
from leadrefinery.leads.custom_field_services import definitions
from leadrefinery.leads.models import IntakeRecord, Person
from leadrefinery.leads.normalize import NormalizeResult, normalize_inquiry

from .import_mapping import HeaderMapping
from .services import payload_hash, scrubbed

# A match target while planning: ("p", stored person id) or ("r", good-row index).
Ref = tuple[str, int]


@dataclass(slots=True)
class Planned:
    """The decision for one good row of the file."""

    good: int  # the row's index among the file's good rows, in file order
    product: str  # its product line (one open lead per person and product line)
    person: int | None = None  # attach to this stored person
    same_as: int | None = None  # ... or to the person an earlier good row creates
    review: list[tuple[Ref, dedupe_domain.Match]] = field(default_factory=list)
    # The row's stored payload and its normalization, when the plan was made in a second
    # process (import_planner): the write pass then uses them instead of making them again.
    normalized: NormalizeResult | None = None
    payload: dict[str, Any] | None = None
    payload_hash: str = ""
    keys: dict[str, str] | None = None  # the person's match keys (dedupe.keys.person_keys)
    # A row that attaches to a person: the variant it is kept as (dedupe.services.variant_of).
    variant: Variant | None = None

    @property
    def creates(self) -> bool:
        return self.person is None and self.same_as is None


@dataclass
class Plan:
    rows: dict[int, Planned] = field(default_factory=dict)  # by the row's number in the file
    became: dict[int, int] = field(default_factory=dict)  # good-row index -> its person's id
    # The stored accounts' company keys, read once for all the write pass's chunks.
    accounts: AccountIndex = field(default_factory=AccountIndex)

    def done(self, records: Iterable[IntakeRecord]) -> None:
        """Remember the person each processed row became (later rows may name it); the
        rows' own decisions are no longer needed."""
        for record in records:
            planned = self.rows.pop(record.row_number or 0, None)
            if planned is not None and record.person_id is not None:
                self.became[planned.good] = record.person_id

    def normalized(self, record: IntakeRecord) -> NormalizeResult | None:
        """The row's normalization as the plan made it, if it kept it."""
        planned = self.rows.get(record.row_number or 0)
        return planned.normalized if planned is not None else None

    def keys(self, record: IntakeRecord) -> dict[str, str] | None:
        """The match keys of the row's person as the plan worked them out, if it kept them."""
        planned = self.rows.get(record.row_number or 0)
        return planned.keys if planned is not None else None

    def variant(self, record: IntakeRecord) -> Variant | None:
        """The variant the row is kept as when it attaches to a person, if the plan made it."""
        planned = self.rows.get(record.row_number or 0)
        return planned.variant if planned is not None else None

    def matches_for(self, records: Sequence[IntakeRecord]) -> list[RowMatch]:
        """Intake's matching results for these records (one chunk, in processing order)."""
        planned = [self.rows.get(r.row_number or 0) for r in records]
        position = {p.good: i for i, p in enumerate(planned) if p is not None}
        wanted: set[int] = set()
        for p in planned:
            if p is None:
                continue
            if p.person is not None:
                wanted.add(p.person)
            refs = [("r", p.same_as)] if p.same_as is not None else []
            for kind, value in (*refs, *(ref for ref, _ in p.review)):
                if kind == "p":
                    wanted.add(value)
                elif value not in position and value in self.became:
                    wanted.add(self.became[value])
        people = _people(sorted(wanted))

        def target(ref: Ref) -> Target | None:
            kind, value = ref
            if kind == "r" and value in position:
                return position[value]
            pk = value if kind == "p" else self.became.get(value)
            return people.get(pk) if pk is not None else None

        out = []
        for p in planned:
            result = RowMatch()
            if p is None:  # not planned (cannot happen for a row of the file): a new person
                out.append(result)
                continue
            ref: Ref | None = ("p", p.person) if p.person is not None else None
            ref = ("r", p.same_as) if p.same_as is not None else ref
            found = target(ref) if ref is not None else None
            if isinstance(found, Person):
                result.person = found
            elif isinstance(found, int):
                result.same_as_row = found
            for review_ref, match in p.review:
                other = target(review_ref)
                if other is not None:
                    result.review.append((other, match))
            out.append(result)
        return out


def _people(ids: list[int]) -> dict[int, Person]:
    """The stored people by id, whole (intake fills in their blanks); a person merged since
    the plan was made is its survivor."""
    people = read_in_bulk(Person, ids)
    merged = [p for p in people.values() if p.merged_into_id is not None]
    if merged:
        moved = survivors(merged)
        whole = read_in_bulk(Person, sorted({p.pk for p in moved.values()}))
        for pk, survivor in moved.items():
            people[pk] = whole[survivor.pk]
    return people


class Planner:
    """Decides who each good row is, chunk after chunk, in file order: one ``Matcher`` that
    remembers the file's earlier rows (in-file duplicates, same rules). ``plan_import`` runs
    it in this process; ``import_planner`` runs it in a second process beside the writes."""

    def __init__(
        self,
        mapping: HeaderMapping,
        *,
        rejected: Callable[[int, list[str], NormalizeResult], None] | None = None,
        kept: Callable[[int, list[str], NormalizeResult], None] | None = None,
        keep_normalized: bool = False,
    ) -> None:
        self.mapping = mapping
        self.keep_normalized = keep_normalized
        self.rejected, self.kept = rejected, kept
        self.default_country = settings.REFINERY_DEFAULT_COUNTRY
        self.custom = definitions()
        self.matcher = Matcher()
        self.good = 0  # good rows planned so far

    def chunk(self, chunk: Sequence[tuple[int, list[str]]]) -> list[tuple[int, Planned]]:
        """The decisions for one chunk's good rows, by row number, in file order."""
        numbers: list[int] = []
        people: list[dict[str, str]] = []
        products: list[str] = []
        results: list[tuple[NormalizeResult, dict[str, Any], dict[str, str]] | None] = []
        for number, row in chunk:
            payload = scrubbed(self.mapping.payload(row))  # what the write pass stores and reads
            result = normalize_inquiry(
                payload,
                default_country=self.default_country,
                read_money=True,
                custom=self.custom,
            )
            if result.clean is None:
                if self.rejected:
                    self.rejected(number, row, result)
                continue
            if self.kept:
                self.kept(number, row, result)
            numbers.append(number)
            # The keys once, here: matching reads them from the fields given, and the write
            # pass takes them with the plan when it was made in a second process.
            keys = person_keys(result.clean.person)
            people.append({**result.clean.person, **keys})
            products.append(result.clean.lead["product_interest"])
            results.append((result, payload, keys) if self.keep_normalized else None)
        out = []
        for number, fields, found, product, kept in zip(
            numbers, people, self.matcher.match(people), products, results, strict=True
        ):
            planned = Planned(good=self.good, product=product)
            if kept is not None:
                planned.normalized, planned.payload, planned.keys = kept
                planned.payload_hash = payload_hash(planned.payload)
            self.good += 1
            if found.person is not None:
                planned.person = found.person.pk
            elif found.same_as_row is not None:
                planned.same_as = found.same_as_row
            if kept is not None and not planned.creates:
                # Made here, beside the writes, from the fields matching read.
                planned.variant = variant_of(fields)
            planned.review = [(_ref(t), m) for t, m in found.review]
            out.append((number, planned))
        return out


def plan_import(
    chunks: Iterator[list[tuple[int, list[str]]]],
    mapping: HeaderMapping,
    *,
    rejected: Callable[[int, list[str], NormalizeResult], None] | None = None,
    kept: Callable[[int, list[str], NormalizeResult], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Plan:
    """Match every row of the file, in order; writes nothing. ``rejected`` and ``kept`` are
    called with each row's normalization (rows that will be rejected, rows that import)."""
    plan = Plan()
    planner = Planner(mapping, rejected=rejected, kept=kept)
    for chunk in chunks:
        plan.rows.update(planner.chunk(chunk))
        if progress:
            progress(len(chunk))
    return plan


def _ref(target: Target) -> Ref:
    return ("p", target.pk) if isinstance(target, Person) else ("r", target)
