"""Code that mentions tickets: the webhook deliveries of GitHub and GitLab repositories (pushes, pull and merge
requests) become code links and timeline rows on the tickets they name, and a merged pull request that says it
fixes a defect moves that defect to fixed. Also the repositories themselves, which admins manage."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tracker import access, services
from tracker.choices import KEY_PREFIX, RESOLVED_STATUSES, EventKind, Kind, Status
from tracker.errors import AccessDenied, DomainError, ValidationFailed
from tracker.models import AssignmentGroup, Service, Ticket

from ..models import CodeLink, Repository, VcsDelivery

_PREFIXES = "|".join(sorted(KEY_PREFIX.values()))
# A ticket key, word-bounded, any case: "DEF-12", "fix inc-40." (not "XDEF-12" nor "DEF-12a").
KEY_RE = re.compile(rf"(?<![A-Za-z0-9])({_PREFIXES})-(\d+)(?![A-Za-z0-9])", re.IGNORECASE)
# "fixes DEF-12", "Closes: DEF-12", "resolved DEF-12": the author says the change fixes that ticket.
FIXES_RE = re.compile(
    rf"(?<![A-Za-z])(?:fix(?:es|ed)?|close[sd]?|resolve[sd]?)\s*:?\s+({_PREFIXES})-(\d+)(?![A-Za-z0-9])",
    re.IGNORECASE)
# The defect states a merged fix moves on from; elsewhere the link is kept and the timeline says why not.
FIXABLE_FROM = (Status.IN_PROGRESS, Status.IN_REVIEW)

GITHUB_EVENTS = {"push": "push", "pull_request": "pull_request"}
GITLAB_EVENTS = {"Push Hook": "push", "Merge Request Hook": "pull_request"}


# --- authenticating a delivery ---------------------------------------------------------------------------

def repository_named(ref: str) -> Repository | None:
    """The repository by its id or its owner/name (any case)."""
    if ref.isdigit():
        return Repository.objects.filter(pk=int(ref)).first()
    return Repository.objects.filter(name__iexact=ref).first()


def signature_ok(repository: Repository, headers, body: bytes) -> bool:
    """The delivery is the provider's: GitHub's HMAC-SHA256 of the raw body, or GitLab's token, equal to the
    repository's secret; compared in constant time."""
    secret = repository.secret.encode()
    if repository.provider == Repository.Provider.GITLAB:
        token = headers.get("X-Gitlab-Token", "")
        return bool(token) and hmac.compare_digest(token.encode(), secret)
    sent = headers.get("X-Hub-Signature-256", "")
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())


def event_and_delivery(repository: Repository, headers) -> tuple[str, str]:
    """The event's name and the delivery's id, from the provider's headers."""
    if repository.provider == Repository.Provider.GITLAB:
        return (headers.get("X-Gitlab-Event", ""),
                headers.get("X-Gitlab-Event-UUID", "") or headers.get("Idempotency-Key", ""))
    return headers.get("X-GitHub-Event", ""), headers.get("X-GitHub-Delivery", "")


@dataclass
class Mention:
    """One commit or pull request as the providers describe it, reduced to what a code link keeps."""

    kind: str  # CodeLink.Kind
    ref: str  # the commit's sha, or the pull request's number
    title: str
    text: str  # where ticket keys are looked for
    url: str
    author: str
    state: str  # CodeLink.State


def keys_in(text: str) -> list[str]:
    """The ticket keys a text names, upper-cased, in order of first mention."""
    seen: dict[str, None] = {}
    for prefix, number in KEY_RE.findall(text or ""):
        seen.setdefault(f"{prefix.upper()}-{int(number)}", None)
    return list(seen)


def fixed_keys_in(text: str) -> set[str]:
    return {f"{prefix.upper()}-{int(number)}" for prefix, number in FIXES_RE.findall(text or "")}


# --- parsing the providers' payloads ------------------------------------------------------------------------

def _need(data: Any, name: str, types, where: str):
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, types) or isinstance(value, bool):
        raise ValidationFailed(f"The payload's {where}{name} is missing or not a {_type_name(types)}.",
                               fields={f"{where}{name}": ["Missing or of the wrong type."]})
    return value


