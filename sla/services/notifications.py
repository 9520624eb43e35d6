"""Notifications: who follows a ticket, queueing in-app rows and email outbox rows, read marks, preferences.

`_queue` writes nothing itself: callers collect rows in an `_Outgoing` and flush them in their own
transaction, so a notification exists if and only if the change that caused it committed. Keys make a
repeat (a redone sweep, a retried task) a no-op.
"""

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from tracker import access
from tracker.choices import Role
from tracker.errors import ValidationFailed
from tracker.models import Ticket, TicketEvent, User

from ..choices import NotificationKind
from ..models import Notification, NotificationPreference, OutboxMessage
from ..notifications import render_notification


def _contributors(ticket: Ticket) -> list:
    """Staff on the ticket's swarm now: active contributors and the members of active contributing groups."""
    active = Q(contributions__ticket=ticket, contributions__left_at__isnull=True) | Q(
        assignment_groups__contributions__ticket=ticket, assignment_groups__contributions__left_at__isnull=True)
    return list(User.objects.filter(active, is_active=True).exclude(role=Role.REQUESTER).distinct().order_by("pk"))


def _followers(ticket: Ticket, *, actor, staff_only: bool = False) -> list:
    """Who hears about a ticket's replies and moves: its requester, owner, assignee, watchers and contributors
    (staff brought onto its swarm), not the actor.

    Internal notes (`staff_only`) never reach the requester."""
    people = [ticket.owner, ticket.assignee, *ticket.watchers.all(), *_contributors(ticket)]
    if not staff_only:
        people.insert(0, ticket.requester)
    actor_pk = getattr(actor, "pk", None)
    return [p for p in people if p is not None and p.pk != actor_pk
            and (not staff_only or access.is_staff_member(p))]


def _preferences(user_ids) -> dict[tuple[int, str], NotificationPreference]:
    return {(p.user_id, p.kind): p for p in NotificationPreference.objects.filter(user_id__in=set(user_ids))}


@dataclass
class _Outgoing:
    notifications: list[Notification] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)

    def flush(self) -> None:
        if self.events:
            TicketEvent.objects.bulk_create(self.events)
        if self.notifications:
            Notification.objects.bulk_create(self.notifications, ignore_conflicts=True)
        if self.outbox:
            OutboxMessage.objects.bulk_create(self.outbox, ignore_conflicts=True)


def _queue(out: _Outgoing, *, ticket, users, kind: str, now: datetime, key: str, context: dict, prefs: dict,
           url: str | None = None) -> None:
    """In-app rows and email outbox rows for each user, honouring preferences; keys make repeats no-ops.
    `url`: where the notification leads, when not to the ticket's page."""
    seen = set()
    rendered: dict[str, tuple[str, str]] = {}  # one rendering per recipients' time zone, not per recipient
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        zone = user.time_zone or "UTC"
        if zone not in rendered:
            rendered[zone] = _render_in_zone(kind, {"ticket": ticket, **context}, zone)
        title, body = rendered[zone]
        pref = prefs.get((user.pk, kind))
        link = url if url is not None else f"/tickets/{ticket.key}/" if ticket is not None else ""
        if pref is None or pref.in_app:
            out.notifications.append(
                Notification(
                    recipient=user,
                    ticket=ticket,
                    kind=kind,
                    key=key,
                    title=title,
                    body=body,
                    url=link,
                    created_at=now,
                )
            )
        if (pref is None or pref.email) and user.email:
            mkey = f"{key}:{user.pk}:email"
            out.outbox.append(
                OutboxMessage(
                    key=mkey,
                    kind=kind,
                    recipient=user,
                    ticket=ticket,
                    to_address=user.email,
                    subject=title,
                    body=f"{body}\n\n{settings.CROSSLINE_BASE_URL}{link}\n",
                    created_at=now,
                    available_at=now,
                    message_id=f"<{mkey.replace(':', '.')}@crossline>",
                )
            )


def _render_in_zone(kind: str, context: dict, zone: str) -> tuple[str, str]:
    """A notification's text with its times in the recipient's zone, the zone named ("14:05 CET")."""
    try:
        tz = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = UTC
    with timezone.override(tz):
        return render_notification(kind, context)


def _notify(*, ticket, users, kind: str, now: datetime, key: str, context: dict, url: str | None = None) -> None:
    out = _Outgoing()
    _queue(
        out,
        ticket=ticket,
        users=users,
        kind=kind,
        now=now,
        key=key,
        context=context,
        prefs=_preferences(u.pk for u in users if u),
        url=url,
    )
    out.flush()


def notification_send(*, ticket, users, kind: str, now: datetime, key: str, context: dict | None = None,
                      url: str | None = None) -> None:
    """Notify `users` about `ticket` in the app and by e-mail (each by their preferences), in the caller's
    transaction; `key` makes a repeat a no-op. For the apps above: a CAB member asked to vote, say. `url`: the
    page the notification opens when it is not the ticket's (an approver who may not see the ticket)."""
    if kind not in NotificationKind.values:
        raise ValidationFailed(f"Unknown notification kind {kind!r}.", fields={"kind": ["Unknown kind."]})
    _notify(ticket=ticket, users=list(users), kind=kind, now=now, key=key, context=context or {}, url=url)


def notification_mark_read(*, user, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Mark the user's notifications read (all unread ones when `ids` is None); returns how many changed."""
    now = now or timezone.now()
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=now)


def preference_set(*, user, kind: str, email: bool | None = None, in_app: bool | None = None) -> NotificationPreference:
    if kind not in NotificationKind.values:
        raise ValidationFailed(
            f"Unknown notification kind {kind!r}; use one of: {', '.join(NotificationKind.values)}.",
            fields={"kind": ["Unknown kind."]},
        )
    pref, _ = NotificationPreference.objects.get_or_create(user=user, kind=kind)
    if email is not None:
        pref.email = email
    if in_app is not None:
        pref.in_app = in_app
    pref.save()
    return pref
