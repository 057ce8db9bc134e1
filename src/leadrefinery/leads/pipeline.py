"""The plug points of inquiry processing.

Intake (intake.py) calls these in order for every clean inquiry. Each later capability
replaces one function here, and nothing else in intake changes:

- matching: ``dedupe.services.match_batch`` finds the person by blocking on stored match keys
  and scoring the candidates (above ``auto`` attach; between ``review`` and ``auto`` a
  possible duplicate for the review queue); ``dedupe.services.accounts_for`` links the
  person to an Account by web domain, then company key, then fuzzy company name;
- ``account_key``: how a company name becomes an Account key (cleanco, dedupe/keys.py);
- ``initial_stage``: where a new lead starts (scoring makes hand-raisers sales-ready);
- routing: ``routing.services.Router`` places each new lead by the routing rules (data) and
  ``sla.services`` starts the speed-to-lead clock when the owner is a rep.
"""

from __future__ import annotations

from leadrefinery.dedupe.keys import company_key

from . import domain


def account_key(company_name: str) -> str:
    """The cleanco basename, case, accents and punctuation folded: 'Acme, Inc.' and
    'ACME Incorporated' share the key 'acme' (dedupe/keys.py)."""
    return company_key(company_name)


def initial_stage(lead_fields: dict[str, str]) -> domain.Stage:
    return domain.Stage.INQUIRY
