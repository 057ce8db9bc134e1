"""Pure matching: blocking on stored keys, then a score with its reasons for each pair.

No ORM, no clock. A record is a :class:`Record` (built from a Person's fields and keys). The
score is a Fellegi-Sunter style sum of log2 evidence weights, one per field comparison, turned
into a probability-like number in [0, 1]; every weight that counted is kept as a reason. Each
comparison lands on a level whose weight comes from a ``Weights`` model (weights.py: hand-set,
or learnt from the stored people by learning.py); ``compare`` gives the levels of a pair.

Field comparisons use rapidfuzz: Jaro-Winkler for names, token ratios for company and street.
Thresholds are settings (``REFINERY_DEDUPE_AUTO`` / ``REFINERY_DEDUPE_REVIEW``) passed in by
the callers: above ``auto`` an inquiry attaches to the existing Person; between ``review`` and
``auto`` a possible duplicate goes to the review queue; below, nothing happens.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import Hamming, JaroWinkler, Levenshtein

from . import keys
from .weights import (
    COMPARISONS,
    DEFAULT_COMPANY_ADDRESS,
    DEFAULT_PRIOR,
    DESCRIPTIONS,
    Weights,
    signed,
)
from .weights import default as default_weights

# The fields a reviewer compares and may choose per field when merging.
COMPARED_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "company_name",
    "website",
    "street",
    "postcode",
    "city",
    "region",
    "country",
)

# The hand-set prior: log2 odds that two records compared are the same human (weights.py).
PRIOR = DEFAULT_PRIOR
# At one company, the address is the company's: it counts at most this much (weights.py).
COMPANY_ADDRESS = DEFAULT_COMPANY_ADDRESS
# Names that agree only crossed (the first name is the other's surname) count this much less.
SWAPPED_NAMES = 1.0

BlockKey = tuple[str, tuple[str, ...]]  # (block name, the key's values)


class Verdict(StrEnum):
    AUTO = "auto"  # the same person: attach
    REVIEW = "review"  # possibly the same: a human decides
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Record:
    """What matching needs to know about one person (raw fields for display, keys to compare)."""

    id: int | None
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    street: str = ""
    city: str = ""
    email_key: str = ""
    domain_key: str = ""
    company_key: str = ""
    first_name_key: str = ""
    last_name_key: str = ""
    postcode_key: str = ""
    street_number_key: str = ""
    street_key: str = ""
    # Its block keys, worked out the first time they are asked for (``block_keys``): a stored
    # person's are asked for by the index, learning and the scan. Never given, never copied
    # (``dataclasses.replace`` makes a record whose keys are worked out again).
    _blocks: tuple[BlockKey, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def of(cls, fields: Mapping[str, object], *, id: int | None = None) -> Record:
        """From Person attribute names; keys are computed when not given."""

        def text(name: str) -> str:
            value = fields.get(name)
            return value if isinstance(value, str) else ""

        given = {name: text(name) for name in keys.KEY_FIELDS}
        if not any(given.values()):
            given = keys.person_keys({name: text(name) for name in _RAW})
        return cls(id=id, **{name: text(name) for name in _RAW if name in _RECORD_RAW}, **given)

    @property
    def role_email(self) -> bool:
        return _role_email(self.email_key)


@functools.lru_cache(maxsize=1 << 16)
def _role_email(email_key: str) -> bool:
    """A shared mailbox (sales@, info@): asked of both records of every scored pair."""
    # email_key is normalized already (keys.email_key): no need to normalize it again.
    local = email_key.rpartition("@")[0].split("+", 1)[0]
    return local in keys.ROLE_LOCAL_PARTS


_RAW = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "company_name",
    "street",
    "city",
    "website",
    "postcode",
)
_RECORD_RAW = {"email", "phone", "first_name", "last_name", "company_name", "street", "city"}


@dataclass(frozen=True)
class Block:
    """A blocking rule: records that share the values of these key columns are compared."""

    name: str
    columns: tuple[str, ...]

    def key(self, record: Record) -> tuple[str, ...] | None:
        values = self._values(record)
        if not all(values):
            return None
        if self.name == "email" and record.role_email:
            return None  # a shared mailbox is no reason to compare
        return values

    @functools.cached_property
    def _values(self) -> Callable[[Record], tuple[str, ...]]:
        # Called for every candidate of every check: one C-level getter, not a generator.
        get: Any = operator.attrgetter(*self.columns)
        return (lambda r: (get(r),)) if len(self.columns) == 1 else get


# Every block is one index read in the database (see models.Person.Meta.indexes).
BLOCKS = (
    Block("email", ("email_key",)),
    Block("phone", ("phone",)),
    Block("name", ("last_name_key", "first_name_key")),
    Block("company", ("company_key", "last_name_key")),
    Block("address", ("postcode_key", "street_number_key")),
    Block("name_postcode", ("first_name_key", "postcode_key")),
    Block("surname_postcode", ("last_name_key", "postcode_key")),
    # Found by measuring which true pairs of the FEBRL sets shared no key (19% of FEBRL 3's):
    # the same street and number under another postcode, or with a surname. (A Metaphone key
    # of the names and first name + street number found a few more, but at 1,000,000 people
    # their keys were shared by 20 to 400 people: the online check's p99 went from 1.1 ms to
    # 4.5 ms.)
    Block("street", ("street_key",)),
    Block("last_number", ("last_name_key", "street_number_key")),
)


# The comparison a block key column is compared by (weights.COMPARISONS).
_KEY_COMPARISON = {
    "email_key": "email",
    "phone": "phone",
    "first_name_key": "first_name",
    "last_name_key": "last_name",
    "company_key": "company",
    "postcode_key": "postcode",
    "street_number_key": "street_number",
    "street_key": "street",
}


# Where a person works or lives: between colleagues (or a household) these agree together as
# they do between two records of one human.
_PLACE = frozenset({"company", "phone", "postcode", "street_number", "street", "city"})


@functools.cache
def block_comparisons() -> dict[str, frozenset[str]]:
    """For each block, the comparisons its pairs agree on because the block found them: its
    own, and when it is a place (a company, a line, an address), every comparison of the
    place, for the people a place finds are colleagues or a household as often as one
    human."""
    out = {}
    for block in BLOCKS:
        own = frozenset(_KEY_COMPARISON[column] for column in block.columns)
        out[block.name] = own | _PLACE if own & _PLACE else own
    return out


def block_keys(record: Record) -> tuple[BlockKey, ...]:
    """(block name, key) of every block ``record`` has a key for (``Block.key``, inlined: it
    runs for every record matching, learning and the scan look at); worked out once per
    record."""
    known = record._blocks
    if known is not None:
        return known
    out = []
    for name, get, single, email in _KEY_GETTERS:
        values = (get(record),) if single else get(record)
        if all(values) and not (email and record.role_email):
            out.append((name, values))
    found = tuple(out)
    object.__setattr__(record, "_blocks", found)
    return found


# For block_keys: each block's name, its columns' getter, whether it has one column, and
# whether it is the email block (a shared mailbox is no reason to compare).
_KEY_GETTERS = tuple(
    (b.name, operator.attrgetter(*b.columns), len(b.columns) == 1, b.name == "email")
    for b in BLOCKS
)


@dataclass(frozen=True)
class Match:
    score: float
    weight: float
    reasons: tuple[str, ...]
    # False when the pair may be the same person but must never be attached without a human:
    # different given names (colleagues at one company share a line, a mailbox, a surname).
    auto_ok: bool = True

    def can_attach(self, auto: float) -> bool:
        return self.auto_ok and self.score >= auto

    def verdict(self, *, auto: float, review: float) -> Verdict:
        if self.can_attach(auto):
            return Verdict.AUTO
        if self.score >= review:
            return Verdict.REVIEW
        return Verdict.NONE


_DIGITS = re.compile(r"\d+")


@functools.lru_cache(maxsize=1 << 14)
def company_digits(key: str) -> tuple[str, ...]:
    """The numbers in a company key: two keys with different ones never name one company."""
    return tuple(_DIGITS.findall(key))


def company_numbers(key: str) -> str:
    """``company_digits`` joined by spaces, without its cache: the account index reads every
    key of a prefix once (250,000 at a million leads), which only churned it."""
    return " ".join(company_digits.__wrapped__(key))


def company_similar(a: str, b: str) -> bool:
    """Two company keys name the same company: equal, or a token ratio of at least 0.9 with
    the same numbers ('Acme Systems' / 'Acme System', never 'Company 1' / 'Company 12')."""
    if a == b:
        return True
    if company_digits(a) != company_digits(b):
        return False
    return fuzz.token_sort_ratio(a, b) >= 90


def _phone_near(a: str, b: str) -> bool:
    """Same length and one edit or one swap of neighbouring digits apart (a typo)."""
    if len(a) != len(b) or len(a) < 7 or Hamming.distance(a, b, score_cutoff=2) > 2:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


@functools.lru_cache(maxsize=1 << 14)
def _name_level(a: str, b: str) -> tuple[str, float]:
    """Equal names are "same"; a typo (Jaro-Winkler >= 0.94) "typo", a likely one (>= 0.88,
    or one a prefix of the other) "likely"; clearly different names "differ"; "" when either
    is missing. With the similarity, for the reasons. Remembered: names repeat, and learning
    compares 50,000 random pairs four names at a time (on a B2B list of 3,500 rows, five in
    six of those comparisons had been made before)."""
    if not a or not b:
        return "", 0.0
    if a == b:
        return "same", 1.0
    similarity = JaroWinkler.similarity(a, b)
    if similarity >= 0.94:
        return "typo", similarity
    if similarity >= 0.88:
        return "likely", similarity
    # One a prefix of the other (an initial is not): they start alike, which most pairs of
    # names compared (learning's random pairs) do not.
    if a[0] == b[0] and min(len(a), len(b)) > 1 and (a.startswith(b) or b.startswith(a)):
        return "likely", similarity
    return "differ", similarity


def _names(
    a: Record,
    b: Record,
    weights: Weights,
    levels: dict[str, str] | None,
    reasons: list[str] | None,
) -> tuple[float, bool]:
    """The names' weight, and whether both names clearly differ (for the shared-line rule)."""
    w = weights.values
    first, first_similarity = _name_level(a.first_name_key, b.first_name_key)
    last, last_similarity = _name_level(a.last_name_key, b.last_name_key)
    straight = (w["first_name." + first] if first else 0.0) + (
        w["last_name." + last] if last else 0.0
    )
    if not (first == "same" and last == "same"):  # nothing beats both names agreeing
        # Each crossed pair at both fields' weights, halved: the same whichever record comes
        # first (a first name that is the other's surname, and a surname like the other's
        # first name, scored 5 one way round and 5.6 the other).
        first_last, _ = _name_level(a.first_name_key, b.last_name_key)
        crossed = _either(w, first_last)
        floor = w["first_name.same"]
        # Unless the other crossed pair, at its best, could bring them above ``floor``
        # (in most pairs the first crossed pair differs, and it cannot), it is not compared.
        if (crossed + _crossed_best(weights)) / 2 <= floor:
            swapped = floor
        else:
            last_first, _ = _name_level(a.last_name_key, b.first_name_key)
            swapped = (crossed + _either(w, last_first)) / 2
        if swapped > straight and swapped > floor:
            last_first, _ = _name_level(a.last_name_key, b.first_name_key)
            if levels is not None:
                # Learnt as the names agreeing as far as they do, crossed.
                if first_last:
                    levels["first_name"] = first_last
                if last_first:
                    levels["last_name"] = last_first
            weight = swapped - SWAPPED_NAMES
            if reasons is not None:
                reasons.append(f"{signed(weight)} first and last names swapped but agree")
            return weight, False
    if levels is not None:
        if first:
            levels["first_name"] = first
        if last:
            levels["last_name"] = last
    if reasons is not None:
        for field, level, x, y, s in (
            ("first_name", first, a.first_name_key, b.first_name_key, first_similarity),
            ("last_name", last, a.last_name_key, b.last_name_key, last_similarity),
        ):
            if level:
                _say(reasons, w, f"{field}.{level}", a=x, b=y, s=s)
    return straight, first == "differ" and last == "differ"


