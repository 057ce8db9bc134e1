"""Load the demo through the real services, exactly as production data would arrive.

Inquiries go through ``intake_receive`` + ``intake_process``; then each new lead lives a short
life (triage, hand-off to a rep, follow-up touches, opportunities, wins, losses, recycling to
nurture) through the lead services, on a clock frozen at the moment each step happens. So the
timeline, the invariants and every report look like a real two-month history.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction

from leadrefinery.accounts.models import Team, User
from leadrefinery.accounts.services import user_create
from leadrefinery.cadences.models import Enrollment
from leadrefinery.cadences.selectors import template_steps
from leadrefinery.cadences.services import (
    lead_accept,
    lead_reject,
    running_enrollment,
    touch_record,
)
from leadrefinery.common import clock
from leadrefinery.demo.data import (
    AMERICAS,
    DEMO_USERS,
    INTERNATIONAL,
    LOST_NOTES,
    MANAGER,
    MARKETER,
    RECYCLE_NOTES,
    SOURCES,
    SPEED_TO_LEAD_MINUTES,
    SPEED_TO_LEAD_WEIGHTS,
    TEAM_OF_COUNTRY,
    DemoUser,
    InquirySpec,
    generate_inquiries,
    weighted,
)
from leadrefinery.demo.reporting import (
    costs_create,
    deal_value,
    last_year_create,
    rates_create,
)
from leadrefinery.intake.services import OUTCOME_NEW, intake_process, intake_receive
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.domain import OPEN_STAGES
from leadrefinery.leads.models import Campaign, Lead, Queue, Source, WebForm
from leadrefinery.leads.services import (
    lead_assign,
    lead_dispose,
    lead_recycle,
    lead_set_next_action,
    lead_transition,
)
from leadrefinery.nurture import services as nurture
from leadrefinery.nurture.sweep import nurture_enroll
from leadrefinery.reports.rollup import rollup_sweep
from leadrefinery.review.selectors import agenda_items, week_start
from leadrefinery.review.services import review_decide, review_open, review_sign_off
from leadrefinery.review.sweep import hygiene_sweep


def _channel_due(lead: Lead) -> str | None:
    """The channel of the cadence step due now on ``lead`` (None when no step is due)."""
    enrollment = running_enrollment(lead)
    if enrollment is None or enrollment.status != Enrollment.Status.ACTIVE:
        return None
    steps = template_steps(enrollment.template_id)
    position = enrollment.step_position
    return steps[position - 1].channel if 0 < position <= len(steps) else None


@dataclass
class DemoReport:
    inquiries: int = 0
    rejected: int = 0
    new_leads: int = 0
    attached: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)
    nurtured: int = 0  # leads enrolled in the demo's (paused) nurture program
    last_year: int = 0  # last year's leads, closed, their outcome checks answered
    cost_entries: int = 0
    users: tuple[DemoUser, ...] = DEMO_USERS
    already_loaded: bool = False


class DemoConflict(Exception):
    """Some demo user names are taken by real users."""


def demo_users_present() -> list[str]:

    names = [u.username for u in DEMO_USERS]
    return sorted(User.objects.filter(username__in=names).values_list("username", flat=True))


def demo_load(*, seed: int = 2026, count: int = 300, days: int = 60) -> DemoReport:
    """Create the demo users, sources and ``count`` inquiries with their histories.

    Skips everything when the demo users exist already; raises DemoConflict when only some
    of them do (the database holds other data: the demo wants a fresh one).
    """
    present = demo_users_present()
    if len(present) == len(DEMO_USERS):
        return DemoReport(already_loaded=True)
    if present:
        raise DemoConflict(", ".join(present))
    anchor = clock.now().replace(second=0, microsecond=0)
    specs = generate_inquiries(seed=seed, count=count, anchor=anchor, days=days)
    with transaction.atomic():
        world = _World.create(anchor=anchor, days=days)
        rates_create(anchor)
        last_year = last_year_create(anchor=anchor, seed=seed, users=world.users)
        report = _Simulation(world, seed=seed, anchor=anchor).run(specs)
        report.last_year = last_year
        report.cost_entries = costs_create(anchor=anchor, days=days, marketer=world.users[MARKETER])
        report.nurtured = _nurture_program(world.users[MARKETER])
        _weekly_reviews(world, anchor=anchor, rng=random.Random(f"{seed}:review"))
        hygiene_sweep(at=anchor)
        rollup_sweep(at=anchor)
        return report


def _weekly_reviews(world: _World, *, anchor: datetime, rng: random.Random) -> None:
    """A team that runs its weekly review: last week's, held and signed off by the manager with
    a decision (a new next action) for every open lead and marketing sitting in; marketing and
    the qualifying center keep their own leads' next actions; this week's review is open and
    due. A handful of next actions have fallen due since, as in any real week."""
    manager, marketer = world.users[MANAGER], world.users[MARKETER]
    this_week = week_start(anchor)
    # Held six days ago: within the last 7 days, so the manager's coverage figure reflects it.
    held = (anchor - timedelta(days=6)).replace(hour=10, minute=0)
    if week_start(held) == this_week:  # a Sunday: six days ago was this week's Monday
        held = anchor - timedelta(days=7) + timedelta(minutes=5)

    def due_from_now() -> datetime:
        return anchor + timedelta(hours=rng.uniform(-30, 24 * 9))

    with clock.frozen(held):
        for team in world.teams.values():
            review = review_open(team=team, actor=manager, week=held.date())
            for item in agenda_items(review, manager):
                lead = Lead.objects.get(pk=item.lead.pk)
                if lead.received_at > held:
                    continue  # it came in after the meeting: this week's review has it
                review_decide(
                    review=review,
                    lead=lead,
                    kind="keep",
                    actor=manager,
                    next_action=lead.next_action or "Call to qualify",
                    due_at=max(due_from_now(), held + timedelta(hours=2)),
                )
            review_sign_off(review=review, actor=manager, attendees=[marketer])
        # Marketing and the qualifying center review their own queues the same day.
        worker = {
            "marketing": marketer,
            "qualifying": world.users["riley"],
            "unassigned": world.users["riley"],
        }
        for slug, user in worker.items():
            for lead in Lead.objects.filter(
                owner_queue__slug=slug, stage__in=list(OPEN_STAGES), received_at__lt=held
            ):
                lead_set_next_action(
                    lead=lead,
                    action=lead.next_action or "Review engagement",
                    due_at=max(due_from_now(), held + timedelta(hours=2)),
                    actor=Actor.of(user),
                )
    for team in world.teams.values():
        review_open(
            team=team,
            actor=manager,
            week=this_week,
            scheduled_at=anchor + timedelta(hours=3),  # this afternoon
        )


DEMO_TIPS = (
    (
        "Tip 1: count the cost of a slow pick",
        "Hello {{ first_name }},\n\nMost warehouses lose a fifth of picking time to walking. "
        "[Our two-page checklist](https://example.com/pick-paths) shows where to look first.",
    ),
    (
        "Tip 2: slot by velocity, not by SKU",
        "Hi {{ first_name }},\n\nPut the fastest-moving fifth of your items nearest the "
        "packing stations: it is the cheapest change with the largest effect.",
    ),
    (
        "Tip 3: measure dock-to-stock",
        "{{ first_name }}, the time from the dock to a pickable shelf tells you more than any "
        "other single figure. Write it on the whiteboard every Monday.",
    ),
)


def _nurture_program(marketer: User) -> int:
    """The marketer's nurture program, with the leads that meet its entry rules enrolled.
    It is paused: the demo has no mail server; a marketer switches it on (on the program's
    page) once REFINERY_SMTP_HOST points at one."""

    messages = [
        nurture.message_create(
            name=subject, subject=subject, body_markdown=body, created_by=marketer
        )
        for subject, body in DEMO_TIPS
    ]
    program = nurture.program_create(
        name="Warehouse tips every two weeks",
        description="Short, useful tips for leads that are not ready to buy. Paused in the "
        "demo until a mail server is configured.",
        steps=[nurture.StepSpec(m.pk) for m in messages],
        entry_rules=["recycled", "warm", "cool", "lost_no_decision", "new_inquiry"],
        exit_rules=["hot", "won", "unsubscribed", "bounced", "owner_took_back"],
        created_by=marketer,
    )
    enrolled = nurture_enroll(limit=10_000)
    type(program).objects.filter(pk=program.pk).update(active=False)
    return enrolled


@dataclass
class _World:
    users: dict[str, User]
    teams: dict[str, Team]
    sources: dict[str, Source]
    campaigns: dict[str, Campaign]
    queues: dict[str, Queue]
    form: WebForm | None

    @classmethod
    def create(cls, *, anchor: datetime, days: int) -> _World:
        teams = {
            name: Team.objects.get_or_create(name=name)[0] for name in (AMERICAS, INTERNATIONAL)
        }
        users: dict[str, User] = {}
        for person in DEMO_USERS:
            users[person.username] = user_create(
                username=person.username,
                role=person.role,
                password=person.password,
                email=f"{person.username}@refinery-demo.example",
                first_name=person.first_name,
                last_name=person.last_name,
                team=teams[person.team] if person.team else None,
                time_zone=person.time_zone,
            )
        for person in DEMO_USERS:
            for name in person.manages:
                teams[name].manager = users[person.username]
                teams[name].save(update_fields=["manager"])
        queues = {q.slug: q for q in Queue.objects.all()}
        reps = [u for u in users.values() if u.role == "rep"]
        queues["qualifying"].members.add(*reps)
        queues["unassigned"].members.add(*reps)  # new inquiries are pulled from it
        queues["marketing"].members.add(users[MARKETER])
        sources: dict[str, Source] = {}
        campaigns: dict[str, Campaign] = {}
        window_start = (anchor - timedelta(days=days)).date()
        for spec in SOURCES:
            source, _ = Source.objects.get_or_create(
                name=spec.name, defaults={"channel": spec.channel, "cost": Decimal(spec.cost)}
            )
            sources[spec.name] = source
            for c in spec.campaigns:
                starts = (anchor - timedelta(days=c.starts * days)).date()
                ends = None if c.length_days >= 999 else starts + timedelta(days=c.length_days)
                campaigns[c.name], _ = Campaign.objects.get_or_create(
                    source=source,
                    name=c.name,
                    defaults={
                        "cost": Decimal(c.cost),
                        "starts_on": max(starts, window_start),
                        "ends_on": ends,
                        "utm_campaign": c.utm_campaign,
                    },
                )
        return cls(
            users=users,
            teams=teams,
            sources=sources,
            campaigns=campaigns,
            queues=queues,
            form=WebForm.objects.filter(slug="contact").first(),
        )


# A lead's life: each step runs at the frozen "now" and yields how long until the next one.
Story = Generator[timedelta, None, None]


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


class _Simulation:
    """Runs every inquiry's story in global time order on a frozen clock, so that a duplicate
    inquiry meets its first lead in exactly the state it was in at that moment."""

    def __init__(self, world: _World, *, seed: int, anchor: datetime) -> None:
        self.world = world
        self.seed = seed
        self.anchor = anchor
        self.actor = {name: Actor.of(user) for name, user in world.users.items()}
        self.report = DemoReport()

    def run(self, specs: list[InquirySpec]) -> DemoReport:
        queue: list[tuple[datetime, int, Story]] = []
        for index, spec in enumerate(specs):
            rng = random.Random(f"{self.seed}:{index}")
            queue.append((spec.at, index, self._story(spec, rng)))
        heapq.heapify(queue)
        counter = itertools.count(len(specs))
        with clock.frozen(specs[0].at if specs else self.anchor) as frozen:
            while queue:
                at, _, story = heapq.heappop(queue)
                frozen.set(at)
                try:
                    wait = next(story)
                except StopIteration:
                    continue
                if at + wait < self.anchor:
                    heapq.heappush(queue, (at + wait, next(counter), story))
                else:
                    story.close()  # the rest of this story lies in the future
        self.report.by_stage = dict(Counter(Lead.objects.values_list("stage", flat=True)))
        return self.report

    # --- the stories ------------------------------------------------------------------------

    def _story(self, spec: InquirySpec, rng: random.Random) -> Story:
        lead = self._submit(spec)
        if lead is None:
            return
        path = spec.path
        if lead.temperature == "hot" and path in ("qualify", "nurture"):
            path = "sales"  # scoring found a hand-raise (e.g. "send pricing"): sales calls
        if lead.owner_user_id is not None and path != "disqualify":
            path = "sales"  # intake kept a possible duplicate with the rep who has the person
        if path == "sales":
            yield from self._sales(lead, spec, rng)
        elif path == "qualify":
            yield from self._qualify(lead, spec, rng)
        elif path == "nurture":
            yield from self._nurture(lead, spec, rng)
        elif path == "disqualify":
            yield _minutes(rng, 10, 24 * 60)
            lead_dispose(lead=lead, reason_code=spec.reason, actor=self.actor[MANAGER])

    def _submit(self, spec: InquirySpec):
        self.report.inquiries += 1
        ip = f"203.0.113.{random.Random(spec.payload.get('email', '')).randrange(1, 255)}"
        record, _ = intake_receive(
            channel=spec.channel,
            payload=spec.payload,
            source=self.world.sources[spec.source],
            campaign=self.world.campaigns.get(spec.campaign) if spec.campaign else None,
            form=self.world.form if spec.channel == "form" else None,
            ip=ip if spec.channel == "form" else None,
            user_agent="Mozilla/5.0 (demo)" if spec.channel == "form" else "",
        )
        record = intake_process(record)
        if record.status != "processed" or record.lead_id is None:
            self.report.rejected += 1
            return None
        if (record.response or {}).get("outcome") != OUTCOME_NEW:
            self.report.attached += 1
            return None
        self.report.new_leads += 1
        return Lead.objects.get(pk=record.lead_id)

    def _rep_for(self, spec: InquirySpec, rng: random.Random):
        team = TEAM_OF_COUNTRY.get(spec.country, INTERNATIONAL)
        reps = [u for u in DEMO_USERS if u.role == "rep" and u.team == team]
        return self.world.users[rng.choice(reps).username]

    def _sales(self, lead, spec: InquirySpec, rng: random.Random, *, triaged: bool = False):
        manager = self.actor[MANAGER]
        if lead.owner_user_id is not None and lead.stage == "sales_ready":
            rep = lead.owner_user  # intake handed it to a rep already
        else:
            rep = self._rep_for(spec, rng)
            if not triaged:
                yield _minutes(rng, 5, 8 * 60)
            lead = lead_assign(
                lead=lead,
                actor=manager,
                owner_user=rep,
                note="Sales-ready: asked for contact",
                trace={"steps": [f"assigned by hand to {rep.username} (team {rep.team})"]},
            )
            lead = lead_transition(lead=lead, to_stage="sales_ready", actor=manager)
        me = Actor.of(rep)
        # Speed to lead: some reps answer within minutes, some take days.
        low, high = rng.choices(SPEED_TO_LEAD_MINUTES, weights=SPEED_TO_LEAD_WEIGHTS)[0]
        yield _minutes(rng, low, high)
        if rng.random() < 0.06:
            return  # nobody ever calls: the lead waits, overdue, for the weekly review
        if rng.random() < 0.06:
            lead_reject(
                lead=lead,
                reason_code="recycle_rejected",
                actor=me,
                note="Only downloading content; not ready for a sales call.",
            )
            return
        # Accepting starts the default cadence; every touch below is the step it has due,
        # logged through the same service as the lead page, so the cadence advances.
        lead = lead_accept(lead=lead, actor=me)
        persistent = rng.random() < 0.7  # the others give up after a touch or two
        attempts = 11 if persistent else rng.randint(1, 3)
        connected = False
        for number in range(1, attempts + 1):
            lead.refresh_from_db()
            channel = _channel_due(lead)
            if channel is None:
                break  # every step is done: waiting for a reply
            if number > 1:
                due = lead.next_action_due_at or clock.now()
                yield max(due - clock.now(), timedelta(0)) + _minutes(rng, 0, 180)
            if channel == "call":
                outcome = str(weighted(rng, {"connected": 0.3, "voicemail": 0.4, "no_answer": 0.3}))
                touch_record(lead=lead, channel=channel, actor=me, outcome=outcome)
                connected = outcome == "connected"
            else:
                touch_record(lead=lead, channel=channel, actor=me)
                if rng.random() < 0.2:
                    yield _minutes(rng, 20, 8 * 60)
                    touch_record(
                        lead=lead,
                        channel="email",
                        direction="inbound",
                        outcome="replied",
                        actor=me,
                        note="Thanks, can we talk next week?",
                    )
                    connected = True
            if connected:
                break
        if not connected:
            if persistent:
                # Eleven touches over three weeks: the persistence rule allows this.
                reason = "lost_no_response" if rng.random() < 0.5 else "recycle_no_response"
                yield _minutes(rng, 60, 24 * 60)
                if reason == "lost_no_response":
                    lead_dispose(lead=lead, reason_code=reason, actor=me)
                else:
                    lead_recycle(lead=lead, reason_code=reason, actor=me)
            return  # the rep gave up: the lead sits with an overdue cadence step
        yield _minutes(rng, 30, 3 * 24 * 60)
        turn = str(weighted(rng, {"opportunity": 0.55, "recycle": 0.33, "disqualify": 0.12}))
        if turn == "recycle":
            reason = str(weighted(rng, {code: 1 for code in RECYCLE_NOTES}))
            lead_recycle(lead=lead, reason_code=reason, actor=me, note=RECYCLE_NOTES[reason])
            return
        if turn == "disqualify":
            lead_dispose(
                lead=lead, reason_code="dq_not_fit", actor=me, note="Too small for our product."
            )
            return
        facts = spec.payload
        note = "Qualified: need confirmed" + "".join(
            f", {name} {facts[name]}"
            for name in ("budget", "authority", "timeline")
            if facts.get(name)
        )
        value, currency = deal_value(lead.product_interest, rep.team.name, rng)
        lead = lead_transition(
            lead=lead,
            to_stage="opportunity",
            actor=me,
            note=note,
            next_action="Send the proposal",
            next_action_due_at=clock.now() + timedelta(days=2),
            opportunity_amount=value,
            currency=currency,
        )
        yield timedelta(days=rng.uniform(3, 25))
        end = str(weighted(rng, {"won": 0.45, "lost": 0.42, "open": 0.13}))
        if end == "won":
            won = (value * Decimal(str(rng.choice([0.85, 0.9, 0.95, 1.0])))).quantize(Decimal(1))
            lead_dispose(
                lead=lead,
                reason_code="won",
                actor=me,
                note="Signed a 12-month contract.",
                won_amount=won,
            )
        elif end == "lost":
            reason = str(weighted(rng, {code: 1 for code in LOST_NOTES}))
            lead_dispose(lead=lead, reason_code=reason, actor=me, note=LOST_NOTES[reason])
        else:
            lead_set_next_action(
                lead=lead,
                action="Chase the signature on the proposal",
                due_at=clock.now() + timedelta(days=rng.uniform(-3, 5)),
                actor=me,
            )

    def _qualify(self, lead, spec: InquirySpec, rng: random.Random):
        manager = self.actor[MANAGER]
        yield _minutes(rng, 10, 6 * 60)
        lead = lead_assign(
            lead=lead,
            actor=manager,
            owner_queue=self.world.queues["qualifying"],
            trace={"steps": ["not a hand-raiser: qualify first"]},
        )
        lead = lead_transition(lead=lead, to_stage="qualifying", actor=manager)
        yield _minutes(rng, 60, 2 * 24 * 60)
        qualifier = Actor.of(rng.choice([u for u in self.world.users.values() if u.role == "rep"]))
        outcome = str(weighted(rng, {"connected": 0.55, "voicemail": 0.25, "no_answer": 0.2}))
        touch_record(lead=lead, channel="call", actor=qualifier, outcome=outcome)
        turn = str(weighted(rng, {"sales": 0.5, "nurture": 0.25, "disqualify": 0.1, "stay": 0.15}))
        if outcome != "connected":
            turn = "stay" if turn != "nurture" else "nurture"
        if turn == "sales":
            yield from self._sales(lead, spec, rng, triaged=True)
        elif turn == "nurture":
            lead_recycle(
                lead=lead,
                reason_code="recycle_timing",
                actor=qualifier,
                note="Real interest but no project this year.",
            )
        elif turn == "disqualify":
            lead_dispose(lead=lead, reason_code="dq_not_fit", actor=qualifier)
        else:
            lead_set_next_action(
                lead=lead,
                action="Call to qualify (second attempt)",
                due_at=clock.now() + timedelta(days=1),
                actor=qualifier,
            )

    def _nurture(self, lead, spec: InquirySpec, rng: random.Random):
        marketer = self.actor[MARKETER]
        yield _minutes(rng, 30, 24 * 60)
        lead = lead_recycle(
            lead=lead, reason_code="", actor=marketer, note="Early research; no buying signal."
        )
        if rng.random() < 0.15:
            # Nurture works: weeks later they ask for a call and go straight to sales.
            yield timedelta(days=rng.uniform(10, 40))
            yield from self._sales(lead, spec, rng, triaged=True)
