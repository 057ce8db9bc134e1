"""Learning the weights of matching from the people stored, without labels.

Pure: it takes the comparison levels of pairs (``domain.compare``), counted by pattern, and
returns weights. The method is Fellegi and Sunter's, estimated as splink does:

- **u** (how often a level is seen between two different humans) from pairs of records drawn
  at random: nearly all of them are two different humans;
- **m** (how often a level is seen between two records of one human) and the share of matches
  among the blocked pairs (those matching compares) by expectation-maximisation, with u fixed;
- each level's weight is log2(m / u), and the prior is the log2 odds that two records drawn at
  random are one human (the matches EM expects, over all pairs of records).

A level that EM sees in few matched pairs keeps most of its hand-set weight (the weights are
shrunk towards the start by ``shrink`` pseudo-pairs): a list where every record has its own
mailbox says nothing about what one mailbox shared by two records means.
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from . import domain
from .weights import COMPANY_ADDRESS_KEY, COMPARISONS, LEVELS, WEIGHT_LIMIT, Weights

# A pattern: the levels of one pair ("email.differ", "first_name.same", ...), in LEVELS order.
Pattern = tuple[str, ...]

_ORDER = {level: i for i, level in enumerate(LEVELS)}
_COMPARISON = {level: level.partition(".")[0] for level in LEVELS}
_PLURAL = {"city": "cities", "company": "companies"}
# Each comparison's levels.
_FIELDS = [[f"{c}.{lv}" for lv in levels] for c, levels in COMPARISONS.items()]


def pattern(levels: Mapping[str, str]) -> Pattern:
    """A pair's levels (``domain.compare``) as a pattern that can be counted."""
    # Keyed by the comparisons then their levels, in one flat tuple: a tuple of pairs cost
    # a tuple for each pair, and learning asks this of every pair it compares.
    return _pattern((*levels, *levels.values()))


@functools.lru_cache(maxsize=4096)
def _pattern(flat: tuple[str, ...]) -> Pattern:
    # Learning counts tens of thousands of pairs with a few hundred patterns between them.
    half = len(flat) // 2
    return tuple(
        sorted(
            (f"{c}.{lv}" for c, lv in zip(flat[:half], flat[half:], strict=True)),
            key=_ORDER.__getitem__,
        )
    )


# The least share of records the prior assumes have a duplicate (see estimate()).
MIN_DUPLICATE_RATE = 0.1
# Fewer matched pairs than this (as EM expects them) teach nothing about what a match is.
MIN_MATCHES = 50

# The blocks through which a pair was found (domain.BLOCKS names).
Found = frozenset[str]


@dataclass(frozen=True)
class Learnt:
    """Learnt weights with what they came from."""

    weights: Weights
    m: dict[str, float]
    u: dict[str, float]
    evidence: dict[str, float]  # matched pairs (as EM expects them) showing each level
    blocked_pairs: int
    random_pairs: int
    matches: float  # matched pairs EM expects among the blocked pairs
    iterations: int  # of the longest session
    converged: bool  # every session


def estimate(
    blocked: Counter[tuple[Pattern, Found]],
    random: Counter[Pattern],
    *,
    records: int,
    start: Weights,
    shrink: float = 20.0,
    min_session: int = 50,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
) -> Learnt:
    """Weights learnt from the blocked pairs' patterns (each with the blocks that found it)
    and the random pairs' patterns, starting from (and shrunk towards) ``start``.
    ``records``: how many records the pairs were drawn from (for the prior).

    As splink does, EM runs once per block over the pairs that block found, leaving out the
    fields the block made agree: among pairs found because their postcodes are equal, an
    equal postcode says nothing about who is the same human, and counted as evidence it made
    every blocked pair look like a match. Each field's m is pooled over the blocks that did
    not compare on it. A block with fewer than ``min_session`` pairs is too small to learn
    from; when every block is, all pairs are one session."""
    if not blocked or not random:
        raise ValueError("no pairs to learn from")
    u = _u(random)
    start_m = _start_m(u, start)
    sessions: dict[str, Counter[Pattern]] = defaultdict(Counter)
    for (levels, found), count in blocked.items():
        for block in found or ("",):
            sessions[block][levels] += count
    runs = {block: rows for block, rows in sessions.items() if sum(rows.values()) >= min_session}
    whole = not runs  # one session of every pair, leaving nothing out
    if whole:
        runs = {"": Counter()}
        for (levels, _), count in blocked.items():
            runs[""][levels] += count
    expected = dict.fromkeys(LEVELS, 0.0)
    posterior: dict[str, dict[Pattern, float]] = {}
    iterations, converged = 0, True
    skips = domain.block_comparisons()
    for block, rows in runs.items():
        session = _em(rows, u, start_m, skips.get(block, frozenset()), max_iterations, tolerance)
        posterior[block] = session.posterior
        for level, seen in session.expected.items():
            expected[level] += seen
        iterations = max(iterations, session.iterations)
        converged &= session.converged
    m = _m(expected, start_m=start_m)
    values: dict[str, float] = {}
    for level in LEVELS:
        learnt = max(-WEIGHT_LIMIT, min(WEIGHT_LIMIT, math.log2(m[level] / u[level])))
        seen = expected[level]
        if not seen:
            # Nothing learnt: the start's weight as it is (or, unshrunk, the estimate).
            values[level] = start.values[level] if shrink else round(learnt, 1)
            continue
        # To a tenth of a bit: what a reviewer reads in the reasons ("+4.2 first names agree").
        values[level] = round((seen * learnt + shrink * start.values[level]) / (seen + shrink), 1)
    # A pair is as likely a match as the blocks that found it say on average (a pair found
    # only by blocks too small to learn from is not counted).
    matches = 0.0
    for (levels, found), count in blocked.items():
        blocks = ("",) if whole or not found else found
        said = [posterior[b][levels] for b in blocks if b in posterior]
        if said:
            matches += count * sum(said) / len(said)
    # The prior is for the records to come as much as for the stored ones: a stored list
    # with few duplicates says little about the next list, where repeats come from. It never
    # assumes fewer than one record in MIN_DUPLICATE_RATE has another record of its human.
    pairs = records * (records - 1) / 2
    assumed = max(matches, MIN_DUPLICATE_RATE * records / 2, 1.0)
    prior = math.log2(assumed / max(pairs - assumed, 1.0))
    return Learnt(
        weights=Weights.of({**values, COMPANY_ADDRESS_KEY: 0.0}, prior=round(prior, 3)),
        m=m,
        u=u,
        evidence={k: round(v, 1) for k, v in expected.items()},
        blocked_pairs=sum(blocked.values()),
        random_pairs=sum(random.values()),
        matches=round(matches, 1),
        iterations=iterations,
        converged=converged,
    )


