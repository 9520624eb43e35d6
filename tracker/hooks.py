"""How apps above `tracker` take part in ticket changes, in the same transaction.

Imports point one way (`itsm`, `devflow` -> `sla` -> `tracker`), so the core cannot call the apps by name.
Instead each app registers here in its `AppConfig.ready()`:

- an *observer* (`register`) reacts to a change that is being written: every domain function of
  `tracker.services` calls `ticket_changed()` inside its atomic block, so a clock is started, paused or
  re-planned in the very transaction that changed the ticket, or not at all;
- a batch variant of an observer (`register(observer, batch=fn)`) reacts to many changes written together
  (`tickets_changed`, e.g. the SLA sweep escalating a batch of tickets): `fn(changes)` must leave the same
  rows as calling the observer once per change; an observer without one is called per change;
- a *guard* (`register_guard`) may refuse a change before it is written: `ticket_create`, `ticket_update`
  and `ticket_transition` call `ticket_changing()` inside their atomic block, before the write (for a
  create, right after the row exists); a guard raises a `tracker.errors.DomainError` with a message that
  says what to fix, and nothing of the change is kept. This is how an app's rule (the CAB's votes, a
  blackout window) holds for the UI and the API alike.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class TicketChange:
    ticket: object
    actor: object | None
    now: datetime
    reason: str  # created | updated | transition | escalated | assigned | comment | claimed | owner | swarm
    changes: dict[str, tuple] = field(default_factory=dict)  # field -> (old, new)
    # A step of a larger change that tells people once itself (a major incident resolving its children):
    # observers keep clocks in step but send no notification of their own for it.
    quiet: bool = False


_observers: list[Callable[[TicketChange], None]] = []
_batch_observers: dict[Callable[[TicketChange], None], Callable[[list[TicketChange]], None]] = {}
_guards: list[Callable[[TicketChange], None]] = []


def register(observer: Callable[[TicketChange], None],
             batch: Callable[[list[TicketChange]], None] | None = None) -> None:
    """`batch`: the observer's variant for many changes at once (`tickets_changed`), with the same effect."""
    if observer not in _observers:
        _observers.append(observer)
    if batch is not None:
        _batch_observers[observer] = batch


def ticket_changed(change: TicketChange) -> None:
    for observer in _observers:
        observer(change)


def tickets_changed(changes: list[TicketChange]) -> None:
    """Tell every observer of many changes written together: its batch variant once, else itself per change."""
    if not changes:
        return
    for observer in _observers:
        batch = _batch_observers.get(observer)
        if batch is not None:
            batch(changes)
        else:
            for change in changes:
                observer(change)


def register_guard(guard: Callable[[TicketChange], None]) -> None:
    if guard not in _guards:
        _guards.append(guard)


def ticket_changing(change: TicketChange) -> None:
    """Ask every guard about a change before it is written; the first refusal (a DomainError) stops it.

    `change.ticket` still holds the old values (for "created": the new row); `change.changes` maps each
    field to (old, new)."""
    for guard in _guards:
        guard(change)


# --- announcements: an app tells the others something happened and collects their answers ------------------
# A generic, synchronous call across the one-way imports: devflow announces "release.published" and the
# desk's knowledge base (itsm) answers with the URL of the article it wrote. Listeners run in the caller's
# transaction, in registration order; one that raises a DomainError stops the announcement (and the change).

_listeners: dict[str, list[Callable[..., object]]] = {}


def listen(topic: str, listener: Callable[..., object]) -> None:
    """Call `listener(**data)` whenever `topic` is announced (registered once, in an AppConfig.ready())."""
    fns = _listeners.setdefault(topic, [])
    if listener not in fns:
        fns.append(listener)


def announce(topic: str, **data) -> list:
    """Tell every listener of `topic`; returns their answers (None answers left out), in order."""
    answers = [fn(**data) for fn in _listeners.get(topic, [])]
    return [a for a in answers if a is not None]
