"""The ``refinery`` command: a thin front door over Django management commands.

``refinery serve``, ``refinery worker``, ``refinery import FILE`` ... are management commands
of the project's apps; any other Django command (``migrate``, ``shell``, ``dbshell``) passes
through unchanged.
"""

from __future__ import annotations

import os
import sys

# Friendly names for commands whose module name cannot be the word users type.
ALIASES = {
    "import": "import_leads",
    "import-undo": "import_undo",
    "create-user": "createuser",
}

# Commands shown first by ``refinery`` / ``refinery help``, with a line of help each.
OVERVIEW = [
    ("serve", "Run the web app and its background worker (gunicorn + django-q2)."),
    ("worker", "Run the background worker alone."),
    ("migrate", "Create or upgrade the database tables."),
    ("demo", "Load demo users and a few hundred realistic inquiries."),
    ("createuser", "Create a user with a role: refinery createuser NAME --role rep."),
    ("token", "Create, list or revoke API tokens: refinery token create --user NAME."),
    ("import", "Import leads from a CSV or .xlsx file: refinery import FILE --source NAME."),
    ("import-undo", "Revert one import batch: refinery import-undo BATCH."),
    (
        "check",
        "Verify the lead invariants; exit non-zero on any violation "
        "(refinery check --deploy runs Django's deployment checks).",
    ),
    ("deactivate-rep", "Deactivate a rep and reassign all their open leads through the rules."),
    ("export-leads", "Export the leads a user may see as CSV: refinery export-leads --user NAME."),
    ("outbox-send", "Send queued emails and webhooks now (the worker also does this)."),
    ("intake-retry", "Process intake records left unprocessed (the worker also does this)."),
    (
        "nurture-send",
        "Enroll leads in nurture programs and send the nurture email due now (the worker also "
        "does this).",
    ),
    (
        "cadence-sweep",
        "Do the cadence work due now: overdue steps, ended cadences, outcome checks (the "
        "worker also does this).",
    ),
    (
        "tracking-flush",
        "Turn buffered page visits into touches and engagement now (the worker also does this).",
    ),
    (
        "dedupe-scan",
        "Find possible duplicate people in batches (blocking) for the review queue; learns "
        "the match weights first when due.",
    ),
    (
        "dedupe-train",
        "Learn the weights of duplicate matching from the stored people (EM); --dry-run, --reset.",
    ),
    ("subscribers", "List which app follows which lead events (the lead-event registry)."),
    ("backup", "Back up the database, uploads and secret key into one archive: refinery backup."),
    ("restore", "Restore a backup into an empty installation: refinery restore FILE."),
    (
        "person",
        "A person's privacy request: refinery person export EMAIL|ID, "
        "refinery person erase EMAIL|ID --reason TEXT.",
    ),
    (
        "scoring",
        "Scoring jobs: refinery scoring train | import-history FILE | decay | rescore.",
    ),
]


def _translate(argv: list[str]) -> list[str]:
    if not argv:
        return argv
    name, rest = argv[0], argv[1:]
    if name == "check":
        # Django's own system checks stay reachable: `refinery check --deploy`.
        django_flags = {"--deploy", "--tag", "-t", "--list-tags", "--fail-level", "--database"}
        if any(arg.split("=")[0] in django_flags for arg in rest):
            return ["check", *rest]
        return ["checkleads", *rest]
    return [ALIASES.get(name, name).replace("-", "_"), *rest]


def _overview() -> str:
    lines = ["Lead Refinery command line.", "", "Usage: refinery COMMAND [options]", ""]
    width = max(len(name) for name, _ in OVERVIEW)
    lines += [f"  {name.ljust(width)}  {text}" for name, text in OVERVIEW]
    lines += [
        "",
        "Every command has --help. Any other Django management command also works",
        "(refinery shell, refinery dbshell, refinery showmigrations ...).",
        "Settings come from the environment: REFINERY_HOME, DATABASE_URL (see docs/configuration.md).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"help", "-h", "--help"}:
        print(_overview())
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrefinery.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["refinery", *_translate(args)])


if __name__ == "__main__":
    main()
