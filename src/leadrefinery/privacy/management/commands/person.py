"""`refinery person export|erase`: a person's data request from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from leadrefinery.accounts.models import User
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.actors import Actor

from ... import selectors, services


class Command(BaseCommand):
    help = (
        "A person's privacy request (GDPR/CCPA). `refinery person export EMAIL|ID [--output "
        "FILE]` writes every row about the person (person, leads, touches, timeline, consents, "
        "raw inquiries, visits and events, emails sent, nurture sends, scores) as JSON. "
        "`refinery person erase EMAIL|ID --reason TEXT [--yes]` irreversibly redacts the "
        "person's data everywhere while keeping the leads' non-personal facts for the "
        "reports, keeps a keyed hash of their email and phone (so they are not nurtured again "
        "if they reappear) and records who erased and why. An EMAIL also finds the people "
        "merged with the one that has it. See docs/privacy.md."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write everything stored about a person as JSON")
        export.add_argument("person", help="the person's id or email address")
        export.add_argument("--output", "-o", help="write to this file (default: standard output)")
        export.add_argument(
            "--user", help="the admin recorded as having exported (default: the command line)"
        )
        erase = sub.add_parser(
            "erase", help="irreversibly redact a person's data (their leads are kept, redacted)"
        )
        erase.add_argument("person", help="the person's id or email address")
        erase.add_argument(
            "--reason",
            required=True,
            help="why, for the audit log (e.g. 'GDPR request 2026-12-01, ticket 4411'); do not "
            "write the person's name or address here",
        )
        erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        erase.add_argument(
            "--user", help="the admin recorded as having erased (default: the command line)"
        )

    def handle(self, *args, **o):
        try:
            subject = selectors.subject_find(o["person"])
        except selectors.NotFound as exc:
            raise CommandError(str(exc)) from None
        actor = self._actor(o.get("user"))
        if o["action"] == "export":
            document = selectors.person_export(subject)
            services.export_record(subject=subject, actor=actor)
            text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True)
            if o.get("output"):
                Path(o["output"]).write_text(text + "\n", encoding="utf-8")
                self.stderr.write(
                    f"Wrote {sum(len(v) for v in document['tables'].values())} row(s) about "
                    f"person {', '.join(map(str, subject.person_ids))} to {o['output']}."
                )
            else:
                self.stdout.write(text)
            return
        summary = (
            f"Erase person {', '.join(map(str, subject.person_ids))} "
            f"({len(subject.lead_ids)} lead(s))? Their name, contacts, messages, notes, raw "
            "inquiries, visits and emails are redacted for good; the leads stay, for the "
            "reports."
        )
        if not o["yes"]:
            if not sys.stdin.isatty():
                raise CommandError("refusing to erase without confirmation: add --yes")
            self.stdout.write(summary)
            answer = input("Type 'erase' to confirm: ")
            if answer.strip().lower() != "erase":
                raise CommandError("not erased")
        try:
            event = services.person_erase(subject=subject, actor=actor, reason=o["reason"])
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        changed = sum(event.counts.values())
        self.stdout.write(
            f"Erased person {', '.join(map(str, subject.person_ids))}: {changed} row(s) "
            f"redacted in {len(event.counts)} table(s); privacy log entry {event.pk}."
        )

    def _actor(self, username: str | None) -> Actor:
        if not username:
            return Actor.system("cli")
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if not user.is_admin_role:
            raise CommandError(f"{username} is not an admin")
        return Actor.of(user)
