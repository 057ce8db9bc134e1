"""Writes docs/screenshot.png (the lead list with realistic data) for the README.

Runs only with REFINERY_WRITE_SCREENSHOT=1, so the suite never depends on it:

    REFINERY_WRITE_SCREENSHOT=1 .venv/bin/python -m pytest tests/ui/test_screenshot.py
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from leadrefinery.common.clock import now
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Campaign, Lead, Queue, Source
from leadrefinery.leads.services import (
    lead_assign,
    lead_dispose,
    lead_recycle,
    lead_set_next_action,
    lead_transition,
    touch_log,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REFINERY_WRITE_SCREENSHOT"),
        reason="set REFINERY_WRITE_SCREENSHOT=1 to write docs/screenshot.png",
    ),
]

DOCS = Path(__file__).resolve().parents[2] / "docs"

# first, last, company, title, country, source, product line, message
# fmt: off
PEOPLE = [
    ("Dana", "Whitfield", "Northwind Traders", "Head of Operations", "DE", "Website", "Fleet", "We need 40 seats before the end of the quarter."),
    ("Marco", "Bellini", "Bellini Costruzioni", "IT Manager", "IT", "Trade show Hannover", "Fleet", "Spoke at the booth about telematics."),
    ("Priya", "Raman", "Kestrel Analytics", "VP Finance", "GB", "Webinar", "Billing", "Can you integrate with NetSuite?"),
    ("Tom", "Okafor", "Okafor & Sons", "Owner", "NG", "Referral", "Fleet", "Referred by Lagos Freight."),
    ("Elena", "Sokolova", "Baltic Cold Chain", "Logistics Director", "LT", "Paid search", "Cold chain", "Pricing for 120 trucks?"),
    ("Jonas", "Lindqvist", "Fjord Freight", "CTO", "NO", "Website", "Fleet", "Looking to replace our current vendor."),
    ("Aisha", "Khan", "Crescent Pharma", "Procurement Lead", "AE", "Trade show Hannover", "Cold chain", ""),
    ("Lukas", "Becker", "Becker Bau", "Managing Director", "DE", "Website", "Fleet", "Demo please."),
    ("Sofia", "Marquez", "Andes Mining", "Operations Analyst", "CL", "Webinar", "Billing", ""),
    ("Wei", "Zhang", "Harbor Ports", "Head of IT", "SG", "Paid search", "Fleet", "Evaluating three vendors this month."),
    ("Claire", "Dubois", "Maison Verte", "COO", "FR", "Referral", "Cold chain", "We ship fresh produce across France."),
    ("Ravi", "Patel", "Sunrise Textiles", "Finance Manager", "IN", "Website", "Billing", "Invoice automation for 3 entities."),
    ("Hannah", "Schmidt", "Alpen Logistik", "Fleet Manager", "AT", "Trade show Hannover", "Fleet", ""),
    ("Diego", "Santos", "Rio Distribuidora", "Director", "BR", "Paid search", "Fleet", "Budget approved for Q3."),
    ("Emma", "Clarke", "Clarke Catering", "Owner", "IE", "Website", "Cold chain", "Just researching for now."),
    ("Yuki", "Tanaka", "Sakura Foods", "Supply Chain Lead", "JP", "Webinar", "Cold chain", ""),
    ("Noah", "Fischer", "Fischer Transport", "Dispatcher", "CH", "Website", "Fleet", "Is there a mobile app?"),
    ("Olivia", "Brown", "Maple Health", "Procurement", "CA", "Referral", "Billing", ""),
    ("Mateo", "Rossi", "Rossi Vini", "Export Manager", "IT", "Trade show Hannover", "Cold chain", "Temperature logs for wine exports."),
    ("Grace", "Nguyen", "Lotus Retail", "Store Ops Director", "VN", "Paid search", "Fleet", ""),
    ("Samuel", "Adeyemi", "Savanna Agro", "CEO", "KE", "Website", "Fleet", "40 tractors, 12 trucks."),
    ("Isabel", "Ferreira", "Atlântico Pescas", "Quality Manager", "PT", "Webinar", "Cold chain", ""),
    ("Henrik", "Nielsen", "Nordlys Energy", "Asset Manager", "DK", "Website", "Fleet", "Service vans in 4 regions."),
    ("Fatima", "Haddad", "Cedar Medical", "Operations", "LB", "Referral", "Cold chain", ""),
    ("Oliver", "Wright", "Wright Removals", "Owner", "GB", "Paid search", "Fleet", "Call me after 3pm."),
    ("Chloe", "Martin", "Bistro Group", "Purchasing", "FR", "Website", "Billing", ""),
    ("Ahmed", "Mansour", "Nile Cargo", "General Manager", "EG", "Trade show Hannover", "Fleet", ""),
    ("Laura", "Kowalski", "Vistula Foods", "Logistics Planner", "PL", "Webinar", "Cold chain", "Need HACCP reports."),
    ("Ben", "Cohen", "Cohen Couriers", "Founder", "IL", "Website", "Fleet", ""),
    ("Mia", "Johansson", "Sundsvall Timber", "CFO", "SE", "Referral", "Billing", "Migrating from spreadsheets."),
]
# fmt: on


def _load(submit_inquiry, users) -> None:
    rep, rep2, manager = users.rep, users.rep2, users.manager
    for name, channel in [
        ("Trade show Hannover", "trade_show"),
        ("Webinar", "webinar"),
        ("Referral", "referral"),
        ("Paid search", "paid_ad"),
    ]:
        Source.objects.get_or_create(name=name, defaults={"channel": channel})
    Campaign.objects.get_or_create(
        source=Source.objects.get(name="Webinar"), name="Cold chain compliance 101"
    )
    qualifying = Queue.objects.get(slug="qualifying")
    start = now()
    leads = []
    for n, (first, last, company, title, country, source, product, message) in enumerate(PEOPLE):
        record = submit_inquiry(
            source=source,
            channel="form" if source == "Website" else "api",
            first_name=first,
            last_name=last,
            company=company,
            title=title,
            country=country,
            email=f"{first}.{last}@{company.split()[0].lower()}.example".lower(),
            product_interest=product,
            message=message,
            received_at=(start - timedelta(hours=5 * (len(PEOPLE) - n))).isoformat(),
            utm_source="google" if source == "Paid search" else "",
        )
        leads.append(Lead.objects.get(pk=record.lead_id))

    system = Actor.system("routing")
    owners = [rep, rep2, manager]
    for n, lead in enumerate(leads):
        if n % 7 == 6:
            continue  # still waiting in the unassigned queue
        if n % 5 == 4:
            lead_assign(lead=lead, owner_queue=qualifying, actor=system)
            lead_transition(lead=lead, to_stage="qualifying", actor=system)
            continue
        owner = owners[n % 3]
        lead_assign(lead=lead, owner_user=owner, actor=system)
        lead = lead_transition(lead=lead, to_stage="sales_ready", actor=system)
        if n % 4 == 0:
            continue
        actor = Actor.of(owner)
        lead = lead_transition(lead=lead, to_stage="working", actor=actor)
        for _ in range(n % 4):
            touch_log(lead=lead, channel="call", outcome="no_answer", actor=actor)
        if n % 6 == 1:
            lead = lead_transition(lead=lead, to_stage="opportunity", actor=actor)
        if n % 9 == 3:
            lead_dispose(lead=lead, reason_code="lost_competitor", actor=actor)
        elif n % 10 == 5:
            lead_recycle(lead=lead, reason_code="recycle_timing", actor=actor)
        elif n % 3 == 2:
            lead_set_next_action(
                lead=lead,
                action="Call back about pricing",
                due_at=start - timedelta(hours=3),
                actor=actor,
            )


def test_write_the_readme_screenshot(page, live_server, login, users, submit_inquiry):
    _load(submit_inquiry, users)
    page.set_viewport_size({"width": 1280, "height": 800})
    login(users.admin)
    page.goto(f"{live_server.url}/leads/")
    page.screenshot(path=str(DOCS / "screenshot.png"))
    # The lead page too, for whoever updates the docs (not committed by default).
    target = os.environ.get("REFINERY_SCREENSHOT_DETAIL")
    if target:
        lead = Lead.objects.filter(stage="working").order_by("pk").first()
        page.goto(f"{live_server.url}/leads/{lead.pk}/")
        page.screenshot(path=target, full_page=True)
