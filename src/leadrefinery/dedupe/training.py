"""Learning the match weights from the people stored (``refinery dedupe-train``).

The pairs are the ones matching compares: every two people sharing a block key (as
``dedupe_scan`` goes through them), each pair once at its most alike records, and pairs of
records drawn at random from a sample of the stored people. learning.py does the estimate;
the weights are stored as a ``MatchModel``, which intake, import and the scan use from then on.
"""

from __future__ import annotations

import random as random_module
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from random import Random

from django.db import transaction

from leadrefinery.common import config
from leadrefinery.common.clock import now
from leadrefinery.common.collector import fewer_collections
from leadrefinery.common.forking import BothEnds
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Person

from . import domain, learning
from .models import MatchModel
from .selectors import ScanBatch, scan_batches_for
from .weights import default as default_weights

# Below these, the estimate says more about chance than about the list: nothing is learnt.
MIN_PEOPLE = 100
MIN_BLOCKED_PAIRS = 100
SAMPLE = 2_000  # people drawn for the random pairs


@dataclass
class TrainReport:
    people: int
    learnt: learning.Learnt | None  # None: too little to learn from
    model: MatchModel | None  # None: not saved (a dry run, or refused)
    refused: str = ""  # why the weights were not learnt, or not kept


def train_due(people: int) -> bool:
    """Whether ``dedupe-scan`` learns the weights before it scans: there are enough people
    to learn from and the stored people have doubled since the weights in use were learnt
    (or they are the hand-set ones)."""
    if people < MIN_PEOPLE:
        return False
    model = MatchModel.objects.filter(active=True).order_by("-id").only("people").first()
    return model is None or people >= 2 * model.people


@fewer_collections()
def dedupe_train(
    *,
    random_pairs: int = 50_000,
    seed: int = 0,
    max_block: int = domain.MAX_BLOCK,
    save: bool = True,
    batch_size: int = 500,
    batches: Iterable[ScanBatch] | None = None,
    progress: Callable[[int], None] | None = None,
    actor: Actor | None = None,
    at: datetime | None = None,
) -> TrainReport:
    """Learn the weights from the stored people; store them (unless ``save`` is False) as the
    model matching uses. Always starts from the hand-set weights, so that learning twice from
    the same people gives the same weights. ``batches``: the stored people as
    ``selectors.scan_batches`` reads them, when the caller has them already."""
    at = at or now()
    actor = actor or Actor.system("dedupe-train")
    start = default_weights()
    values = start.values
    rng = random_module.Random(seed)
    blocked: Counter[tuple[learning.Pattern, learning.Found]] = Counter()
    sample: list[domain.Record] = []
    if batches is None:
        batches = scan_batches_for(Person.objects.count(), batch_size)
    drawing: BothEnds[Counter[learning.Pattern]] | None = None
    if isinstance(batches, list):
        # Held in memory: the sample and its random pairs are drawn first (the same draws as
        # in the loop below). A fork on the other core compares the pairs from the first on
        # while this process goes through the blocked pairs, then this one takes them from
        # the last until they meet (they were over half of learning's time on a new list of
        # 10,000 people).
        seen = 0
        for _, records, _ in batches:
            for own in records.values():
                seen += 1
                _draw(sample, own[0], seen, rng)
        drawing = _random_pairs_shared(sample, _pair_draws(len(sample), random_pairs, rng))
    try:
        people, records_seen = _blocked_pairs(
            batches, blocked, values, max_block, progress, None if drawing else (sample, rng)
        )
        if people < MIN_PEOPLE or sum(blocked.values()) < MIN_BLOCKED_PAIRS:
            return TrainReport(
                people=people,
                learnt=None,
                model=None,
                refused=(
                    f"{people} people and {sum(blocked.values())} pairs sharing a block key: at "
                    f"least {MIN_PEOPLE} people and {MIN_BLOCKED_PAIRS} pairs are needed to "
                    "learn from"
                ),
            )
        drawn = (
            drawing.finish()
            if drawing
            else _compared(sample, _pair_draws(len(sample), random_pairs, rng))
        )
    finally:
        if drawing is not None:
            drawing.cancel()
    learnt = learning.estimate(blocked, drawn, records=records_seen, start=start)
    doubts = learning.doubts(learnt)
    if doubts:
        return TrainReport(
            people=people,
            learnt=learnt,
            model=None,
            refused="; ".join(doubts),
        )
    model = match_model_save(learnt, people=people, actor=actor, at=at) if save else None
    return TrainReport(people=people, learnt=learnt, model=model)


def _draw(sample: list[domain.Record], record: domain.Record, seen: int, rng: Random) -> None:
    """Reservoir sampling: every stored person equally likely to be drawn (``seen``: the
    people seen so far, this one included)."""
    if len(sample) < SAMPLE:
        sample.append(record)
    elif (slot := rng.randrange(seen)) < SAMPLE:
        sample[slot] = record


