"""Match keys: how a Person's contact fields become the stored, indexed keys that blocking
reads. Pure: no ORM, no clock. The same functions fill the columns (intake, import, the
backfill migration, the bench) so stored keys and computed keys always agree.

- ``email_key``: lower-cased and Unicode-folded; provider rules only where the provider
  defines them (Gmail ignores dots and ``+tags``, googlemail.com is gmail.com; Outlook,
  iCloud, Fastmail, Proton... drop ``+tags``; any other domain keeps its local part as is).
- ``domain_key``: the web domain, from the website or else a non-free-mail email domain.
- ``company_key``: the cleanco basename (legal form dropped), case and punctuation folded:
  "Acme, Inc." and "ACME Incorporated" are both "acme".
- ``first_name_key`` / ``last_name_key``: folded; first names through a small nickname table
  (Bob -> robert, Liz -> elizabeth).
- ``postcode_key`` and ``street_number_key``.
- ``street_key``: the street number and the street's first word ("155 lambert"), which finds
  the same address written with another postcode or a typo later in the street.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from urllib.parse import urlsplit

from cleanco import basename

KEY_FIELDS = (
    "email_key",
    "domain_key",
    "company_key",
    "first_name_key",
    "last_name_key",
    "postcode_key",
    "street_number_key",
    "street_key",
)

_GMAIL = {"gmail.com", "googlemail.com"}
# Providers that document "+tag" sub-addressing (the tag never changes the mailbox).
_PLUS_TAGS = {
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "fastmail.com",
    "fastmail.fm",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "zoho.com",
    "yandex.com",
    "yandex.ru",
}
FREE_MAIL = {
    *_GMAIL,
    *_PLUS_TAGS,
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "ymail.com",
    "aol.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "mail.ru",
    "qq.com",
    "163.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "live.co.uk",
    "outlook.de",
    "orange.fr",
    "free.fr",
    "t-online.de",
    "comcast.net",
    "verizon.net",
    "att.net",
    "btinternet.com",
    "libero.it",
    "rediffmail.com",
    "tutanota.com",
}
# Shared mailboxes: the same address is not evidence of the same human.
ROLE_LOCAL_PARTS = {
    "info",
    "sales",
    "contact",
    "contacts",
    "hello",
    "office",
    "admin",
    "support",
    "team",
    "marketing",
    "enquiries",
    "inquiries",
    "enquiry",
    "inquiry",
    "mail",
    "hr",
    "jobs",
    "careers",
    "billing",
    "accounts",
    "accounting",
    "finance",
    "purchasing",
    "procurement",
    "help",
    "service",
    "noreply",
    "no-reply",
    "webmaster",
    "reception",
    "general",
    "orders",
}
# A small nickname table: every name on a line folds to the first one.
_NICKNAMES = """
robert bob bobby rob robbie bert
william bill billy will willy liam
elizabeth liz lizzie beth betty eliza libby
richard rick ricky dick rich
james jim jimmy jamie
john johnny jack jon
jonathan jon
michael mike mikey mick
thomas tom tommy
christopher chris kit
katherine kate katie kathy cathy catherine kathryn
margaret maggie meg peggy
jennifer jen jenny
joseph joe joey
charles charlie chuck
daniel dan danny
matthew matt
anthony tony
andrew andy drew
edward ed eddie ted ned
alexander alex sasha
alexandra alex sandra
nicholas nick nicky
steven steve stephen
benjamin ben benny
samuel sam sammy
patricia pat patty trish
patrick pat paddy
susan sue susie suzanne
deborah debbie deb
rebecca becky becca
victoria vicky tori
timothy tim timmy
gregory greg
jeffrey jeff geoffrey
kenneth ken kenny
ronald ron ronnie
donald don donny
douglas doug
frederick fred freddie
gerald gerry jerry
lawrence larry
leonard leo len lenny
peter pete
philip phil phillip
raymond ray
theodore theo teddy
vincent vince
zachary zach zack
abigail abby
alice allie
amanda mandy
barbara barb barbie
christine chris chrissy christina
cynthia cindy
dorothy dot dottie
eleanor ellie nora
florence flo
frances fran frankie
francis frank
helen nell
jacqueline jackie
jessica jess jessie
judith judy
kimberly kim
lauren laurie
madeline maddie
melissa mel missy
nancy nan
natalie nat
pamela pam
samantha sam
sophia sophie
stephanie steph
teresa terry tess theresa
valerie val
"""
NICKNAMES: dict[str, str] = {}
for _line in _NICKNAMES.strip().splitlines():
    _canonical, *_others = _line.split()
    NICKNAMES.setdefault(_canonical, _canonical)
    for _other in _others:
        NICKNAMES.setdefault(_other, _canonical)

_NON_WORD = re.compile(r"[^a-z0-9]+")
_FIRST_NUMBER = re.compile(r"\d+")


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case ASCII words: accents dropped, punctuation and runs of space become one space.
    Kept for the texts seen last: matching folds both streets and cities of every pair it
    compares, and one record is in many pairs."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(_NON_WORD.sub(" ", ascii_text.lower()).split())


def email_parts(email: str) -> tuple[str, str]:
    local, _, domain = unicodedata.normalize("NFKC", email.strip()).lower().rpartition("@")
    return local, domain.rstrip(".")


@functools.lru_cache(maxsize=65536)
def email_key(email: str) -> str:
    """The mailbox an address delivers to, as far as its provider documents it."""
    if "@" not in email:
        return ""
    local, domain = email_parts(email)
    if not local or not domain:
        return ""
    if domain in _GMAIL:
        domain = "gmail.com"
        local = local.split("+", 1)[0].replace(".", "")
    elif domain in _PLUS_TAGS:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}"


def _host(website: str) -> str:
    text = website.strip().lower()
    if not text:
        return ""
    if "://" not in text:
        text = "https://" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".")
    return host.removeprefix("www.") if "." in host else ""


def domain_key(website: str = "", email: str = "") -> str:
    """The company's web domain: the website's host, else the email domain unless free mail."""
    host = _host(website)
    if host:
        return host
    if "@" in email:
        domain = email_parts(email)[1]
        if domain and domain not in FREE_MAIL:
            return domain
    return ""


@functools.lru_cache(maxsize=65536)
def company_key(company_name: str) -> str:
    """'Acme, Inc.', 'ACME Incorporated' and 'The Acme Company' all become 'acme'."""
    if not company_name.strip():
        return ""
    base = fold(basename(company_name)) or fold(company_name)
    words = base.split()
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    if len(words) > 1 and words[-1] in {"company", "co", "group", "holding", "holdings"}:
        words = words[:-1]
    return " ".join(words)


@functools.lru_cache(maxsize=65536)
def first_name_key(first_name: str) -> str:
    """The first given name, folded, through the nickname table."""
    words = fold(first_name).split()
    if not words:
        return ""
    return NICKNAMES.get(words[0], words[0])


@functools.lru_cache(maxsize=65536)
def last_name_key(last_name: str) -> str:
    """Folded, spaces and hyphens dropped: "O'Brien" and "OBrien" agree."""
    return fold(last_name).replace(" ", "")


def postcode_key(postcode: str) -> str:
    return fold(postcode).replace(" ", "").upper()


def street_number_key(street: str) -> str:
    match = _FIRST_NUMBER.search(street)
    return match.group(0).lstrip("0") or "0" if match else ""


def street_key(street: str) -> str:
    """The street number and the first word of two letters or more after it, folded; empty
    without both."""
    folded = fold(street)
    match = _FIRST_NUMBER.search(folded)
    if not match:
        return ""
    word = next((w for w in folded[match.end() :].split() if len(w) > 1 and w.isalpha()), "")
    return f"{match.group(0).lstrip('0') or '0'} {word}"[:120] if word else ""


def person_keys(fields: Mapping[str, str]) -> dict[str, str]:
    """Every stored key for a person's fields (Person attribute names)."""
    email = fields.get("email", "") or ""
    return {
        "email_key": email_key(email) if email else "",
        "domain_key": domain_key(fields.get("website", "") or "", email),
        "company_key": company_key(fields.get("company_name", "") or ""),
        "first_name_key": first_name_key(fields.get("first_name", "") or ""),
        "last_name_key": last_name_key(fields.get("last_name", "") or ""),
        "postcode_key": postcode_key(fields.get("postcode", "") or ""),
        "street_number_key": street_number_key(fields.get("street", "") or ""),
        "street_key": street_key(fields.get("street", "") or ""),
    }


def apply_keys(person: object) -> None:
    """Set the key attributes of a Person-like object from its own fields."""
    values = {
        name: getattr(person, name, "") or ""
        for name in (
            "email",
            "website",
            "company_name",
            "first_name",
            "last_name",
            "postcode",
            "street",
        )
    }
    for name, value in person_keys(values).items():
        setattr(person, name, value)
