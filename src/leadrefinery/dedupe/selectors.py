"""Reads for dedupe: blocking candidates from the database, and the review queue.

``candidate_index`` is the online check: for a batch of records it reads, per block of
``domain.BLOCKS``, the unmerged people sharing a block key. Each block and chunk of 200 keys
is one read of its partial index, so a batch costs a few statements, whatever its size. A key
shared by more than ``domain.MAX_BLOCK`` people is a stop word and is dropped.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from leadrefinery.accounts.models import Role
from leadrefinery.common import config
from leadrefinery.common.db import read_models
from leadrefinery.leads.access import visible_to
from leadrefinery.leads.models import Lead, Person

from . import domain, keys, queries
from .models import DuplicatePair, MatchModel, PersonVariant
from .queries import MATCH_COLUMNS
from .weights import Weights
from .weights import default as default_weights


def record_of(person: Person) -> domain.Record:
    values = person.__dict__
    return domain.Record(
        id=person.pk,
        **{name: values.get(name) or "" for name in _RECORD_FIELDS},
    )


_RECORD_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "company_name",
    "street",
    "city",
    *keys.KEY_FIELDS,
)


def variant_records(person_ids: Sequence[int]) -> list[domain.Record]:
    """The other ways these people were written (PersonVariant), as records whose ``id`` is
    the person's."""
    out: list[domain.Record] = []
    for start in range(0, len(person_ids), 500):
        for row in PersonVariant.objects.filter(
            person_id__in=person_ids[start : start + 500]
        ).values_list("person_id", *_RECORD_FIELDS):
            out.append(domain.Record(id=row[0], **dict(zip(_RECORD_FIELDS, row[1:], strict=True))))
    return out


_ATTNAMES = list(queries.MATCH_ATTNAMES)
_MERGED_INTO = _ATTNAMES.index("merged_into_id")
_ROW_INDEX = {name: i for i, name in enumerate(_ATTNAMES)}
_RECORD_COLUMNS = [(name, _ATTNAMES.index(name)) for name in _RECORD_FIELDS]


class Stored:
    """A stored person found by blocking: its id now, the Person object only when asked for.
    Most candidates are scored and dropped; building a model instance for each cost more
    than reading its row."""

    __slots__ = ("_person", "_row", "pk")

    def __init__(self, pk: int, *, row: tuple | None = None, person: Person | None = None):
        self.pk = pk
        self._row = row
        self._person = person

    def person(self) -> Person:
        if self._person is None:
            if self._row is None:  # found through a variant: read when it wins
                self._person = Person.objects.only(*MATCH_COLUMNS).get(pk=self.pk)
            else:
                self._person = Person.from_db("default", _ATTNAMES, self._row)
        return self._person


BlockKey = domain.BlockKey  # (block name, the key's values)
Candidate = tuple[Stored, domain.Record]


@dataclass
class Candidates:
    """What blocking found: every (person, record) once, and which of them each block key
    found, so a batch can be compared without computing the candidates' keys again."""

    pairs: list[Candidate]
    by_key: dict[BlockKey, list[Candidate]]
    stop: set[BlockKey] = field(default_factory=set)  # keys of more than max_block people


