"""The plug points of inquiry processing.

Intake (intake.py) calls these in order for every clean inquiry. Each later capability
replaces one function here, and nothing else in intake changes:

- matching: ``selectors.people_by_contact`` finds people by exact normalized email, then
  phone (the dedupe issue adds fuzzy matching and the review queue);
- ``account_key``: how a company name becomes an Account key (dedupe adds cleanco);
- ``initial_stage``: where a new lead starts (scoring makes hand-raisers sales-ready);
- routing: ``routing.services.Router`` places each new lead by the routing rules (data) and
  ``sla.services`` starts the speed-to-lead clock when the owner is a rep.
"""

from __future__ import annotations

import re
import unicodedata

from . import domain

_PUNCT = re.compile(r"[^\w\s]")


def account_key(company_name: str) -> str:
    """Case, accents and punctuation folded: 'Acme, Inc.' and 'ACME Inc' share a key."""
    text = unicodedata.normalize("NFKD", company_name).encode("ascii", "ignore").decode()
    return " ".join(_PUNCT.sub(" ", text).lower().split())


def initial_stage(lead_fields: dict[str, str]) -> domain.Stage:
    return domain.Stage.INQUIRY
