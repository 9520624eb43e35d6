"""Releases: what a version of a service ships, and shipping it."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tracker import services
from tracker.choices import EventKind
from tracker.errors import TransitionRefused

from ..models import Release


def release_ship(*, release: Release, actor, now: datetime | None = None) -> Release:
    """Mark a release shipped and put a 'release' event on each ticket it carries; atomic, once only."""
    now = now or timezone.now()
    if release.shipped_at is not None:
        raise TransitionRefused(f"{release} was already shipped on {release.shipped_at:%Y-%m-%d}.")
    with transaction.atomic():
        won = Release.objects.filter(pk=release.pk, shipped_at__isnull=True).update(
            shipped_at=now, shipped_by=actor
        )
        if not won:
            raise TransitionRefused(f"{release} was already shipped.")
        release.shipped_at, release.shipped_by = now, actor
        for ticket in release.tickets.all():
            services.event_record(
                ticket=ticket,
                actor=actor,
                kind=EventKind.RELEASE,
                now=now,
                field="release",
                new=release.version,
                note=f"shipped in {release.service} {release.version}"
                + (f" ({release.name})" if release.name else ""),
            )
    return release
