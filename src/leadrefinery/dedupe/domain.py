"""Pure matching: blocking on stored keys, then a score with its reasons for each pair.

No ORM, no clock. A record is a :class:`Record` (built from a Person's fields and keys). The
score is a Fellegi-Sunter style sum of log2 evidence weights, one per field comparison, turned
into a probability-like number in [0, 1]; every weight that counted is kept as a reason.

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
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import Hamming, JaroWinkler, Levenshtein

from . import keys

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

PRIOR = -9.0  # log2 odds that two records taken from one block are the same human
# Both first and last names clearly differ (-4 and -5): a shared phone is weak evidence then.
SHARED_LINE_NAMES = 9.0
# At one company, the address is the company's: it counts at most this much.
COMPANY_ADDRESS = 4.0


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


def block_keys(record: Record) -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for block in BLOCKS:
        key = block.key(record)
        if key is not None:
            out.append((block.name, key))
    return out


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


def _name_weight(a: str, b: str, what: str, strong: float, reasons: list[str] | None) -> float:
    """Equal names count ``strong``; a typo (Jaro-Winkler >= 0.94) most of it, a likely one
    (>= 0.88, or one a prefix of the other) less; clearly different names count against."""
    if not a or not b:
        return 0.0
    if a == b:
        if reasons is not None:
            reasons.append(f"+{strong:g} {what} agree")
        return strong
    similarity = JaroWinkler.similarity(a, b)
    prefix = min(len(a), len(b)) > 1 and (a.startswith(b) or b.startswith(a))
    if similarity >= 0.94 or similarity >= 0.88 or prefix:
        weight = round(strong * (0.75 if similarity >= 0.94 else 0.4), 2)
        if reasons is not None:
            reasons.append(f"+{weight:g} {what} similar ({a} / {b}, Jaro-Winkler {similarity:.2f})")
        return weight
    if reasons is not None:
        reasons.append(f"-{strong:g} {what} differ ({a} / {b})")
    return -strong


def _names(a: Record, b: Record, reasons: list[str] | None) -> float:
    said: list[str] | None = [] if reasons is not None else None
    straight = _name_weight(a.first_name_key, b.first_name_key, "first names", 4.0, said)
    straight += _name_weight(a.last_name_key, b.last_name_key, "last names", 5.0, said)
    if straight < 9:  # both names agreeing is the most there is: no need to try them swapped
        # Each crossed pair at both weights, halved: the same whichever record comes first
        # (a first name that is the other's surname, and a surname like the other's first
        # name, scored 5 one way round and 5.6 the other).
        first_last, last_first = (
            (a.first_name_key, b.last_name_key),
            (a.last_name_key, b.first_name_key),
        )
        swapped = (
            _name_weight(*first_last, "", 4.0, None)
            + _name_weight(*last_first, "", 5.0, None)
            + _name_weight(*first_last, "", 5.0, None)
            + _name_weight(*last_first, "", 4.0, None)
        ) / 2
        if swapped > straight and swapped > 4:
            if reasons is not None:
                reasons.append(f"+{swapped - 1:g} first and last names swapped but agree")
            return swapped - 1
    if reasons is not None:
        reasons.extend(said or ())
    return straight


def _address(a: Record, b: Record, reasons: list[str] | None) -> float:
    w = 0.0
    if a.postcode_key and b.postcode_key:
        if a.postcode_key == b.postcode_key:
            w += 3
            if reasons is not None:
                reasons.append(f"+3 same postcode ({a.postcode_key})")
        elif Levenshtein.distance(a.postcode_key, b.postcode_key) == 1:
            w += 1.5
            if reasons is not None:
                reasons.append("+1.5 postcodes one typo apart")
        else:
            w -= 2
            if reasons is not None:
                reasons.append("-2 different postcodes")
    if a.street_number_key and b.street_number_key:
        if a.street_number_key == b.street_number_key:
            w += 2
            if reasons is not None:
                reasons.append("+2 same street number")
        elif Levenshtein.distance(a.street_number_key, b.street_number_key) == 1:
            w += 0.5
            if reasons is not None:
                reasons.append("+0.5 street numbers one typo apart")
        else:
            w -= 1.5
            if reasons is not None:
                reasons.append("-1.5 different street numbers")
    if a.street and b.street:
        ratio = fuzz.token_set_ratio(keys.fold(a.street), keys.fold(b.street)) / 100
        if ratio >= 0.9:
            w += 4
            if reasons is not None:
                reasons.append(f"+4 same street (token ratio {ratio:.2f})")
        elif ratio >= 0.75:
            w += 2
            if reasons is not None:
                reasons.append(f"+2 similar street (token ratio {ratio:.2f})")
        elif ratio < 0.5:
            w -= 1
            if reasons is not None:
                reasons.append("-1 different streets")
    if a.city and b.city:
        x, y = keys.fold(a.city), keys.fold(b.city)
        similarity = 1.0 if x == y else JaroWinkler.similarity(x, y)
        if similarity >= 0.9:
            w += 1.5 if x == y else 1
            if reasons is not None:
                reasons.append("+1.5 same city" if x == y else "+1 similar city")
        elif similarity < 0.8:
            w -= 1
            if reasons is not None:
                reasons.append("-1 different cities")
    return w


def _address_bound(a: Record, b: Record) -> float:
    """The most ``_address`` can add for these two: each part both records have, at best."""
    return (
        (3.0 if a.postcode_key and b.postcode_key else 0.0)
        + (2.0 if a.street_number_key and b.street_number_key else 0.0)
        + (4.0 if a.street and b.street else 0.0)
        + (1.5 if a.city and b.city else 0.0)
    )


def score(a: Record, b: Record, *, explain: bool = True) -> Match:
    """How likely ``a`` and ``b`` are the same human, with the reason for every weight.

    ``explain=False`` leaves the reasons out (an empty tuple) and gives the same score,
    weight and ``auto_ok``: matching scores every candidate of a row, and writing out the
    reasons of pairs it then drops was a third of the scoring time."""
    match = _score(a, b, explain, None)
    assert match is not None
    return match


def score_at_least(a: Record, b: Record, floor: float) -> Match | None:
    """``score(a, b, explain=False)`` when its score can be ``floor`` or more, else None,
    decided before the address is compared when even the best address could not bring the
    pair up to ``floor`` (most candidates of a common name: the namesakes at other companies).
    Never None for a pair whose score is ``floor`` or more."""
    return _score(a, b, False, floor)


def _score(a: Record, b: Record, explain: bool, floor: float | None) -> Match | None:
    reasons: list[str] | None = [] if explain else None
    w = PRIOR
    own_email = False  # the same personal (not shared) mailbox
    # Email: decisive unless it is a shared mailbox.
    if a.email_key and b.email_key:
        if a.email_key == b.email_key:
            own_email = not _role_email(a.email_key)
            if not own_email:
                if reasons is not None:
                    reasons.append(f"0 same shared mailbox {a.email_key} (not evidence)")
            else:
                w += 20
                if reasons is not None:
                    reasons.append(f"+20 same email ({a.email_key})")
        elif not (_role_email(a.email_key) or _role_email(b.email_key)):
            w -= 2
            if reasons is not None:
                reasons.append("-2 different emails")
    # Names before the phone: when both names differ, a shared number is a company's
    # switchboard or a shared desk line more often than the same human.
    name_reasons: list[str] | None = [] if explain else None
    names = _names(a, b, name_reasons)
    # Phone: E.164, so formatting never differs; a swapped digit is a typo.
    if a.phone and b.phone:
        if a.phone == b.phone and names <= -SHARED_LINE_NAMES:
            w += 4
            if reasons is not None:
                reasons.append(f"+4 same phone ({a.phone}), but both names differ: a shared line?")
        elif a.phone == b.phone:
            w += 14
            if reasons is not None:
                reasons.append(f"+14 same phone ({a.phone})")
        elif _phone_near(a.phone, b.phone):
            w += 5
            if reasons is not None:
                reasons.append(f"+5 phones one typo apart ({a.phone} / {b.phone})")
        else:
            w -= 3
            if reasons is not None:
                reasons.append("-3 different phones")
    w += names
    if reasons is not None:
        reasons.extend(name_reasons or ())
    # Company: the same name at two companies is two people.
    same_company = False
    if a.company_key and b.company_key:
        if company_similar(a.company_key, b.company_key):
            same_company = True
            w += 4
            if reasons is not None:
                reasons.append(f"+4 same company ({a.company_key})")
        elif a.domain_key and a.domain_key == b.domain_key:
            w += 3
            if reasons is not None:
                reasons.append(f"+3 same web domain ({a.domain_key})")
        else:
            w -= 8
            if reasons is not None:
                reasons.append(f"-8 different companies ({a.company_name} / {b.company_name})")
    elif a.domain_key and a.domain_key == b.domain_key:
        w += 3
        if reasons is not None:
            reasons.append(f"+3 same web domain ({a.domain_key})")
    # The score only grows with the weight, and the address adds at most this much.
    if floor is not None:
        bound = _address_bound(a, b)
        if _probability(w + (min(bound, COMPANY_ADDRESS) if same_company else bound)) < floor:
            return None
    address_reasons: list[str] | None = [] if explain else None
    address = _address(a, b, address_reasons)
    if same_company and address > COMPANY_ADDRESS:
        # The company's address says the two work at one place, not that they are one human:
        # counted in full, it made every two colleagues a possible duplicate.
        if address_reasons is not None:
            address_reasons = [
                f"+{COMPANY_ADDRESS:g} same address, the company's "
                f"({'; '.join(r.split(' ', 1)[1] for r in address_reasons if r[0] == '+')})"
            ]
        address = COMPANY_ADDRESS
    w += address
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
    return Match(score=_probability(w), weight=w, reasons=tuple(reasons or ()), auto_ok=auto_ok)


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
    records: list[Record], *, review: float, max_block: int = MAX_BLOCK
) -> PairSearch:
    """Every pair of ``records`` scoring at or above ``review``, by blocking then scoring."""
    pairs: list[Candidate] = []
    comparisons = 0
    for left, right in candidate_pairs(records, max_block=max_block):
        comparisons += 1
        match = score(records[left], records[right])
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
