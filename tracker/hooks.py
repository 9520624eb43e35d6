"""The one extension point of the core: apps above `tracker` react to ticket changes in the same transaction.

Imports point one way (`sla` -> `tracker`), so the core cannot call the SLA engine by name. Instead
`sla.apps.SlaConfig.ready()` registers its reaction here, and every domain function of
`tracker.services` calls `ticket_changed()` inside its atomic block: a clock is started, paused or
re-planned in the very transaction that changed the ticket, or not at all.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class TicketChange:
    ticket: object
    actor: object | None
    now: datetime
    reason: str  # created | updated | transition | escalated | assigned | comment | claimed
    changes: dict[str, tuple] = field(default_factory=dict)  # field -> (old, new)


_observers: list[Callable[[TicketChange], None]] = []


def register(observer: Callable[[TicketChange], None]) -> None:
    if observer not in _observers:
        _observers.append(observer)


def ticket_changed(change: TicketChange) -> None:
    for observer in _observers:
        observer(change)
