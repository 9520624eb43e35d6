"""Demo data of the development side: a shipped and a planned release (called by `seed_demo`)."""

from datetime import timedelta

from django.utils import timezone

from tracker.choices import Kind, Status
from tracker.models import Service, Ticket, User

from .models import Release
from .services import release_ship


def seed_devflow_demo() -> None:
    devon = User.objects.filter(username="devon").first()
    now = timezone.now()
    for service in Service.objects.filter(name__in=["Payroll", "Web shop"]):
        fixed = list(
            Ticket.objects.filter(
                service=service, kind=Kind.DEFECT, status__in=[Status.RESOLVED, Status.CLOSED]
            )[:3]
        )
        shipped, created = Release.objects.get_or_create(
            service=service,
            version="2.4.0",
            defaults={
                "name": f"{service.name} spring fixes",
                "notes": "Fixes:\n" + "\n".join(f"- {t.key} {t.title}" for t in fixed),
            },
        )
        if created:
            shipped.tickets.set(fixed)
            release_ship(release=shipped, actor=devon, now=now - timedelta(days=3))
        Release.objects.get_or_create(
            service=service, version="2.5.0", defaults={"name": f"{service.name} next", "notes": "Planned."}
        )
