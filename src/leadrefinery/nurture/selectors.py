"""Reads for the nurture pages and API: per-message report, failures, preview, the invisible
pipeline. Each is a fixed number of queries whatever the number of programs or rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import pytz
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q

from leadrefinery.leads.models import Consent, Lead, Person

from . import content, domain
from .models import Enrollment, Message, NurtureSend, Program, ProgramStep, Suppression

Status = NurtureSend.Status
TEMPERATURES = ("hot", "warm", "cool", "cold", "")


def program_report(*, program_id: int | None = None) -> list[dict[str, Any]]:
    """Each program with its population and, per message (step): sends, opens, clicks,
    unsubscribes, leads turned hot, failures and rows still waiting."""
    programs = Program.objects.order_by("name")
    if program_id is not None:
        programs = programs.filter(pk=program_id)
    programs = programs.annotate(
        population=Count("enrollments", filter=Q(enrollments__status=Enrollment.Status.ACTIVE)),
        enrolled=Count("enrollments"),
    )
    steps = ProgramStep.objects.select_related("message").order_by("program_id", "position")
    if program_id is not None:
        steps = steps.filter(program_id=program_id)
    counts = {
        row["step_id"]: row
        for row in NurtureSend.objects.filter(
            **({"enrollment__program_id": program_id} if program_id is not None else {})
        )
        .values("step_id")
        .annotate(
            sent=Count("pk", filter=Q(status=Status.SENT)),
            opened=Count("pk", filter=Q(first_opened_at__isnull=False)),
            clicked=Count("pk", filter=Q(first_clicked_at__isnull=False)),
            unsubscribed=Count("pk", filter=Q(unsubscribed_at__isnull=False)),
            turned_hot=Count("pk", filter=Q(turned_hot_at__isnull=False)),
            failed=Count("pk", filter=Q(status__in=[Status.FAILED, Status.DEAD])),
            waiting=Count("pk", filter=Q(status__in=[Status.SCHEDULED, Status.SENDING])),
        )
    }
    empty = dict.fromkeys(
        ("sent", "opened", "clicked", "unsubscribed", "turned_hot", "failed", "waiting"), 0
    )
    by_program: dict[int, list[dict[str, Any]]] = {}
    for step in steps:
        by_program.setdefault(step.program_id, []).append(
            {"step": step, "message": step.message, **{**empty, **counts.get(step.pk, {})}}
        )
    return [{"program": p, "steps": by_program.get(p.pk, [])} for p in programs]


def failed_sends(*, program_id: int | None = None, limit: int = 50) -> list[NurtureSend]:
    rows = NurtureSend.objects.filter(status__in=[Status.FAILED, Status.DEAD])
    if program_id is not None:
        rows = rows.filter(enrollment__program_id=program_id)
    return list(
        rows.select_related("person", "step__message", "enrollment__program").order_by("-id")[
            :limit
        ]
    )


def preview(message: Message) -> dict[str, str]:
    rendered = content.render(
        subject=message.subject,
        body_markdown=message.body_markdown,
        values=content.SAMPLE,
        unsubscribe_url=f"{settings.SITE_URL}/u/preview",
        postal_address=settings.REFINERY_POSTAL_ADDRESS,
    )
    return {"subject": rendered.subject, "html": rendered.html, "text": rendered.text}


def invisible_pipeline() -> list[dict[str, Any]]:
    """Leads marketing is nurturing (stage nurture), by temperature, and how many of them are
    in a program right now."""
    in_program = Enrollment.objects.filter(lead_id=OuterRef("pk"), status=Enrollment.Status.ACTIVE)
    rows: dict[str, dict[str, Any]] = {
        row["temperature"]: dict(row)
        for row in Lead.objects.filter(stage="nurture")
        .annotate(enrolled=Exists(in_program))
        .values("temperature")
        .annotate(leads=Count("pk"), in_program=Count("pk", filter=Q(enrolled=True)))
    }
    return [
        {
            "temperature": t or "unscored",
            "leads": rows.get(t, {}).get("leads", 0),
            "in_program": rows.get(t, {}).get("in_program", 0),
        }
        for t in TEMPERATURES
    ]


def opt_in_countries() -> list[str]:
    return list(settings.REFINERY_OPT_IN_COUNTRIES)


def frequency_cap() -> domain.Cap:
    return domain.parse_cap(settings.REFINERY_NURTURE_CAP)


def recipient_zone(person: Person, program: Program) -> str:
    return domain.zone_for(person.country, program.default_time_zone, pytz.country_timezones)


def step_delay(program: Program, step: ProgramStep) -> timedelta:
    return timedelta(days=step.delay_days if step.delay_days is not None else program.interval_days)


def first_send_delay(step: ProgramStep) -> timedelta:
    # The first message goes at the next window after enrollment unless it asks for a delay.
    return timedelta(days=step.delay_days or 0)


def people_with_address(address: str) -> list[Person]:
    return list(Person.objects.filter(email=domain.normalize_address(address)).exclude(email=""))


def suppressed_reasons(addresses: Iterable[str]) -> dict[str, str]:
    wanted = {domain.normalize_address(a) for a in addresses if a}
    if not wanted:
        return {}
    return dict(Suppression.objects.filter(address__in=wanted).values_list("address", "reason"))


def consent_bases(person_ids: Iterable[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """For each person: the email consent bases of them and everyone merged into them (most
    recent first), and the addresses of those merged people."""
    ids = set(person_ids)
    merged = list(
        Person.objects.filter(merged_into_id__in=ids).values_list("pk", "merged_into_id", "email")
    )
    owner = {pk: pk for pk in ids} | {pk: into for pk, into, _ in merged}
    bases: dict[int, list[str]] = {pk: [] for pk in ids}
    rows = Consent.objects.filter(person_id__in=list(owner), channel="email").order_by(
        "-recorded_at", "-id"
    )
    for person_id, basis in rows.values_list("person_id", "basis"):
        bases[owner[person_id]].append(basis)
    addresses: dict[int, list[str]] = {pk: [] for pk in ids}
    for _pk, into, email in merged:
        if email:
            addresses[into].append(email)
    return bases, addresses


def recent_sends(person_ids: Iterable[int], since: datetime) -> dict[int, list[datetime]]:
    out: dict[int, list[datetime]] = {}
    rows = NurtureSend.objects.filter(person_id__in=list(person_ids), sent_at__gt=since).filter(
        Q(status=NurtureSend.Status.SENT)
    )
    for person_id, sent_at in rows.values_list("person_id", "sent_at"):
        if sent_at is not None:
            out.setdefault(person_id, []).append(sent_at)
    return out