def _either(w: Mapping[str, float], level: str) -> float:
    """A crossed name pair counted at both fields' weights (halved by the caller)."""
    if not level:
        return 0.0
    return w["first_name." + level] + w["last_name." + level]


def _crossed_best(weights: Weights) -> float:
    """The most ``_either`` gives a crossed name pair under these weights (0: missing)."""
    return weights.best_of(
        "names.crossed",
        lambda: max(0.0, *(_either(weights.values, lv) for lv in COMPARISONS["first_name"])),
    )


def _say(reasons: list[str], w: Mapping[str, float], level: str, **values: object) -> None:
    """The reason for one level, unless its weight is 0 (no evidence either way)."""
    weight = w[level]
    if weight:
        reasons.append(f"{signed(weight)} {DESCRIPTIONS[level].format(**values)}")


def _address(
    a: Record,
    b: Record,
    w: Mapping[str, float],
    levels: dict[str, str] | None,
    reasons: list[str] | None,
) -> float:
    total = 0.0
    # (level, values for its reason), when there are reasons to give: scoring without them
    # is every pair learning compares, and building them was half of this function's time.
    # Each comparison is written out rather than looped over: a loop over (comparison,
    # level) tuples cost a sixth more per pair.
    said: list[tuple[str, dict[str, object]]] | None = [] if reasons is not None else None
    if a.postcode_key and b.postcode_key:
        level = _edit_level(a.postcode_key, b.postcode_key)
        total += w[_POSTCODE[level]]
        if levels is not None:
            levels["postcode"] = level
        if said is not None:
            said.append((_POSTCODE[level], {"a": a.postcode_key} if level == "same" else {}))
    if a.street_number_key and b.street_number_key:
        level = _edit_level(a.street_number_key, b.street_number_key)
        total += w[_STREET_NUMBER[level]]
        if levels is not None:
            levels["street_number"] = level
        if said is not None:
            said.append((_STREET_NUMBER[level], {}))
    if a.street and b.street:
        # Below 50 the ratio is not worked out (0): every such pair is "differ".
        ratio = fuzz.token_set_ratio(keys.fold(a.street), keys.fold(b.street), score_cutoff=50)
        ratio /= 100
        if ratio >= 0.9:
            level = "same"
        elif ratio >= 0.75:
            level = "similar"
        elif ratio < 0.5:
            level = "differ"
        else:
            level = "partial"
        total += w[_STREET[level]]
        if levels is not None:
            levels["street"] = level
        if said is not None:
            said.append((_STREET[level], {} if level == "differ" else {"s": ratio}))
    if a.city and b.city:
        x, y = keys.fold(a.city), keys.fold(b.city)
        if x == y:
            level = "same"
        else:
            similarity = JaroWinkler.similarity(x, y)
            if similarity >= 0.9:
                level = "similar"
            elif similarity < 0.8:
                level = "differ"
            else:
                level = "partial"
        total += w[_CITY[level]]
        if levels is not None:
            levels["city"] = level
        if said is not None:
            said.append((_CITY[level], {}))
    if reasons is not None and said:
        for level, values in said:
            _say(reasons, w, level, **values)
    return total


