"""The evidence weights of matching: one per level of each field comparison, and the prior.

Matching (domain.py) compares two records field by field; each comparison lands on one level
("first names agree", "postcodes one typo apart", "different companies") and adds that level's
weight, a log2 likelihood ratio log2(m / u): how much more often a level is seen between two
records of one human (m) than between two records of different humans (u). The prior is the
log2 odds that two records compared are the same human before any field is looked at.

``DEFAULT`` is the hand-set model this project ships with. ``refinery dedupe-train`` estimates
the weights from the people stored (learning.py: u from random pairs, m and the share of
matches by expectation-maximisation over the blocked pairs, as Fellegi and Sunter and splink
do) and stores them as a ``MatchModel``; matching then uses the newest stored model.

What is not a weight stays a rule in domain.py: a shared mailbox is no evidence, a company's
address counts at most ``COMPANY_ADDRESS``, and different given names or surnames are never
attached without a human, whatever the weights.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# The comparisons, each with its levels in order of agreement, and the hand-set weights.
# A comparison is skipped (no level) when either record lacks the field.
COMPARISONS: dict[str, dict[str, float]] = {
    "email": {"same": 20.0, "differ": -2.0},
    # "shared_line": the same number while both names differ (a switchboard, a shared desk).
    "phone": {"same": 14.0, "shared_line": 4.0, "near": 5.0, "differ": -3.0},
    "first_name": {"same": 4.0, "typo": 3.0, "likely": 1.6, "differ": -4.0},
    "last_name": {"same": 5.0, "typo": 3.75, "likely": 2.0, "differ": -5.0},
    # "domain": different or missing company names, the same web domain.
    "company": {"same": 4.0, "domain": 3.0, "differ": -8.0},
    "postcode": {"same": 3.0, "typo": 1.5, "differ": -2.0},
    "street_number": {"same": 2.0, "typo": 0.5, "differ": -1.5},
    "street": {"same": 4.0, "similar": 2.0, "partial": 0.0, "differ": -1.0},
    "city": {"same": 1.5, "similar": 1.0, "partial": 0.0, "differ": -1.0},
}
DEFAULT_PRIOR = -9.0
# At one company, the address is the company's: the hand-set model counts it at most this much.
# A learnt model counts it 0, for it learns what the same company means with the address
# that comes with it (learning.py).
DEFAULT_COMPANY_ADDRESS = 4.0
COMPANY_ADDRESS_KEY = "rule.company_address"  # where a stored model keeps it

# Learnt weights are kept within this range: a level never seen among random pairs (two
# people with one personal mailbox) would otherwise weigh without bound.
WEIGHT_LIMIT = 25.0

# What a level says in a pair's reasons ("{a}" and "{b}" are the two records' values).
DESCRIPTIONS: dict[str, str] = {
    "email.same": "same email ({a})",
    "email.differ": "different emails",
    "phone.same": "same phone ({a})",
    "phone.shared_line": "same phone ({a}), but both names differ: a shared line?",
    "phone.near": "phones one typo apart ({a} / {b})",
    "phone.differ": "different phones",
    "first_name.same": "first names agree",
    "first_name.typo": "first names similar ({a} / {b}, Jaro-Winkler {s:.2f})",
    "first_name.likely": "first names similar ({a} / {b}, Jaro-Winkler {s:.2f})",
    "first_name.differ": "first names differ ({a} / {b})",
    "last_name.same": "last names agree",
    "last_name.typo": "last names similar ({a} / {b}, Jaro-Winkler {s:.2f})",
    "last_name.likely": "last names similar ({a} / {b}, Jaro-Winkler {s:.2f})",
    "last_name.differ": "last names differ ({a} / {b})",
    "company.same": "same company ({a})",
    "company.domain": "same web domain ({a})",
    "company.differ": "different companies ({a} / {b})",
    "postcode.same": "same postcode ({a})",
    "postcode.typo": "postcodes one typo apart",
    "postcode.differ": "different postcodes",
    "street_number.same": "same street number",
    "street_number.typo": "street numbers one typo apart",
    "street_number.differ": "different street numbers",
    "street.same": "same street (token ratio {s:.2f})",
    "street.similar": "similar street (token ratio {s:.2f})",
    "street.partial": "streets partly alike (token ratio {s:.2f})",
    "street.differ": "different streets",
    "city.same": "same city",
    "city.similar": "similar city",
    "city.partial": "cities partly alike",
    "city.differ": "different cities",
}

LEVELS: tuple[str, ...] = tuple(
    f"{comparison}.{level}" for comparison, levels in COMPARISONS.items() for level in levels
)


def signed(weight: float) -> str:
    """A weight as the reasons show it: +20, -1.5, +6.875, +13.88."""
    return f"{weight:+.4g}" if weight else "0"


@dataclass(frozen=True)
class Weights:
    """One model: a weight for every level and the prior. ``model_id`` names the stored
    ``MatchModel`` (None: the hand-set default)."""

    values: Mapping[str, float]
    prior: float = DEFAULT_PRIOR
    company_address: float = DEFAULT_COMPANY_ADDRESS
    model_id: int | None = None
    learnt_at: str = ""
    _best: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        missing = set(LEVELS) - set(self.values)
        if missing:
            raise ValueError(f"weights missing for {', '.join(sorted(missing))}")

    @classmethod
    def of(
        cls,
        values: Mapping[str, float],
        *,
        prior: float,
        model_id: int | None = None,
        learnt_at: str = "",
    ) -> Weights:
        """From stored values (``stored()``): unknown levels are ignored and levels a stored
        model does not name (added to matching after it was learnt) keep their hand-set
        weight."""
        merged = {**DEFAULT_VALUES, **{k: float(v) for k, v in values.items() if k in LEVELS}}
        return cls(
            merged,
            prior=float(prior),
            company_address=float(values.get(COMPANY_ADDRESS_KEY, DEFAULT_COMPANY_ADDRESS)),
            model_id=model_id,
            learnt_at=learnt_at,
        )

    def stored(self) -> dict[str, float]:
        """The values as a model stores them (``of`` reads them back)."""
        return {**self.values, COMPANY_ADDRESS_KEY: self.company_address}

    def best(self, comparison: str) -> float:
        """The most a comparison can add (0 when every level counts against)."""
        hit = self._best.get(comparison)
        if hit is None:
            hit = max(0.0, *(self.values[f"{comparison}.{lv}"] for lv in COMPARISONS[comparison]))
            self._best[comparison] = hit
        return hit

    def best_of(self, name: str, work_out: Callable[[], float]) -> float:
        """A bound of matching's under these weights, worked out once (``work_out``)."""
        hit = self._best.get(name)
        if hit is None:
            hit = self._best[name] = work_out()
        return hit

    @property
    def learnt(self) -> bool:
        return self.model_id is not None


DEFAULT_VALUES: dict[str, float] = {
    f"{comparison}.{level}": weight
    for comparison, levels in COMPARISONS.items()
    for level, weight in levels.items()
}


@functools.cache
def default() -> Weights:
    """The hand-set model."""
    return Weights(DEFAULT_VALUES, prior=DEFAULT_PRIOR)