@dataclass
class _Session:
    posterior: dict[Pattern, float]  # of each pattern seen
    expected: dict[str, float]  # matched pairs per level (of the fields learnt)
    iterations: int
    converged: bool


def _em(
    rows: Counter[Pattern],
    u: Mapping[str, float],
    start_m: Mapping[str, float],
    skip: frozenset[str],
    max_iterations: int,
    tolerance: float,
) -> _Session:
    """EM over one block's pairs, with u fixed and the fields in ``skip`` left out."""
    kept: Counter[Pattern] = Counter()
    reduced: dict[Pattern, Pattern] = {}
    for levels, count in rows.items():
        key = tuple(level for level in levels if _COMPARISON[level] not in skip)
        reduced[levels] = key
        kept[key] += count
    items = list(kept.items())
    total = sum(kept.values())
    m = dict(start_m)
    share = 0.1  # of matches among this block's pairs
    iterations, converged = 0, False
    probability: dict[Pattern, float] = {}
    expected: dict[str, float] = {}
    for iterations in range(1, max_iterations + 1):  # noqa: B007 (used after the loop)
        log_ratio = {level: math.log2(m[level] / u[level]) for level in LEVELS}
        odds = math.log2(share / (1 - share))
        matched = 0.0
        expected = dict.fromkeys(LEVELS, 0.0)
        for levels, count in items:
            x = odds + sum(log_ratio[level] for level in levels)
            p = 1.0 / (1.0 + 2.0 ** (-x)) if x > -60 else 0.0
            probability[levels] = p
            matched += p * count
            for level in levels:
                expected[level] += p * count
        new_share = min(max(matched / total, 1e-9), 1 - 1e-9)
        new_m = _m(expected, start_m=start_m)
        change = max(abs(new_share - share), *(abs(new_m[k] - m[k]) for k in LEVELS))
        share, m = new_share, new_m
        if change < tolerance:
            converged = True
            break
    return _Session(
        posterior={levels: probability[key] for levels, key in reduced.items()},
        expected={k: v for k, v in expected.items() if _COMPARISON[k] not in skip},
        iterations=iterations,
        converged=converged,
    )


def _u(random: Counter[Pattern]) -> dict[str, float]:
    """Each level's share among the random pairs that compared its field (plus one pair per
    level, so that a level never seen is rare, not impossible)."""
    seen: Counter[str] = Counter()
    for found, count in random.items():
        for level in found:
            seen[level] += count
    out: dict[str, float] = {}
    for names in _FIELDS:
        compared = sum(seen[n] for n in names)
        for name in names:
            out[name] = (seen[name] + 1) / (compared + len(names))
    return out


def _start_m(u: Mapping[str, float], start: Weights) -> dict[str, float]:
    """m as the start weights imply it: u times 2 to the weight, normalized per field."""
    out: dict[str, float] = {}
    for names in _FIELDS:
        raw = {n: u[n] * 2.0 ** min(start.values[n], WEIGHT_LIMIT) for n in names}
        size = sum(raw.values())
        out.update({n: raw[n] / size for n in names})
    return out


def _m(expected: Mapping[str, float], *, start_m: Mapping[str, float]) -> dict[str, float]:
    """The M step: each level's share of the expected matches that compared its field, with
    one pseudo-pair spread as the start's m (never 0, so that every log ratio exists)."""
    out: dict[str, float] = {}
    for names in _FIELDS:
        compared = sum(expected[n] for n in names)
        for name in names:
            out[name] = (expected[name] + start_m[name]) / (compared + 1.0)
    return out


def doubts(learnt: Learnt) -> list[str]:
    """What makes learnt weights unfit to match with: too few matches to learn from (a list
    without duplicates), or a field whose agreement counts no more than its disagreement
    (EM took pairs that are alike for another reason, such as colleagues, for one human).
    Empty when there is nothing to doubt."""
    if learnt.matches < MIN_MATCHES:
        return [
            f"the people stored hold about {learnt.matches:.0f} pairs of records of one human, "
            f"too few to learn from (at least {MIN_MATCHES})"
        ]
    out = []
    values = learnt.weights.values
    for comparison in COMPARISONS:
        same, differ = values[f"{comparison}.same"], values[f"{comparison}.differ"]
        if same < differ + 1:
            out.append(
                f"{_PLURAL.get(comparison, comparison.replace('_', ' ') + 's')} that agree "
                f"would count {same:+.3g} and ones that differ {differ:+.3g}"
            )
    if out:
        return ["the weights learnt do not tell one human from two: " + "; ".join(out)]
    return []