def _edit_level(x: str, y: str) -> str:
    """A code's level: "same", one edit apart ("typo"), or "differ"."""
    if x == y:
        return "same"
    return "typo" if Levenshtein.distance(x, y) == 1 else "differ"


# Each address comparison's levels by name, as the weights name them.
_POSTCODE, _STREET_NUMBER, _STREET, _CITY = (
    {level: f"{comparison}.{level}" for level in COMPARISONS[comparison]}
    for comparison in ("postcode", "street_number", "street", "city")
)


_ADDRESS_COMPARISONS = ("postcode", "street_number", "street", "city")


def _address_bound(a: Record, b: Record, weights: Weights) -> float:
    """The most ``_address`` can add for these two: each part both records have, at best."""
    return (
        (weights.best("postcode") if a.postcode_key and b.postcode_key else 0.0)
        + (weights.best("street_number") if a.street_number_key and b.street_number_key else 0.0)
        + (weights.best("street") if a.street and b.street else 0.0)
        + (weights.best("city") if a.city and b.city else 0.0)
    )


def score(a: Record, b: Record, *, explain: bool = True, weights: Weights | None = None) -> Match:
    """How likely ``a`` and ``b`` are the same human, with the reason for every weight.

    ``explain=False`` leaves the reasons out (an empty tuple) and gives the same score,
    weight and ``auto_ok``: matching scores every candidate of a row, and writing out the
    reasons of pairs it then drops was a third of the scoring time. ``weights``: the model
    (the hand-set one when not given)."""
    match = _score(a, b, explain, None, weights or default_weights(), None)
    assert match is not None
    return match


