"""A generated B2B contact list with hard negatives, for the dedupe benchmarks.

People work at companies; a company has a main line, an ``info@`` mailbox, an address and a
web domain. Each person is written one to four times, the way contact lists write people: a
nickname, a typo in the surname, the main line instead of the direct line, the company's
mailbox instead of the person's own, a missing email or postcode, "Inc." or not.

What makes it hard is who is *not* the same person:

- **colleagues** at one company share its main line, often its ``info@`` mailbox, its address,
  and in family firms a surname (Caleb Brown and Patricia Brown at Brown Freight);
- **namesakes**: the same first and last name at another company, in another city.

``b2b_list(seed)`` returns the rows (each with the person it belongs to), the true pairs and
the hard-negative pairs (two different people's records that share a line, a mailbox or a
full name). Different seeds give different lists; none of them is stored in the repository.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import combinations

FIRST = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Christopher", "Nancy", "Daniel", "Lisa", "Matthew", "Betty",
    "Anthony", "Margaret", "Mark", "Sandra", "Steven", "Ashley", "Andrew", "Kimberly", "Joshua",
    "Emily", "Kenneth", "Donna", "Kevin", "Michelle", "Brian", "Carol", "George", "Amanda",
    "Edward", "Melissa", "Ronald", "Deborah", "Caleb", "Priya", "Wei", "Fatima", "Mateo",
    "Aisha", "Hiroshi", "Olga", "Kwame", "Ingrid", "Rafael", "Mei",
]  # fmt: skip
NICKNAMES = {
    "James": "Jim", "Robert": "Bob", "John": "Jack", "Michael": "Mike", "William": "Bill",
    "Richard": "Dick", "Joseph": "Joe", "Thomas": "Tom", "Charles": "Chuck",
    "Christopher": "Chris", "Daniel": "Dan", "Matthew": "Matt", "Anthony": "Tony",
    "Steven": "Steve", "Andrew": "Andy", "Kenneth": "Ken", "Edward": "Ed", "Ronald": "Ron",
    "Elizabeth": "Liz", "Patricia": "Pat", "Jennifer": "Jen", "Margaret": "Peggy",
    "Kimberly": "Kim", "Deborah": "Deb", "Susan": "Sue",
}  # fmt: skip
LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Okafor", "Nakamura", "Kowalski",
    "Lindqvist", "Osei", "Petrov", "Haddad", "Fischer", "Moreau", "Rossi",
]  # fmt: skip
WORDS = [
    "Harbor", "Summit", "Granite", "Lumen", "Pioneer", "Cedar", "Atlas", "Beacon", "Copper",
    "Delta", "Evergreen", "Falcon", "Frontier", "Keystone", "Liberty", "Meridian", "Northwind",
    "Orchard", "Pinnacle", "Quarry", "Redwood", "Sterling", "Tidewater", "Union", "Vantage",
    "Willow", "Apex", "Bluewater", "Crescent", "Horizon",
]  # fmt: skip
KINDS = [
    "Freight", "Dental", "Tools", "Labs", "Logistics", "Foods", "Roofing", "Analytics",
    "Plumbing", "Media", "Fabrication", "Medical", "Legal", "Energy", "Software",
]  # fmt: skip
SUFFIXES = [("Inc", "Inc."), ("LLC", "L.L.C."), ("Co", "Company"), ("Corp", "Corporation")]
CITIES = [
    ("San Francisco", "CA", "941", "415"), ("New York", "NY", "100", "212"),
    ("Chicago", "IL", "606", "312"), ("Atlanta", "GA", "303", "404"),
    ("Seattle", "WA", "981", "206"), ("Boston", "MA", "021", "617"),
    ("Austin", "TX", "787", "512"), ("Denver", "CO", "802", "303"),
    ("Houston", "TX", "770", "713"), ("Miami", "FL", "331", "305"),
]  # fmt: skip
STREETS = ["Main St", "Oak Ave", "Market St", "Industrial Pkwy", "Harbor Blvd", "Elm St"]


@dataclass(frozen=True)
class Row:
    person: int  # who this row is (the truth)
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    street: str
    city: str
    postcode: str
    state: str


@dataclass
class B2BList:
    rows: list[Row]
    truth: set[frozenset[int]]  # pairs of row indexes that are one person
    hard: set[frozenset[int]]  # pairs of row indexes that are two people who look alike


def _phone(rng: random.Random, area: str) -> str:
    return f"+1 {area} {rng.randint(200, 989)} {rng.randint(1000, 9999)}"


def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 5:
        return name
    i = rng.randint(1, len(name) - 3)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def b2b_list(seed: int = 1, companies: int = 400) -> B2BList:
    rng = random.Random(seed)
    people: list[dict] = []
    for c in range(companies):
        word, kind = rng.choice(WORDS), rng.choice(KINDS)
        short, long = rng.choice(SUFFIXES)
        city, state, zip3, area = rng.choice(CITIES)
        firm = {
            "name": f"{word} {kind} {c}",
            "suffixes": (short, long),
            "domain": f"{word}{kind}{c}.example".lower(),
            "line": _phone(rng, area),
            "street": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
            "city": city,
            "state": state,
            "postcode": f"{zip3}{rng.randint(10, 99)}",
            "area": area,
        }
        family = rng.choice(LAST) if rng.random() < 0.2 else None  # a family firm
        names: set[tuple[str, str]] = set()  # one firm does not employ two Jim Browns here
        for _ in range(rng.randint(1, 8)):
            first = rng.choice(FIRST)
            last = family if family and rng.random() < 0.6 else rng.choice(LAST)
            if (first, last) in names:
                continue
            names.add((first, last))
            people.append(
                {
                    "firm": firm,
                    "first": first,
                    "last": last,
                    "direct": _phone(rng, firm["area"]) if rng.random() < 0.5 else "",
                }
            )
    # Namesakes: the same full name at another company.
    for person in rng.sample(people, len(people) // 10):
        other = rng.choice(people)
        taken = {(p["first"], p["last"]) for p in people if p["firm"] is other["firm"]}
        if (person["first"], person["last"]) not in taken:
            other["first"], other["last"] = person["first"], person["last"]

    rows: list[Row] = []
    for pid, person in enumerate(people):
        firm = person["firm"]
        # Two people at one firm with one full name get distinct mailboxes.
        own = f"{person['first']}.{person['last']}.{pid}@{firm['domain']}".lower()
        for _ in range(rng.choices([1, 2, 3, 4], weights=[45, 30, 15, 10])[0]):
            first, last = person["first"], person["last"]
            email, phone = own, person["direct"] or firm["line"]
            short, long = firm["suffixes"]
            company = f"{firm['name']} {rng.choice((short, long))}"
            postcode = firm["postcode"]
            change = rng.random()
            if change < 0.15 and first in NICKNAMES:
                first = NICKNAMES[first]
            elif change < 0.3:
                last = _typo(rng, last)
            elif change < 0.45:
                email = f"info@{firm['domain']}"  # the company's mailbox
            elif change < 0.6:
                phone = firm["line"]  # the switchboard
            elif change < 0.7:
                email = ""
            elif change < 0.8:
                postcode = ""
            rows.append(
                Row(pid, first, last, email, phone, company, firm["street"], firm["city"],
                    postcode, firm["state"])
            )  # fmt: skip
    rng.shuffle(rows)
    truth: set[frozenset[int]] = set()
    hard: set[frozenset[int]] = set()
    by_person: dict[int, list[int]] = {}
    by_line: dict[str, list[int]] = {}
    by_mailbox: dict[str, list[int]] = {}
    by_name: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(rows):
        by_person.setdefault(row.person, []).append(i)
        by_line.setdefault(row.phone, []).append(i)
        if row.email.startswith("info@"):
            by_mailbox.setdefault(row.email, []).append(i)
        by_name.setdefault((row.first_name, row.last_name), []).append(i)
    for members in by_person.values():
        truth.update(frozenset(p) for p in combinations(members, 2))
    for group in (by_line, by_mailbox, by_name):
        for members in group.values():
            for a, b in combinations(members, 2):
                if rows[a].person != rows[b].person:
                    hard.add(frozenset((a, b)))
    return B2BList(rows=rows, truth=truth, hard=hard)
