"""Reads of the core. Every ticket query starts from `access.visible(user)`."""
from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from . import access
from .errors import NotFound
from .models import Link, Ticket, TicketEvent

LIST_RELATED = ("requester", "group", "assignee", "service", "category")


def _sla_clocks() -> Prefetch:
    """A ticket's SLA clocks with their policy and calendar (what the `sla` field reads), in one query."""
    clocks = Ticket._meta.get_field("sla_clocks").related_model.objects.select_related("policy__calendar")
    # A plain list attribute: reading it per row builds no QuerySet (a clone per row cost ~10 ms a page).
    return Prefetch("sla_clocks", queryset=clocks.order_by("metric", "tier", "cycle"), to_attr="sla_clock_list")


def ticket_list(*, user) -> QuerySet:
    """Tickets this user may see, with what a list row shows fetched in one query (and one for SLA clocks)."""
    return access.visible(user, Ticket.objects.all()).select_related(*LIST_RELATED).prefetch_related(_sla_clocks())


def ticket_with_clocks(ticket: Ticket) -> Ticket:
    """Fetch the SLA clocks of a ticket about to be shown in one query, instead of three per clock."""
    prefetch_related_objects([ticket], _sla_clocks())
    return ticket


def ticket_for_user(user, key: str, *, for_update: bool = False) -> Ticket:
    """The ticket by its human key, or NotFound (also when it exists but is not visible: keys do not leak)."""
    qs = access.visible(user, Ticket.objects.select_related(*LIST_RELATED, "group__escalates_to"))
    try:
        return qs.get(key=key.upper())
    except Ticket.DoesNotExist:
        raise NotFound(f"No ticket {key} that you can see.") from None


def ticket_timeline(*, ticket: Ticket, user) -> QuerySet:
    """History and conversation, oldest first; requesters never see internal notes or internal events."""
    events = TicketEvent.objects.filter(ticket=ticket).select_related("actor", "comment", "comment__author")
    if not access.is_staff_member(user):
        events = events.filter(internal=False)
    return events.order_by("created_at", "id")


def ticket_links(*, ticket: Ticket, user) -> list[dict]:
    """Links in both directions, each with the other ticket, filtered to what the user may see."""
    visible_ids = access.visible(user, Ticket.objects.all()).values("pk")
    out = Link.objects.filter(source=ticket, target__in=visible_ids).select_related("target")
    inc = Link.objects.filter(target=ticket, source__in=visible_ids).select_related("source")
    rows = [{"link": link, "direction": "out", "other": link.target} for link in out]
    rows += [{"link": link, "direction": "in", "other": link.source} for link in inc]
    return rows


def ticket_with_watchers(ticket: Ticket) -> Ticket:
    return Ticket.objects.prefetch_related(Prefetch("watchers")).get(pk=ticket.pk)