def score_at_least(
    a: Record, b: Record, floor: float, *, weights: Weights | None = None
) -> Match | None:
    """``score(a, b, explain=False)`` when its score can be ``floor`` or more, else None,
    decided before the address is compared when even the best address could not bring the
    pair up to ``floor`` (most candidates of a common name: the namesakes at other companies).
    Never None for a pair whose score is ``floor`` or more."""
    return _score(a, b, False, floor, weights or default_weights(), None)


def compare(a: Record, b: Record, *, weights: Weights | None = None) -> dict[str, str]:
    """The level of every comparison both records can be compared on ({"email": "differ",
    "first_name": "same", ...}): what the weights are learnt from (learning.py). Names that
    agree only crossed are counted crossed when the weights (the hand-set ones when not
    given) score them so."""
    levels: dict[str, str] = {}
    _score(a, b, False, None, weights or default_weights(), levels)
    return levels


def _score(
    a: Record,
    b: Record,
    explain: bool,
    floor: float | None,
    weights: Weights,
    levels: dict[str, str] | None,
) -> Match | None:
    w = weights.values
    reasons: list[str] | None = [] if explain else None
    total = weights.prior
    own_email = False  # the same personal (not shared) mailbox
    # Email: decisive unless it is a shared mailbox.
    if a.email_key and b.email_key:
        if a.email_key == b.email_key:
            own_email = not _role_email(a.email_key)
            if not own_email:
                if reasons is not None:
                    reasons.append(f"0 same shared mailbox {a.email_key} (not evidence)")
            else:
                total += w["email.same"]
                if levels is not None:
                    levels["email"] = "same"
                if reasons is not None:
                    _say(reasons, w, "email.same", a=a.email_key)
        elif not (_role_email(a.email_key) or _role_email(b.email_key)):
            total += w["email.differ"]
            if levels is not None:
                levels["email"] = "differ"
            if reasons is not None:
                _say(reasons, w, "email.differ")
    # Names before the phone: when both names differ, a shared number is a company's
    # switchboard or a shared desk line more often than the same human.
    name_reasons: list[str] | None = [] if explain else None
    names, names_differ = _names(a, b, weights, levels, name_reasons)
    # Phone: E.164, so formatting never differs; a swapped digit is a typo.
    if a.phone and b.phone:
        if a.phone == b.phone:
            phone = "phone.shared_line" if names_differ else "phone.same"
        elif _phone_near(a.phone, b.phone):
            phone = "phone.near"
        else:
            phone = "phone.differ"
        total += w[phone]
        if levels is not None and phone != "phone.shared_line":
            # A shared line is a company's switchboard: found between colleagues, who never
            # meet among random pairs, it would be learnt as strong evidence. It is not
            # learnt: its weight stays the hand-set one.
            levels["phone"] = phone.partition(".")[2]
        if reasons is not None:
            _say(reasons, w, phone, a=a.phone, b=b.phone)
    total += names
    if reasons is not None:
        reasons.extend(name_reasons or ())
    # Company: the same name at two companies is two people.
    same_company = False
    company = ""
    if a.company_key and b.company_key:
        if company_similar(a.company_key, b.company_key):
            same_company = True
            company = "company.same"
        elif a.domain_key and a.domain_key == b.domain_key:
            company = "company.domain"
        else:
            company = "company.differ"
    elif a.domain_key and a.domain_key == b.domain_key:
        company = "company.domain"
    if company:
        total += w[company]
        if levels is not None:
            levels["company"] = company.partition(".")[2]
        if reasons is not None:
            shown = a.domain_key if company == "company.domain" else a.company_key
            if company == "company.differ":
                _say(reasons, w, company, a=a.company_name, b=b.company_name)
            else:
                _say(reasons, w, company, a=shown)
    # The score only grows with the weight, and the address adds at most this much.
    if floor is not None:
        bound = _address_bound(a, b, weights)
        cap = weights.company_address
        if _probability(total + (min(bound, cap) if same_company else bound)) < floor:
            return None
    address_reasons: list[str] | None = [] if explain else None
    address = _address(a, b, w, levels, address_reasons)
    if same_company and address > weights.company_address:
        # The company's address says the two work at one place, not that they are one human:
        # counted in full, it made every two colleagues a possible duplicate.
        cap = weights.company_address
        if address_reasons is not None:
            address_reasons = [
                f"{signed(cap)} same address, the company's "
                f"({'; '.join(r.split(' ', 1)[1] for r in address_reasons if r[0] == '+')})"
            ]
        address = cap
    if same_company and levels is not None:
        # Nor is it learnt from: between colleagues, the address agrees as it does between
        # two records of one human, and learnt as evidence it made colleagues look like one.
        for comparison in _ADDRESS_COMPARISONS:
            levels.pop(comparison, None)
    total += address
    if levels is not None:
        return None  # compare(): the levels are all it wants, not the guard nor the score
    if reasons is not None:
        reasons.extend(address_reasons or ())
    # One exception: the same personal (not shared) mailbox is the person's own address.
    auto_ok = True
    if own_email:
        pass
    elif _given_names_differ(a, b):
        auto_ok = False
        if reasons is not None:
            reasons.append(
                f"never attached automatically: the given names differ ({a.first_name_key} / "
                f"{b.first_name_key})"
            )
    elif _names_differ(a.last_name_key, b.last_name_key) and not _swapped(a, b):
        # Two colleagues named Kimberly share the switchboard, the company and its address.
        auto_ok = False
        if reasons is not None:
            reasons.append(
                f"never attached automatically: the last names differ ({a.last_name_key} / "
                f"{b.last_name_key})"
            )
    return Match(
        score=_probability(total), weight=total, reasons=tuple(reasons or ()), auto_ok=auto_ok
    )