def _type_name(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    names = {str: "string", int: "number", list: "list", dict: "object"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def _person(value: Any) -> str:
    if isinstance(value, dict):
        return _text(value, "username") or _text(value, "login") or _text(value, "name") or _text(value, "email")
    return value if isinstance(value, str) else ""


def _commits(payload: dict) -> list[Mention]:
    commits = _need(payload, "commits", list, "")
    rows = []
    for i, commit in enumerate(commits):
        where = f"commits[{i}]."
        if not isinstance(commit, dict):
            raise ValidationFailed(f"The payload's commits[{i}] is not an object.",
                                   fields={f"commits[{i}]": ["Not an object."]})
        sha = _need(commit, "id", str, where)
        message = _need(commit, "message", str, where)
        rows.append(Mention(kind=CodeLink.Kind.COMMIT, ref=sha[:80], title=message.strip().splitlines()[0][:500]
                            if message.strip() else "", text=message, url=_text(commit, "url")[:500],
                            author=_person(commit.get("author"))[:200], state=CodeLink.State.PUSHED))
    return rows


def _github_pull(payload: dict) -> list[Mention]:
    pull = _need(payload, "pull_request", dict, "")
    number = _need(pull, "number", int, "pull_request.")
    title = _need(pull, "title", str, "pull_request.")
    body = _text(pull, "body")
    if pull.get("merged") is True or pull.get("merged_at"):
        state = CodeLink.State.MERGED
    elif pull.get("state") == "closed":
        state = CodeLink.State.CLOSED
    else:
        state = CodeLink.State.OPEN
    return [Mention(kind=CodeLink.Kind.PULL_REQUEST, ref=str(number), title=title[:500], text=f"{title}\n{body}",
                    url=_text(pull, "html_url")[:500], author=_person(pull.get("user"))[:200], state=state)]


def _gitlab_merge_request(payload: dict) -> list[Mention]:
    attrs = _need(payload, "object_attributes", dict, "")
    number = _need(attrs, "iid", int, "object_attributes.")
    title = _need(attrs, "title", str, "object_attributes.")
    state = {"merged": CodeLink.State.MERGED, "closed": CodeLink.State.CLOSED,
             "locked": CodeLink.State.CLOSED}.get(_text(attrs, "state"), CodeLink.State.OPEN)
    if _text(attrs, "action") == "merge":
        state = CodeLink.State.MERGED
    return [Mention(kind=CodeLink.Kind.PULL_REQUEST, ref=str(number), title=title[:500],
                    text=f"{title}\n{_text(attrs, 'description')}", url=_text(attrs, "url")[:500],
                    author=_person(payload.get("user"))[:200], state=state)]


def payload_mentions(*, provider: str, event: str, payload: Any) -> list[Mention]:
    """The commits or pull requests a delivery describes; ValidationFailed names what is missing."""
    if not isinstance(payload, dict):
        raise ValidationFailed("The payload must be a JSON object.")
    if event == "push":
        return _commits(payload)
    if provider == Repository.Provider.GITLAB:
        return _gitlab_merge_request(payload)
    return _github_pull(payload)


def normalised_event(*, provider: str, event: str) -> str | None:
    """'push' or 'pull_request' for the events that can mention tickets; None for any other (ping, issues)."""
    return (GITLAB_EVENTS if provider == Repository.Provider.GITLAB else GITHUB_EVENTS).get(event)


# --- receiving a delivery -------------------------------------------------------------------------------------

def _summary_line(mention: Mention) -> str:
    if mention.kind == CodeLink.Kind.COMMIT:
        by = f" by {mention.author}" if mention.author else ""
        return f"Commit {mention.ref[:7]}{by}: {mention.title}"
    return f"Pull request #{mention.ref} {CodeLink.State(mention.state).label.lower()}: {mention.title}"


def _link(*, repository: Repository, ticket: Ticket, mention: Mention, fixes: bool, now: datetime) -> bool:
    """Create or update the code link; True when it is new or its state changed (worth a timeline row)."""
    link = CodeLink.objects.filter(ticket=ticket, repository=repository, kind=mention.kind, ref=mention.ref).first()
    values = {"title": mention.title, "url": mention.url, "author": mention.author, "state": mention.state,
              "fixes": fixes, "updated_at": now}
    if link is None:
        CodeLink.objects.create(ticket=ticket, repository=repository, kind=mention.kind, ref=mention.ref,
                                created_at=now, **values)
        return True
    changed = link.state != mention.state
    for name, value in values.items():
        setattr(link, name, value)
    link.save(update_fields=list(values))
    return changed


def _fix(*, ticket: Ticket, mention: Mention, now: datetime) -> str:
    """Move a defect a merged pull request fixes to fixed, by rule; a note on the timeline when it cannot."""
    if ticket.kind != Kind.DEFECT or ticket.status in RESOLVED_STATUSES:
        return ""  # already fixed (by hand, or by another pull request): nothing to move, nothing to say
    if ticket.status not in FIXABLE_FROM:
        services.event_record(
            ticket=ticket, actor=None, kind=EventKind.CODE, now=now, field="fix",
            note=f"Pull request #{mention.ref} says it fixes {ticket.key}, which is "
                 f"{Status(ticket.status).label.lower()}: not moved to fixed.")
        return ""
    try:
        with transaction.atomic():  # a refusal (an app's guard) keeps the delivery and its links
            services.ticket_transition(
                ticket=ticket, to=Status.FIXED, actor=None, now=now, by_rule=True,
                values={"resolution_note": f"Fixed by pull request #{mention.ref} ({mention.title})"},
                note=f"pull request #{mention.ref} merged")
    except DomainError as exc:
        ticket.refresh_from_db()
        services.event_record(ticket=ticket, actor=None, kind=EventKind.CODE, now=now, field="fix",
                              note=f"Pull request #{mention.ref} says it fixes {ticket.key}: not moved to "
                                   f"fixed ({exc.message})")
        return ""
    return ticket.key


def vcs_delivery_receive(*, repository: Repository, delivery_id: str, event: str, payload: Any,
                         now: datetime | None = None) -> dict:
    """Apply one webhook delivery exactly once: its code links, timeline rows and fixes are written in the same
    transaction as the delivery's row, so a replay of the same id (even a concurrent one) has no second effect.

    Returns {"status": "processed" | "ignored" | "already processed", "tickets": [...], "fixed": [...]}.
    Raises ValidationFailed when the payload lacks what its event needs (nothing is stored then).
    """
    now = now or timezone.now()
    kind = normalised_event(provider=repository.provider, event=event)
    if kind is None:
        return {"status": "ignored", "detail": f"The {event or 'unnamed'} event is not used.", "tickets": [],
                "fixed": []}
    if not delivery_id or len(delivery_id) > 200:
        raise ValidationFailed("The delivery id is missing or longer than 200 characters.",
                               fields={"delivery_id": ["Missing or too long."]})
    mentions = payload_mentions(provider=repository.provider, event=kind, payload=payload)
    if VcsDelivery.objects.filter(repository=repository, delivery_id=delivery_id).exists():
        return {"status": "already processed", "tickets": [], "fixed": []}
    wanted = {key for m in mentions for key in keys_in(m.text)}
    touched: list[str] = []
    fixed: list[str] = []
    try:
        with transaction.atomic():
            delivery = VcsDelivery.objects.create(repository=repository, delivery_id=delivery_id, event=kind,
                                                  received_at=now)
            tickets = {t.key: t for t in Ticket.objects.select_for_update().filter(key__in=wanted)} if wanted else {}
            for mention in mentions:
                fixes = fixed_keys_in(mention.text)
                for key in keys_in(mention.text):
                    ticket = tickets.get(key)
                    if ticket is None:
                        continue  # a key of no ticket here (another tracker's, or a typo)
                    if _link(repository=repository, ticket=ticket, mention=mention, fixes=key in fixes, now=now):
                        services.event_record(ticket=ticket, actor=None, kind=EventKind.CODE, now=now,
                                              field=mention.kind, new=mention.ref, note=_summary_line(mention))
                    if key not in touched:
                        touched.append(key)
                    if key in fixes and mention.state == CodeLink.State.MERGED:
                        done = _fix(ticket=ticket, mention=mention, now=now)
                        if done:
                            fixed.append(done)
            delivery.summary = (f"{len(mentions)} {'commit' if kind == 'push' else 'pull request'}(s); "
                                f"tickets: {', '.join(touched) or 'none'}")
            delivery.save(update_fields=["summary"])
    except IntegrityError:
        # The same delivery arrived twice at once: the other one holds the row and did the work.
        if VcsDelivery.objects.filter(repository=repository, delivery_id=delivery_id).exists():
            return {"status": "already processed", "tickets": [], "fixed": []}
        raise
    return {"status": "processed", "tickets": touched, "fixed": fixed}


def ticket_code_links(*, ticket: Ticket) -> list[CodeLink]:
    """The commits and pull requests that mention a ticket, oldest first (a read: the Code panel and the API)."""
    return list(CodeLink.objects.filter(ticket=ticket).select_related("repository").order_by("created_at", "id"))


# --- repositories (admins) ------------------------------------------------------------------------------------

_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")


def may_manage_repositories(actor) -> bool:
    return access.may(actor, "configure")


def _require_admin(actor) -> None:
    if not may_manage_repositories(actor):
        raise AccessDenied("Only administrators manage repositories.")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _clean(*, name: str, provider: str, url: str, exclude: int | None = None) -> dict[str, str]:
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not _NAME_RE.match(name) or len(name) > 200:
        errors["name"] = ["Write it as owner/name (letters, digits, '.', '-', '_'), as the provider spells it."]
    elif Repository.objects.filter(name__iexact=name).exclude(pk=exclude).exists():
        errors["name"] = [f"A repository named {name} is already registered."]
    if provider not in Repository.Provider.values:
        errors["provider"] = [f"Use one of: {', '.join(Repository.Provider.values)}."]
    url = (url or "").strip()
    if url and not re.match(r"^https?://\S+$", url):
        errors["url"] = ["Give the repository's web address (https://...)."]
    if errors:
        raise ValidationFailed(" ".join(msgs[0] for msgs in errors.values()), fields=errors)
    return {"name": name, "provider": provider, "url": url}


def repository_create(*, actor, name: str, provider: str, url: str = "", service: Service | None = None,
                      team: AssignmentGroup | None = None, active: bool = True) -> Repository:
    """Register a repository with a new webhook secret (readable on the returned object, shown once)."""
    _require_admin(actor)
    values = _clean(name=name, provider=provider, url=url)
    try:
        with transaction.atomic():
            return Repository.objects.create(**values, service=service, team=team, active=active,
                                             secret=new_secret())
    except IntegrityError:
        raise ValidationFailed(f"A repository named {values['name']} is already registered.",
                               fields={"name": ["Already registered."]}) from None


def repository_update(*, repository: Repository, actor, name: str, provider: str, url: str = "",
                      service: Service | None = None, team: AssignmentGroup | None = None,
                      active: bool = True) -> Repository:
    """Change a repository's name, provider, address, service, team or whether it is listened to."""
    _require_admin(actor)
    values = _clean(name=name, provider=provider, url=url, exclude=repository.pk)
    for field, value in {**values, "service": service, "team": team, "active": active}.items():
        setattr(repository, field, value)
    try:
        with transaction.atomic():
            repository.save()
    except IntegrityError:
        raise ValidationFailed(f"A repository named {values['name']} is already registered.",
                               fields={"name": ["Already registered."]}) from None
    return repository


def repository_regenerate_secret(*, repository: Repository, actor) -> str:
    """A new webhook secret; the old one stops working at once. Returns it (to be shown once)."""
    _require_admin(actor)
    repository.secret = new_secret()
    repository.save(update_fields=["secret"])
    return repository.secret
