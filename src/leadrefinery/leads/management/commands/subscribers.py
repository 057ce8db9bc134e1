from django.core.management.base import BaseCommand

from leadrefinery.leads.events import subscribers


class Command(BaseCommand):
    help = (
        "List the lead-event registry: which app follows which kinds of lead event, in the "
        "order they are called (see docs/architecture.md)."
    )

    def handle(self, *args: object, **options: object) -> None:
        for sub in subscribers():
            kinds = ", ".join(sorted(sub.kinds))
            self.stdout.write(f"{sub.name}\n  follows: {kinds}\n  calls:   {sub.handler}")
            if sub.description:
                self.stdout.write(f"  why:     {sub.description}")