def candidate_index(
    records: Sequence[domain.Record],
    *,
    follow_merged: bool = True,
    max_block: int | None = domain.MAX_BLOCK,
    variants: bool = False,
    known: Container[BlockKey] = (),
) -> Candidates:
    """The people sharing a block key with one of ``records``, by the key they share.

    One index read per block and chunk of keys, raw SQL (``queries.block_rows``) because this
    is the online check's hot path: the ORM's query compilation cost more than the reads. A
    merged person's keys still match (its old email still reaches its owner), but the person
    returned is its survivor (``follow_merged``), or it is left out. Keys shared by more than ``max_block`` people are
    stop words and left out (None: keep every key, as the offline scan does, which skips and
    counts them itself). Keys in ``known`` are not read (nor in the result)."""
    wanted: dict[str, set[tuple[str, ...]]] = {}
    for record in records:
        for block_key in domain.block_keys(record):
            if block_key not in known:  # the caller has this key's people already
                wanted.setdefault(block_key[0], set()).add(block_key[1])
    if not wanted:
        return Candidates([], {})
    blocks = [b for b in domain.BLOCKS if b.name in wanted]
    getters = [operator.itemgetter(*(_ROW_INDEX[c] for c in b.columns)) for b in blocks]
    rows: dict[int, tuple] = {}
    # Block key -> the ids of the people it found, through their own row or a variant (what
    # its size is counted in), and the ids of those whose own row has it.
    members: dict[BlockKey, list[int]] = defaultdict(list)
    own_rows: dict[BlockKey, list[int]] = defaultdict(list)
    variant_rows: dict[BlockKey, list[tuple[int, tuple]]] = defaultdict(list)  # (seq, row)
    # Stop words are dropped as soon as they are one: a person they found stays a candidate
    # through another block. (A read of many keys is not stopped per key: at a million people
    # the rows of common names held at once took the import's matching process from about
    # 300 to 521 MiB.) ``uses``: the kept keys naming a
    # person, whose row is forgotten when none is left.
    stop: set[BlockKey] = set()
    uses: dict[int, int] = defaultdict(int)
    limit = max_block + 1 if max_block else None
    for seq, (ordinal, row) in enumerate(
        queries.block_rows(blocks, wanted, limit, variants=variants)
    ):
        variant = ordinal >= queries.VARIANT
        ordinal -= queries.VARIANT if variant else 0
        key = getters[ordinal](row)
        block_key = (blocks[ordinal].name, key if isinstance(key, tuple) else (key,))
        if block_key in stop:
            continue
        ids = members[block_key]
        ids.append(row[0])
        uses[row[0]] += 1
        if variant:
            variant_rows[block_key].append((seq, row))
        else:
            own_rows[block_key].append(row[0])
            rows.setdefault(row[0], row)
        if max_block and len(ids) > max_block:
            stop.add(block_key)
            del members[block_key]
            own_rows.pop(block_key, None)
            variant_rows.pop(block_key, None)
            for pk in ids:
                uses[pk] -= 1
                if not uses[pk]:
                    del uses[pk]
                    rows.pop(pk, None)
    found = rows  # the rows of people a kept key names: the others were forgotten above
    merged = [
        Stored(row[0], row=row).person() for row in found.values() if row[_MERGED_INTO] is not None
    ]
    moved = survivors(merged) if follow_merged else {}
    pairs: dict[int, Candidate] = {}
    for pk, row in found.items():
        record = domain.Record(id=pk, **{name: row[i] or "" for name, i in _RECORD_COLUMNS})
        if row[_MERGED_INTO] is None:
            pairs[pk] = (Stored(pk, row=row), record)
        elif pk in moved:
            survivor = moved[pk]
            pairs[pk] = (Stored(survivor.pk, person=survivor), record)
    # A key lists the records that have it: a person found through a variant is not listed
    # by its own row as well (it was when that row was read for another key of the batch,
    # so what a record was compared with depended on the records read with it).
    by_key: dict[BlockKey, list[Candidate]] = {
        key: [pairs[pk] for pk in own_rows.get(key, ()) if pk in pairs] for key in members
    }
    # Another way a person was written is scored as its own record (a merged person's
    # variants are left out: its own row still finds its survivor).
    extra: list[Candidate] = []
    in_order = sorted((seq, k, r) for k, found in variant_rows.items() for seq, r in found)
    for _, block_key, row in in_order:
        if block_key in members and row[_MERGED_INTO] is None:
            record = domain.Record(id=row[0], **{name: row[i] or "" for name, i in _RECORD_COLUMNS})
            candidate = (Stored(row[0]), record)
            by_key[block_key].append(candidate)
            extra.append(candidate)
    return Candidates([*pairs.values(), *extra], by_key, stop)


def survivors(merged: list[Person]) -> dict[int, Person]:
    """The active person each merged one now lives on as (a merge of a survivor is followed)."""
    pointer = {p.pk: p.merged_into_id for p in merged}
    people: dict[int, Person] = {}
    for _ in range(5):  # chains of merges are short; the loop stops when all are resolved
        missing = {t for t in pointer.values() if t is not None and t not in people}
        if not missing:
            break
        for person in Person.objects.filter(pk__in=sorted(missing)).only(*MATCH_COLUMNS):
            people[person.pk] = person
            if person.merged_into_id is not None:
                pointer[person.pk] = person.merged_into_id
    out: dict[int, Person] = {}
    for pk in [p.pk for p in merged]:
        target = pointer.get(pk)
        for _ in range(6):
            if target is None or target not in people:
                target = None
                break
            if people[target].merged_into_id is None:
                break
            target = people[target].merged_into_id
        if target is not None and target in people:
            out[pk] = people[target]
    return out