def _pair_draws(size: int, pairs: int, rng: Random) -> list[tuple[int, int]]:
    """``pairs`` pairs of two different positions in a sample of ``size``, each equally
    likely (as rng.sample draws them, faster)."""
    drawn: list[tuple[int, int]] = []
    if size < 2:
        return drawn
    # rng.randrange(n), inlined as Random draws it (random.py: _randbelow_with_getrandbits): a
    # number of n's bits, drawn again until it is below n. The same draws (test), in two
    # fifths of the time.
    bits, n_a, n_b = rng.getrandbits, size, size - 1
    k_a, k_b = n_a.bit_length(), n_b.bit_length()
    for _ in range(pairs):
        a = bits(k_a)
        while a >= n_a:
            a = bits(k_a)
        b = bits(k_b)
        while b >= n_b:
            b = bits(k_b)
        drawn.append((a, b + (b >= a)))
    return drawn


def _compared(
    sample: list[domain.Record],
    draws: list[tuple[int, int]],
    start: int = 0,
    stop: int | None = None,
) -> Counter[learning.Pattern]:
    """The patterns of the drawn pairs ``draws[start:stop]`` of ``sample``'s records."""
    found: Counter[learning.Pattern] = Counter()
    for a, b in draws[start:stop]:
        found[learning.pattern(domain.compare(sample[a], sample[b]))] += 1
    return found


def _random_pairs_shared(
    sample: list[domain.Record], draws: list[tuple[int, int]]
) -> BothEnds[Counter[learning.Pattern]]:
    """``_compared`` shared with a fork (common/forking.py: BothEnds), the patterns counted
    in the order of the draws (the same counts, in the same order, as compared here alone)."""

    def merge(
        first: Counter[learning.Pattern], then: Counter[learning.Pattern]
    ) -> Counter[learning.Pattern]:
        first.update(then)
        return first

    return BothEnds(
        len(draws), lambda start, stop: _compared(sample, draws, start, stop), merge, step=1000
    )


def _blocked_pairs(
    batches: Iterable[ScanBatch],
    blocked: Counter[tuple[learning.Pattern, learning.Found]],
    values: Mapping[str, float],
    max_block: int,
    progress: Callable[[int], None] | None,
    sampling: tuple[list[domain.Record], Random] | None,
) -> tuple[int, int]:
    """Count the patterns of the pairs matching compares into ``blocked``; the people and
    records seen. ``sampling``: (sample, rng) to draw the random sample as it goes."""
    people = records_seen = 0
    for batch, records, index in batches:
        for pk, own in records.items():
            people += 1
            if sampling is not None:
                _draw(sampling[0], own[0], people, sampling[1])
            # The records that attached to this person are pairs too, matched ones: without
            # them EM would see only the pairs the import did not attach, the hardest ones.
            records_seen += len(own)
            own_keys = [domain.block_keys(record) for record in own]
            for i, record in enumerate(own):
                keys = dict(own_keys[i])
                for j in range(i + 1, len(own)):
                    other_record = own[j]
                    shared = frozenset(name for name, key in own_keys[j] if keys.get(name) == key)
                    if shared:
                        blocked[learning.pattern(domain.compare(record, other_record)), shared] += 1
            # Each other person once: at their most alike records, with every block that
            # found them.
            best: dict[int, tuple[float, learning.Pattern]] = {}
            found_by: dict[int, set[str]] = defaultdict(set)
            compared: set[tuple[int, int]] = set()  # (own record, other record): once each
            for record, record_keys in zip(own, own_keys, strict=True):
                for key in record_keys:
                    members = index.get(key, [])
                    if len(members) > max_block:
                        continue  # a stop word: matching never compares on it
                    for other, other_record in members:
                        if other >= pk:
                            continue
                        found_by[other].add(key[0])
                        if (id(record), id(other_record)) in compared:
                            continue
                        compared.add((id(record), id(other_record)))
                        levels = learning.pattern(domain.compare(record, other_record))
                        weight = sum(values[level] for level in levels)
                        if other not in best or weight > best[other][0]:
                            best[other] = (weight, levels)
            blocked.update((levels, frozenset(found_by[o])) for o, (_, levels) in best.items())
        if progress:
            progress(len(batch))
    return people, records_seen


def match_model_save(
    learnt: learning.Learnt, *, people: int, actor: Actor, at: datetime
) -> MatchModel:
    """Store learnt weights as the model matching uses from now on (saving it replaces the
    configuration token, so every process reloads its weights)."""
    with transaction.atomic():
        return MatchModel.objects.create(
            created_at=at,
            created_by=actor.label,
            prior=learnt.weights.prior,
            weights=learnt.weights.stored(),
            details={
                "m": {k: round(v, 6) for k, v in learnt.m.items()},
                "u": {k: round(v, 8) for k, v in learnt.u.items()},
                "evidence": learnt.evidence,
            },
            people=people,
            blocked_pairs=learnt.blocked_pairs,
            random_pairs=learnt.random_pairs,
            matches=learnt.matches,
            iterations=learnt.iterations,
            converged=learnt.converged,
        )


def dedupe_weights_reset() -> int:
    """Go back to the hand-set weights: every learnt model is kept but no longer used. The
    number of models set aside."""
    with transaction.atomic():
        count = MatchModel.objects.filter(active=True).update(active=False)
        config.bump()  # update() sends no signal: every process reloads the weights
    return count
