"""The plug points of inquiry processing.

Intake (intake.py) calls these in order for every clean inquiry. Each later capability
replaces one function here, and nothing else in intake changes:

- ``person_key``/matching: exact normalized email, then phone (the dedupe issue adds fuzzy
  matching and the review queue);
- ``account_key``: how a company name becomes an Account key (dedupe adds cleanco);
- ``initial_stage``: where a new lead starts (scoring makes hand-raisers sales-ready);
- ``route``: who owns a new lead (routing rules replace the default queue).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from . import domain

_PUNCT = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class RouteChoice:
    queue_slug: str | None = None
    user_id: int | None = None
    trace: tuple[str, ...] = ()


def account_key(company_name: str) -> str:
    """Case, accents and punctuation folded: 'Acme, Inc.' and 'ACME Inc' share a key."""
    text = unicodedata.normalize("NFKD", company_name).encode("ascii", "ignore").decode()
    return " ".join(_PUNCT.sub(" ", text).lower().split())


def initial_stage(lead_fields: dict[str, str]) -> domain.Stage:
    return domain.Stage.INQUIRY


def route(lead_fields: dict[str, str], person_fields: dict[str, str]) -> RouteChoice:
    """Until routing rules exist, every new lead waits in the unassigned queue."""
    return RouteChoice(
        queue_slug="unassigned", trace=("no routing rules yet: default queue 'unassigned'",)
    )