def decided_pairs(person_ids: Iterable[int]) -> set[tuple[int, int]]:
    """Every stored pair (any status) touching these people: never proposed twice."""
    ids = sorted(set(person_ids))
    out: set[tuple[int, int]] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        out.update(
            DuplicatePair.objects.filter(
                Q(person_a_id__in=chunk) | Q(person_b_id__in=chunk)
            ).values_list("person_a_id", "person_b_id")
        )
    return out


def dismissed(a: int, b: int) -> bool:
    low, high = sorted((a, b))
    return DuplicatePair.objects.filter(
        person_a_id=low, person_b_id=high, status=DuplicatePair.Status.DISMISSED
    ).exists()


def pairs_visible_to(
    user, *, status: str | None = DuplicatePair.Status.OPEN
) -> QuerySet[DuplicatePair]:
    """The pairs ``user`` is shown: they may see a lead of either person, so a manager sees
    every pair that touches their teams (after a merge, when every lead is the survivor's: a
    lead of the survivor). Each pair is annotated ``can_act``: whether ``user`` may merge or
    dismiss it: a rep when they own a lead of each person, others when they may see a lead
    of each."""
    qs = DuplicatePair.objects.all()
    if status:
        qs = qs.filter(status=status)
    seen = visible_to(user)
    lead_a = Exists(seen.filter(person_id=OuterRef("person_a_id")))
    lead_b = Exists(seen.filter(person_id=OuterRef("person_b_id")))
    lead_survivor = Exists(seen.filter(person_id=OuterRef("survivor_id")))
    if getattr(user, "role", None) == Role.REP and not user.is_superuser:
        owned = Lead.objects.filter(owner_user=user)
        act_a = Exists(owned.filter(person_id=OuterRef("person_a_id")))
        act_b = Exists(owned.filter(person_id=OuterRef("person_b_id")))
    else:
        act_a, act_b = lead_a, lead_b
    return (
        qs.filter(
            Q(lead_a)
            | Q(lead_b)
            | Q(survivor__isnull=False, status=DuplicatePair.Status.MERGED) & Q(lead_survivor)
        )
        .annotate(
            # A decided pair: the service answers why nothing more can be done.
            can_act=ExpressionWrapper(
                Q(act_a) & Q(act_b) | ~Q(status=DuplicatePair.Status.OPEN),
                output_field=BooleanField(),
            )
        )
        .select_related("person_a", "person_b")
    )


def may_act(pair: DuplicatePair) -> bool:
    """Whether the user ``pairs_visible_to`` read this pair for may merge or dismiss it."""
    return bool(getattr(pair, "can_act", False))


def pair_visible_to(user, pair_id: int) -> DuplicatePair | None:
    """One pair as ``pairs_visible_to`` shows it (``can_act`` says whether ``user`` may act)."""
    return pairs_visible_to(user, status=None).filter(pk=pair_id).first()


def pairs_for_person(user, person_id: int) -> list[DuplicatePair]:
    """Open possible duplicates of one person that ``user`` may review (the lead page box)."""
    return list(
        pairs_visible_to(user).filter(Q(person_a_id=person_id) | Q(person_b_id=person_id))[:10]
    )


def comparison(pair: DuplicatePair) -> list[dict[str, object]]:
    """Side by side: one row per compared field, flagged where the two differ."""
    a, b = pair.person_a, pair.person_b
    differ = set(domain.differing(a, b))
    rows = []
    for name in domain.COMPARED_FIELDS:
        x, y = getattr(a, name) or "", getattr(b, name) or ""
        if not x and not y:
            continue
        rows.append(
            {
                "field": name,
                "label": str(
                    getattr(Person._meta.get_field(name), "verbose_name", name)
                ).capitalize(),
                "a": x,
                "b": y,
                "differs": name in differ or bool(x) != bool(y),
                "conflict": name in differ,
            }
        )
    return rows


def people_leads(person_ids: Iterable[int]) -> dict[int, list[Lead]]:
    out: dict[int, list[Lead]] = {}
    for lead in Lead.objects.filter(person_id__in=list(person_ids)).order_by("-received_at"):
        out.setdefault(lead.person_id, []).append(lead)
    return out


__all__ = [
    "candidate_index",
    "comparison",
    "decided_pairs",
    "dismissed",
    "match_model_in_use",
    "match_weights",
    "may_act",
    "pair_visible_to",
    "pairs_for_person",
    "pairs_visible_to",
    "people_leads",
    "record_of",
    "scan_batches",
    "scan_batches_for",
    "scan_batches_held",
]


