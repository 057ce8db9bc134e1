"""Demo data: a small sales organisation and a few hundred realistic inquiries.

Everything is generated in code from a seed (no download). This module only describes the
data (pure: no database); ``demo.loader`` sends it through the real services.

The fictional vendor sells fleet tracking, warehouse management and route planning
software to logistics companies. Phone numbers come from ranges the national regulators
reserve for fiction (US/CA 555-01xx, UK Ofcom drama numbers, German Bundesnetzagentur and
French ARCEP film ranges, Australian ACMA ranges); email and web domains end in the reserved
``.example`` top-level domain. No demo address can reach a real person.
"""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

# --- Who uses the demo --------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    last_name: str
    team: str | None
    time_zone: str
    manages: tuple[str, ...] = ()

    @property
    def password(self) -> str:
        return f"{self.username}-demo-pw"

    @property
    def teams_label(self) -> str:
        return ", ".join(self.manages) if self.manages else (self.team or "-")


AMERICAS = "Americas"
INTERNATIONAL = "International"
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "admin", "Alex", "Admin", None, "UTC"),
    DemoUser(
        "morgan",
        "manager",
        "Morgan",
        "Reyes",
        AMERICAS,
        "America/New_York",
        manages=(AMERICAS, INTERNATIONAL),
    ),
    DemoUser("riley", "rep", "Riley", "Chen", AMERICAS, "America/Chicago"),
    DemoUser("jordan", "rep", "Jordan", "Patel", AMERICAS, "America/New_York"),
    DemoUser("casey", "rep", "Casey", "Brooks", INTERNATIONAL, "Europe/London"),
    DemoUser("mia", "marketer", "Mia", "Laurent", None, "Europe/Paris"),
)
MANAGER, MARKETER = "morgan", "mia"
TEAM_OF_COUNTRY = {"US": AMERICAS, "CA": AMERICAS}  # every other country: International


# --- Where inquiries come from --------------------------------------------------------------


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    cost: int
    starts: float  # fraction of the demo window before "now" when it starts (1.0 = oldest)
    length_days: float
    utm_campaign: str = ""


@dataclass(frozen=True)
class SourceSpec:
    name: str
    channel: str  # Source.Channel value
    weight: float  # share of inquiries
    intake: str  # IntakeRecord channel: "form" (the contact form) or "api" (an integration)
    hand_raisers: float  # share asking for a demo, a quote or a call
    cost: int = 0
    kind: str = "steady"  # steady | show (during the show) | webinar (before it) | list (one drop)
    utm: tuple[str, str] | None = None
    campaigns: tuple[CampaignSpec, ...] = ()


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec("Website", "web_form", 0.17, "form", 0.45),
    SourceSpec(
        "Google Ads",
        "paid_ad",
        0.19,
        "form",
        0.35,
        utm=("google", "cpc"),
        campaigns=(
            CampaignSpec("Search: fleet tracking", 7800, 1.0, 999, "fleet-tracking-search"),
            CampaignSpec("Search: warehouse software", 5400, 0.7, 999, "wms-search"),
        ),
    ),
    SourceSpec("Organic search", "organic", 0.10, "form", 0.3, utm=("google", "organic")),
    SourceSpec(
        "Trade shows",
        "trade_show",
        0.18,
        "api",
        0.25,
        kind="show",
        campaigns=(
            CampaignSpec("LogiMAT Stuttgart", 24000, 0.78, 3),
            CampaignSpec("MODEX Atlanta", 31000, 0.35, 4),
        ),
    ),
    SourceSpec(
        "Webinars",
        "webinar",
        0.14,
        "api",
        0.1,
        kind="webinar",
        campaigns=(
            CampaignSpec("Webinar: cutting empty miles", 1800, 0.62, 0),
            CampaignSpec("Webinar: warehouse KPIs that matter", 1500, 0.2, 0),
        ),
    ),
    SourceSpec("Partner referrals", "referral", 0.08, "api", 0.6, cost=3000),
    SourceSpec(
        "Purchased lists",
        "list_purchase",
        0.14,
        "api",
        0.03,
        kind="list",
        campaigns=(CampaignSpec("Fleet managers list (DataBridge)", 4000, 0.5, 0),),
    ),
)

PRODUCTS = {"Fleet Tracking": 0.45, "Warehouse Management": 0.33, "Route Planning": 0.22}


# --- People and companies -------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    country: str  # ISO code
    spellings: tuple[str, ...]  # how people type the country
    city: str
    region: str
    postcode: str
    phone: str  # national format; '#' is a random digit
    prefix: str  # international prefix for the same number


