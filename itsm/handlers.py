"""Fulfilment handlers: what the workers run for a catalogue item marked automatable (`CatalogItem.handler`).

A handler is registered by slug with `register(slug, label, fn)`. `fn(request)` receives the `CatalogRequest`
(with its item and ticket) and returns what it did, as one line the requester can read; it raises `Retry`
(a passing failure: a directory that does not answer) or any other exception to fail the attempt, and the
workers try again with a growing wait. A handler runs inside the transaction that records its outcome
(`itsm.services.fulfilment.automation_run`), so its database effect and the "succeeded" row commit together;
it must also be idempotent: a request already served is served again without a second effect.

Shipped: `group_access`, which adds the requester to the Django auth group named in the item's
`handler_config["group"]`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import Group


class Retry(Exception):  # noqa: N818 - reads as what the handler asks for: `raise handlers.Retry("...")`
    """A passing failure: the attempt failed, and the workers try again later."""


@dataclass(frozen=True)
class Handler:
    slug: str
    label: str
    fn: Callable[..., str]


_registry: dict[str, Handler] = {}


def register(slug: str, label: str, fn: Callable[..., str]) -> Handler:
    """Make `fn` the handler of items whose `handler` is `slug` (registering a slug again replaces it)."""
    handler = Handler(slug, label, fn)
    _registry[slug] = handler
    return handler


def unregister(slug: str) -> None:
    _registry.pop(slug, None)


def get(slug: str) -> Handler | None:
    return _registry.get(slug)


def choices() -> list[tuple[str, str]]:
    """(slug, label) of every registered handler, for an item editor's select."""
    return [(h.slug, h.label) for h in sorted(_registry.values(), key=lambda h: h.label)]


def group_access(request) -> str:
    """Add the request's requester to the Django auth group named in `handler_config["group"]`.

    A group that does not exist yet is created without permissions (an administrator grants what membership
    allows); the name is the contract between the catalogue item and whatever checks the group. Idempotent: a
    requester already in the group is left as they are, and the result says so."""
    name = str((request.item.handler_config or {}).get("group", "")).strip()
    if not name:
        raise ValueError(f"The item “{request.item.name}” names no group: set its handler settings to "
                         '{"group": "<group name>"}.')
    group, created = Group.objects.get_or_create(name=name[:150])
    user = request.ticket.requester
    if user.groups.filter(pk=group.pk).exists():
        return f"{user.display_name} was already a member of the group “{group.name}”; nothing to change."
    user.groups.add(group)
    made = " (the group was created, without permissions)" if created else ""
    return f"Added {user.display_name} to the group “{group.name}”{made}."


register("group_access", "Access to a group: adds the requester to a named group", group_access)