def thresholds() -> tuple[float, float]:
    """(auto, review) from the settings."""
    return settings.REFINERY_DEDUPE_AUTO, settings.REFINERY_DEDUPE_REVIEW


def match_weights() -> Weights:
    """The weights matching uses: the newest active learnt model, or the hand-set ones (cached
    per process until the configuration changes; a model saved counts as a change)."""
    return config.get("dedupe:weights", _load_weights)


def match_model_in_use() -> MatchModel | None:
    """The learnt model matching uses (None: the hand-set weights)."""
    model_id = match_weights().model_id
    if model_id is None:
        return None
    return MatchModel.objects.filter(pk=model_id).only("pk", "created_at", "people").first()


def _load_weights() -> Weights:
    model = MatchModel.objects.filter(active=True).order_by("-id").first()
    if model is None:
        return default_weights()
    return Weights.of(
        model.weights,
        prior=model.prior,
        model_id=model.pk,
        learnt_at=model.created_at.isoformat(timespec="minutes"),
    )


ScanIndex = dict[tuple[str, tuple[str, ...]], list[tuple[int, domain.Record]]]


# One batch: its people, the records of the unmerged ones by id, and the stored records by
# block key.
ScanBatch = tuple[list[Person], dict[int, list[domain.Record]], ScanIndex]


def scan_batches(batch_size: int) -> Iterator[ScanBatch]:
    """The stored people in primary-key batches, each with its unmerged people's records (a
    person is each way it was written: its row and its variants, the records that attached to
    it) and every stored record sharing a block key with one of them, however common the key
    (by key: (person id, record)). What ``dedupe_scan`` and ``dedupe_train`` go through."""
    last = 0
    while True:
        people = list(
            Person.objects.filter(pk__gt=last).order_by("pk").only(*MATCH_COLUMNS)[:batch_size]
        )
        if not people:
            return
        last = people[-1].pk
        active = [p for p in people if p.merged_into_id is None]
        records = {p.pk: [record_of(p)] for p in active}
        for variant in variant_records(list(records)):
            records[variant.id or 0].append(variant)
        candidates = candidate_index(
            [r for own in records.values() for r in own],
            follow_merged=False,
            max_block=None,
            variants=True,
        )
        index = {key: [(p.pk, r) for p, r in found] for key, found in candidates.by_key.items()}
        yield people, records, index


# Up to this many stored people, the scan and learning index them in memory
# (``scan_batches_held``).
HELD_PEOPLE = 20_000


def scan_batches_for(people: int, batch_size: int) -> Iterator[ScanBatch]:
    """``scan_batches_held`` for a store of up to ``HELD_PEOPLE`` people, else
    ``scan_batches``."""
    if people <= HELD_PEOPLE:
        return scan_batches_held(batch_size)
    return scan_batches(batch_size)


def scan_batches_held(batch_size: int) -> Iterator[ScanBatch]:
    """The batches of ``scan_batches``, the same people, records and index, made from the
    stored people read once and indexed in memory: for a store small enough to hold (the
    scan of FEBRL 4's 10,000 people, learning included, raised the peak by 35 MiB; with the
    batches read from the database and kept for the scan, by 77 MiB). ``scan_batches``
    reads each batch's block keys from the database, and on a new list of 10,000 people
    those reads, which return a common key's people again for every batch that has it,
    took two thirds of the scan.

    Each key's people come in the order the database's reads give them: the people by id,
    then the variants (``scan_batches`` reads both through the key's index)."""
    people = read_models(Person.objects.order_by("pk").only(*MATCH_COLUMNS))
    records = {p.pk: [record_of(p)] for p in people if p.merged_into_id is None}
    variants = [
        (row[0], domain.Record(id=row[0], **dict(zip(_RECORD_FIELDS, row[1:], strict=True))))
        for row in PersonVariant.objects.filter(person__merged_into__isnull=True)
        .order_by("pk")
        .values_list("person_id", *_RECORD_FIELDS)
    ]
    index: ScanIndex = defaultdict(list)
    for pk, (record,) in records.items():
        for key in domain.block_keys(record):
            index[key].append((pk, record))
    for pk, variant in variants:
        records[pk].append(variant)
        for key in domain.block_keys(variant):
            index[key].append((pk, variant))
    for start in range(0, len(people), batch_size):
        batch = people[start : start + batch_size]
        own = {p.pk: records[p.pk] for p in batch if p.pk in records}
        wanted = {key for found in own.values() for r in found for key in domain.block_keys(r)}
        yield batch, own, {key: index[key] for key in wanted}