PLACES: tuple[tuple[Place, float], ...] = (
    (
        Place(
            "US", ("United States", "USA", "US"), "New York", "NY", "10001", "(212) 555-01##", "+1"
        ),
        5,
    ),
    (
        Place(
            "US", ("United States", "USA", "US"), "Chicago", "IL", "60601", "(312) 555-01##", "+1"
        ),
        5,
    ),
    (Place("US", ("United States", "USA"), "Atlanta", "GA", "30303", "(404) 555-01##", "+1"), 4),
    (Place("US", ("United States", "US"), "Dallas", "TX", "75201", "(214) 555-01##", "+1"), 4),
    (Place("US", ("United States", "USA"), "Seattle", "WA", "98101", "(206) 555-01##", "+1"), 3),
    (Place("US", ("United States",), "Memphis", "TN", "38103", "(901) 555-01##", "+1"), 3),
    (Place("US", ("USA",), "Columbus", "OH", "43215", "(614) 555-01##", "+1"), 2),
    (Place("CA", ("Canada", "CA"), "Toronto", "ON", "M5H 2N2", "(416) 555-01##", "+1"), 3),
    (Place("CA", ("Canada",), "Vancouver", "BC", "V6B 1A1", "(604) 555-01##", "+1"), 2),
    (Place("GB", ("United Kingdom", "UK"), "London", "", "EC1A 1BB", "020 7946 0###", "+44"), 4),
    (Place("GB", ("United Kingdom", "UK"), "Manchester", "", "M1 1AE", "0161 496 0###", "+44"), 2),
    (Place("GB", ("United Kingdom",), "Leeds", "", "LS1 4AP", "0113 496 0###", "+44"), 1),
    (Place("DE", ("Germany", "DE"), "Berlin", "Berlin", "10115", "030 23125 ###", "+49"), 2),
    (Place("DE", ("Germany",), "Hamburg", "Hamburg", "20095", "040 66969 ###", "+49"), 2),
    (Place("DE", ("Germany",), "Frankfurt", "Hesse", "60311", "069 90009 ###", "+49"), 1),
    (Place("FR", ("France", "FR"), "Paris", "", "75002", "01 99 00 ## ##", "+33"), 2),
    (Place("FR", ("France",), "Lyon", "", "69002", "04 65 71 ## ##", "+33"), 1),
    (Place("AU", ("Australia", "AU"), "Sydney", "NSW", "2000", "02 5550 ####", "+61"), 1),
    (Place("AU", ("Australia",), "Melbourne", "VIC", "3000", "03 7010 ####", "+61"), 1),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = {
    "en": _words(
        "James Mary Robert Patricia Michael Jennifer David Linda William Elizabeth Daniel "
        "Susan Kevin Jessica Brian Sarah Marcus Karen Tyler Nancy Aaron Lisa Ryan Emily "
        "Olivia Ethan Hannah Noah Grace Liam Chloe Owen Priya Arjun Wei Mei Carlos Sofia"
    ),
    "de": _words("Lukas Anna Jonas Lena Felix Laura Maximilian Julia Paul Sophie Tobias Katrin"),
    "fr": _words("Louis Camille Hugo Manon Lucas Chloé Jules Léa Antoine Juliette Thomas Inès"),
}
LAST_NAMES = {
    "en": _words(
        "Smith Johnson Williams Brown Jones Garcia Miller Davis Wilson Anderson Taylor "
        "Thomas Moore Martin Jackson Thompson White Harris Clark Lewis Robinson Walker "
        "Young Allen King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Nguyen "
        "Kim Singh O'Brien MacLeod Okafor Kowalski Rossi"
    ),
    "de": _words(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Schäfer Koch"
    ),
    "fr": _words("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Lefèvre"),
}
LANGUAGE_OF_COUNTRY = {"DE": "de", "FR": "fr"}

COMPANY_STEMS = _words(
    "Kestrel Harbor Northwind Bluefield Ironbridge Summit Cedar Granite Meridian Pioneer "
    "Redwood Silverline Atlas Beacon Crescent Evergreen Falcon Horizon Juniper Lakeside "
    "Maple Oakridge Pinnacle Riverbend Sterling Trident Vantage Westport Zenith Copperleaf "
    "Blackrock Greenway Highland Keystone Lighthouse Northgate Orchard Prairie Quarry "
    "Rivermark Saltmarsh Tallpine Upland Windmill Yellowstone Alder Brightwater"
)
# Two-word industries stay whole: "Cold Chain", "Building Supply".
INDUSTRIES = (
    *_words("Logistics Freight Foods Distribution Transport Supply Wholesale Beverages Parts"),
    *_words("Haulage Couriers Produce"),
    "Cold Chain",
    "Building Supply",
)
LEGAL_FORMS = {
    "US": ("Inc.", "LLC", "Corp.", ""),
    "CA": ("Inc.", "Ltd.", ""),
    "GB": ("Ltd", "plc", ""),
    "DE": ("GmbH", "AG", "GmbH & Co. KG"),
    "FR": ("SAS", "SA", "SARL"),
    "AU": ("Pty Ltd", ""),
}
TITLES = (
    ("Fleet Manager", 8),
    ("Logistics Manager", 8),
    ("Operations Director", 6),
    ("VP Operations", 4),
    ("Head of Supply Chain", 4),
    ("Warehouse Manager", 6),
    ("Transport Planner", 5),
    ("Procurement Lead", 3),
    ("IT Manager", 3),
    ("CFO", 2),
    ("Owner", 3),
    ("Dispatcher", 3),
)


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    place: Place
    size: int  # vehicles or warehouse sites, used in messages


# --- What they write --------------------------------------------------------------------------

HAND_RAISER_MESSAGES = {
    "Fleet Tracking": (
        "We run {size} trucks out of {city} and want to see live tracking and ETA alerts. "
        "Can someone call me this week?",
        "Please send pricing for {size} vehicles. Our contract with our current telematics "
        "vendor ends in {month}.",
        "Requesting a demo: we need driver hours and fuel reports for {size} vans.",
    ),
    "Warehouse Management": (
        "Looking for a WMS for our {sites} warehouses, we are on spreadsheets today. Demo please.",
        "Need a quote for {sites} sites, about 40 users each. Go-live before peak season.",
        "Our scanners and stock counts do not match. Can we talk about your WMS this week?",
    ),
    "Route Planning": (
        "How does your route optimisation handle delivery time windows? ~{stops} stops a day. "
        "Would like a trial.",
        "Please call me about route planning for {size} vehicles, we want to cut empty miles.",
    ),
}
BROWSING_MESSAGES = (
    "Downloaded the {product} buyer's guide. Just researching for now.",
    "Interested in {product}, no project yet. Please send some information.",
    "Saw your article on fuel costs. How does {product} work with our existing ERP?",
    "",
)
QUALIFICATION = {
    "timeline": ("this quarter", "within 6 months", "next year", "not sure"),
    "budget": ("under $10k", "$10k-$50k", "$50k-$150k", "not decided"),
    "authority": ("decision maker", "recommends to the board", "researching for my manager"),
}
DQ_MESSAGES = {
    "dq_student": "Hi, I am a logistics student writing my thesis on telematics. Could you share "
    "some data?",
    "dq_spam": "Boost your SEO ranking today!!! Best prices for backlinks, reply for offer",
    "dq_competitor": "Could you send me your full price list and feature sheet?",
    "dq_bad_data": "test",
    "dq_not_fit": "Do you have software for a single food truck?",
}
LOST_NOTES = {
    "lost_competitor": "Went with a competitor that bundles hardware.",
    "lost_price": "Budget approved was half of our quote.",
    "lost_no_decision": "Project shelved; no decision this year.",
    "lost_timing": "New CEO froze all IT projects until next fiscal year.",
}
SPEED_TO_LEAD_MINUTES = ((4, 60), (60, 240), (240, 1440), (1440, 4320))
SPEED_TO_LEAD_WEIGHTS = (0.35, 0.3, 0.2, 0.15)
RECYCLE_NOTES = {
    "recycle_not_ready": "Likes the product, but not before the new depot opens.",
    "recycle_timing": "Contract with current vendor runs another 9 months.",
    "recycle_no_budget": "No budget this year; asked us to stay in touch.",
}

# --- Generated inquiries ------------------------------------------------------------------------


@dataclass(frozen=True)
class InquirySpec:
    """One inquiry to submit, and what will happen to its lead afterwards."""

    at: datetime
    source: str
    campaign: str | None
    channel: str  # IntakeRecord channel
    payload: dict[str, str]
    path: str  # sales | qualify | nurture | disqualify | wait | none (duplicate, invalid)
    country: str = ""
    reason: str = ""  # the disqualification reason when path == "disqualify"


def weighted(rng: random.Random, options) -> object:
    items = list(options.items()) if isinstance(options, dict) else list(options)
    return rng.choices([o for o, _ in items], weights=[w for _, w in items])[0]


def _digits(rng: random.Random, pattern: str) -> str:
    return "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in pattern)


def _slug(text: str) -> str:
    """ASCII for addresses: 'Inès' -> 'ines', 'Schäfer' -> 'schafer'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower())


def _companies(rng: random.Random, count: int) -> list[Company]:
    names: set[str] = set()
    out: list[Company] = []
    pairs = list(itertools.product(COMPANY_STEMS, INDUSTRIES))
    for stem, industry in rng.sample(pairs, k=min(len(pairs), count * 2)):
        place = weighted(rng, PLACES)
        assert isinstance(place, Place)
        legal = rng.choice(LEGAL_FORMS[place.country])
        name = f"{stem} {industry} {legal}".strip()
        if name in names:
            continue
        names.add(name)
        out.append(Company(name, f"{_slug(stem + industry)}.example", place, rng.randint(4, 180)))
        if len(out) == count:
            break
    return out


def _person_payload(rng: random.Random, company: Company) -> dict[str, str]:
    place = company.place
    lang = LANGUAGE_OF_COUNTRY.get(place.country, "en")
    first, last = rng.choice(FIRST_NAMES[lang]), rng.choice(LAST_NAMES[lang])
    local = _slug(first) + "." + _slug(last)
    payload = {
        "first_name": first,
        "last_name": last,
        "email": f"{local}@{company.domain}",
        "company": company.name,
        "title": str(weighted(rng, TITLES)),
        "country": rng.choice(place.spellings),
        "city": place.city,
        "language": lang,
    }
    if rng.random() < 0.75:
        number = _digits(rng, place.phone)
        if rng.random() < 0.35:  # some write it internationally, without the trunk zero
            national = number[1:] if number.startswith("0") else number
            number = f"{place.prefix} {national}"
        payload["phone"] = number
    if rng.random() < 0.4:
        payload["region"] = place.region
        payload["postcode"] = place.postcode
    if rng.random() < 0.5:
        payload["website"] = f"www.{company.domain}"
    return payload


def _when(rng: random.Random, source: SourceSpec, campaign: CampaignSpec | None, anchor, days):
    """A plausible arrival time for an inquiry of this source, inside the demo window."""
    start = anchor - timedelta(days=days)
    if campaign is not None and source.kind == "show":
        first_day = anchor - timedelta(days=campaign.starts * days)
        day = first_day + timedelta(days=rng.randrange(max(1, int(campaign.length_days))))
        at = day.replace(hour=8) + timedelta(minutes=rng.randrange(10 * 60))
    elif campaign is not None and source.kind == "webinar":
        webinar = anchor - timedelta(days=campaign.starts * days)
        at = webinar - timedelta(minutes=rng.randrange(10 * 24 * 60))
    elif campaign is not None and source.kind == "list":
        at = anchor - timedelta(days=campaign.starts * days) + timedelta(seconds=rng.randrange(900))
    else:
        # Business hours on weekdays mostly; the odd evening or weekend inquiry.
        for _ in range(20):
            at = start + timedelta(minutes=rng.randrange(days * 24 * 60))
            busy = at.weekday() < 5 and 7 <= at.hour < 19
            if busy or rng.random() < 0.15:
                break
    return min(max(at, start), anchor - timedelta(minutes=5))


def _path(rng: random.Random, hand_raiser: bool, list_row: bool) -> tuple[str, str]:
    if hand_raiser:
        return str(weighted(rng, {"sales": 0.8, "qualify": 0.15, "wait": 0.05})), ""
    options = {"nurture": 0.24, "qualify": 0.3, "sales": 0.26, "disqualify": 0.14, "wait": 0.06}
    if list_row:
        options = {"nurture": 0.35, "qualify": 0.3, "disqualify": 0.3, "wait": 0.05}
    path = str(weighted(rng, options))
    reason = ""
    if path == "disqualify":
        reason = str(
            weighted(
                rng,
                {
                    "dq_not_fit": 4,
                    "dq_student": 2,
                    "dq_spam": 2,
                    "dq_competitor": 1,
                    "dq_bad_data": 1 + 4 * list_row,
                },
            )
        )
    return path, reason


def _message(rng: random.Random, product: str, hand_raiser: bool, company: Company, anchor) -> str:
    facts = {
        "size": company.size,
        "sites": max(2, company.size // 25),
        "stops": company.size * 12,
        "city": company.place.city,
        "product": product.lower(),
        "month": (anchor + timedelta(days=rng.randrange(30, 200))).strftime("%B"),
    }
    templates = HAND_RAISER_MESSAGES[product] if hand_raiser else BROWSING_MESSAGES
    return rng.choice(templates).format(**facts)


def generate_inquiries(
    *, seed: int, count: int, anchor: datetime, days: int = 60
) -> list[InquirySpec]:
    """``count`` inquiries in time order: most valid, a few duplicates and invalid ones on purpose."""
    rng = random.Random(seed)
    companies = _companies(rng, max(10, count // 2))
    n_invalid = max(1, round(count * 0.03))
    n_duplicate = max(1, round(count * 0.05))
    specs: list[InquirySpec] = []
    for _ in range(count - n_invalid - n_duplicate):
        source = weighted(rng, [(s, s.weight) for s in SOURCES])
        assert isinstance(source, SourceSpec)
        campaign = rng.choice(source.campaigns) if source.campaigns else None
        at = _when(rng, source, campaign, anchor, days)
        company = rng.choice(companies)
        payload = _person_payload(rng, company)
        product = str(weighted(rng, PRODUCTS))
        hand_raiser = rng.random() < source.hand_raisers
        path, reason = _path(rng, hand_raiser, source.kind == "list")
        payload["product_interest"] = product
        if source.kind == "list":
            payload.pop("language", None)
        elif reason:
            payload["message"] = DQ_MESSAGES[reason]
            if reason == "dq_student":
                payload["title"] = "Student"
        elif source.kind == "show":
            payload["message"] = (
                f"Badge scan at the {campaign.name if campaign else ''} booth. "
                + (_message(rng, product, hand_raiser, company, anchor))
            )
        elif source.kind == "webinar":
            payload["message"] = f"Registered for '{campaign.name if campaign else ''}'."
        else:
            payload["message"] = _message(rng, product, hand_raiser, company, anchor)
        if hand_raiser and rng.random() < 0.6:
            for name, values in QUALIFICATION.items():
                payload[name] = rng.choice(values)
        if source.utm:
            payload["utm_source"], payload["utm_medium"] = source.utm
            if campaign and campaign.utm_campaign:
                payload["utm_campaign"] = campaign.utm_campaign
                payload["utm_term"] = product.lower()
        if source.intake == "form" or source.kind == "webinar":
            payload["consent"] = "yes" if rng.random() < 0.6 else "no"
        specs.append(
            InquirySpec(
                at=at,
                source=source.name,
                campaign=campaign.name if campaign else None,
                channel=source.intake,
                payload=payload,
                path=path,
                country=company.place.country,
                reason=reason,
            )
        )
    specs.sort(key=lambda s: s.at)
    earliest = anchor - timedelta(days=days)
    for _ in range(n_duplicate):
        # The same person writes again: often about the same product (it lands on their
        # open lead as another touch), sometimes about another one (a second lead).
        first = rng.choice(specs[: max(1, len(specs) * 3 // 4)])
        payload = dict(first.payload)
        payload["email"] = payload["email"].title() if rng.random() < 0.5 else payload["email"]
        if rng.random() < 0.2:
            payload["product_interest"] = rng.choice(
                [p for p in PRODUCTS if p != payload["product_interest"]]
            )
        payload["message"] = "Following up on my earlier request: is there any news?"
        later = first.at + timedelta(hours=rng.randint(2, 24 * 8))
        specs.append(
            InquirySpec(
                at=min(later, anchor - timedelta(minutes=5)),
                source="Website",
                campaign=None,
                channel="form",
                payload=payload,
                path=str(weighted(rng, {"sales": 0.6, "qualify": 0.4})),
                country=first.country,
            )
        )
    for _ in range(n_invalid):
        company = rng.choice(companies)
        payload = _person_payload(rng, company)
        kind = rng.randrange(3)
        if kind == 0:  # a typo that leaves no valid address, and no phone to fall back on
            payload["email"] = payload["email"].replace(".example", "")
            payload.pop("phone", None)
        elif kind == 1:  # a phone number too short to be real
            payload.pop("email")
            payload["phone"] = "555-01"
        else:  # nothing to reach them by
            payload.pop("email")
            payload.pop("phone", None)
            payload["message"] = "Call me back"
        at = earliest + timedelta(minutes=rng.randrange(days * 24 * 60))
        specs.append(
            InquirySpec(
                at=min(at, anchor - timedelta(minutes=5)),
                source="Website",
                campaign=None,
                channel="form",
                payload=payload,
                path="none",
            )
        )
    specs.sort(key=lambda s: s.at)
    return specs