def _given_names_differ(a: Record, b: Record) -> bool:
    """Both records name a given name, and they are neither equal nor nickname variants (the
    keys go through the nickname table), nor a likely typo or initial, nor the other record's
    names swapped."""
    return _names_differ(a.first_name_key, b.first_name_key) and not _swapped(a, b)


def _names_differ(x: str, y: str) -> bool:
    """Both named, and neither equal, nor an initial or a shortened form of the other, nor a
    likely typo (Jaro-Winkler >= 0.88)."""
    if not x or not y or x == y:
        return False
    if x.startswith(y) or y.startswith(x):
        return False  # an initial, or a shortened name
    return JaroWinkler.similarity(x, y) < 0.88


def _swapped(a: Record, b: Record) -> bool:
    """One record has the other's names the other way round."""
    return bool(a.first_name_key) and (
        a.first_name_key == b.last_name_key or b.first_name_key == a.last_name_key
    )


@functools.lru_cache(maxsize=4096)  # weights are sums of a few dozen values: they repeat
def _probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    return round(1 / (1 + math.pow(2, -weight)), 4)


def differing(a: object, b: object, fields: Iterable[str] = COMPARED_FIELDS) -> tuple[str, ...]:
    """The fields whose values differ when both are set (what a reviewer looks at first)."""
    out = []
    for name in fields:
        x, y = getattr(a, name, ""), getattr(b, name, "")
        if x and y and keys.fold(str(x)) != keys.fold(str(y)):
            out.append(name)
    return tuple(out)


@dataclass(frozen=True)
class Candidate:
    """One scored pair: ``left`` and ``right`` are record ids (or positions)."""

    left: int
    right: int
    match: Match


@dataclass
class PairSearch:
    """The outcome of an offline search: the pairs at or above ``review``, and the work done."""

    pairs: list[Candidate]
    comparisons: int
    blocks: int


# A block key shared by more people than this is a stop word ('smith john' in a national
# list): it says nothing about who is who, and comparing all its members would cost more
# than everything else. Online matching and the offline scan both skip such keys; the other
# blocks (email, phone, company, postcode) still compare those people.
MAX_BLOCK = 200


def candidate_pairs(
    records: Iterable[Record], *, max_block: int = MAX_BLOCK
) -> Iterator[tuple[int, int]]:
    """Each pair of records (by position) sharing at least one block key, once.

    Blocks larger than ``max_block`` are skipped as uninformative (a stop word: 'smith john'
    in a national list), which keeps the work near n log n and never all pairs."""
    index: dict[tuple[str, tuple[str, ...]], list[int]] = defaultdict(list)
    for position, record in enumerate(records):
        for key in block_keys(record):
            index[key].append(position)
    seen: set[tuple[int, int]] = set()
    for members in index.values():
        if len(members) < 2 or len(members) > max_block:
            continue
        for i, left in enumerate(members):
            for right in members[i + 1 :]:
                pair = (left, right)
                if pair not in seen:
                    seen.add(pair)
                    yield pair


def find_duplicates(
    records: list[Record],
    *,
    review: float,
    max_block: int = MAX_BLOCK,
    weights: Weights | None = None,
) -> PairSearch:
    """Every pair of ``records`` scoring at or above ``review``, by blocking then scoring."""
    pairs: list[Candidate] = []
    comparisons = 0
    for left, right in candidate_pairs(records, max_block=max_block):
        comparisons += 1
        match = score(records[left], records[right], weights=weights)
        if match.score >= review:
            pairs.append(Candidate(left, right, match))
    return PairSearch(pairs=pairs, comparisons=comparisons, blocks=len(BLOCKS))


def best(candidates: Iterable[tuple[int, Match]]) -> tuple[int, Match] | None:
    """The strongest candidate (ties: the oldest id)."""
    top: tuple[int, Match] | None = None
    for ident, match in candidates:
        if top is None or (match.weight, -ident) > (top[1].weight, -top[0]):
            top = (ident, match)
    return top
