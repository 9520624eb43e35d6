"""The demo seed, checked on one seed per run: one login per role, the tier chain, 30 days of tickets lived through,
a quiet start, and every process app's believable data (knowledge, catalogue, services, fulfilment, changes, problems,
releases, VCS, webhooks)."""
import ast
from datetime import timedelta
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F
from django.utils import timezone

from devflow.models import CodeLink, Release, Repository, VcsDelivery
from itsm import selectors
from itsm import selectors as q
from itsm.choices import (
    ApprovalState,
    ArticleAudience,
    ArticleState,
    ArticleUseKind,
    AutomationState,
    CatalogAudience,
    GateItemCode,
    GateItemState,
    RoundStatus,
    TaskState,
    Vote,
)
from itsm.models import (
    Approval,
    ApprovalRound,
    ArticleUse,
    Cab,
    CatalogItem,
    CatalogRequest,
    ChangeRollback,
    ChangeTask,
    ChangeTemplate,
    GateItem,
    KnowledgeArticle,
    StandardChange,
)
from itsm.search import search
from itsm.services import catalogue as cat
from itsm.services import fulfilment
from itsm.services import knowledge as kb
from sla import services as sla_services
from sla.choices import ClockState, DeliveryState, InboundOutcome, Metric
from sla.demo import demo_mail
from sla.models import (
    Clock,
    ClockEffect,
    ClockRollup,
    InboundMail,
    Mailbox,
    Notification,
    OutboxMessage,
    Policy,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from tracker.choices import OPEN_STATUSES, EventKind, Kind, LinkType, Role, ServiceLifecycle, Status, Tier
from tracker.models import AssignmentGroup, Attachment, Comment, Link, Service, Ticket, TicketEvent, User

ROOT = Path(__file__).resolve().parent.parent


DEMO_HISTORY = 80


@pytest.fixture
def demo(seeded_demo, db):
    """The demo of 80 tickets, seeded once for this module (see `seeded_demo`); the value is when it started."""
    return seeded_demo


# One seed per database: CI's two runs play two different full-size histories.
FULL_SIZE_SEEDS = ["42"] if connection.vendor == "sqlite" else ["1"]


@pytest.mark.parametrize("seed", FULL_SIZE_SEEDS)
def test_the_full_size_demo_of_dev_py_run_plays_every_story_to_its_end(db, seed):
    """`dev.py run` seeds the full 30 days (more tickets than the fixture above): rarer paths of the stories (a
    change rolled back, ...) must also play through without a refusal."""
    errors = StringIO()
    call_command("seed_demo", "--seed", seed, stdout=StringIO(), stderr=errors)
    assert "skipped" not in errors.getvalue(), errors.getvalue()


def test_bulk_tickets_get_unique_keys_after_the_demo_ones(db):
    call_command("seed_demo", "--history", "10", stdout=StringIO(), stderr=StringIO())
    demo_tickets = Ticket.objects.count()
    call_command("seed_demo", "--tickets", "500", stdout=StringIO())
    assert Ticket.objects.count() == demo_tickets + 500
    keys = list(Ticket.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys))


def test_seed_demo_creates_a_login_per_role_and_tickets_of_every_kind_with_history(demo):
    for role in Role.values:
        user = Ticket.requester.field.related_model.objects.filter(role=role).first()
        assert user is not None, role
        assert authenticate(username=user.username, password="demo") == user
    assert set(AssignmentGroup.objects.values_list("tier", flat=True)) == set(Tier.values)
    assert set(Ticket.objects.values_list("kind", flat=True)) == set(Kind.values)
    assert TicketEvent.objects.filter(kind="escalation", actor__isnull=False).exists()  # by agents
    assert TicketEvent.objects.filter(kind="escalation", actor__isnull=True).exists()  # by the SLA worker
    assert TicketEvent.objects.filter(kind="comment").exists() and TicketEvent.objects.filter(kind="release").exists()
    assert Link.objects.filter(type="instance_of").exists() and Link.objects.filter(type="fixed_by").exists()
    desk = AssignmentGroup.objects.get(name="Service Desk")
    assert desk.macros.count() >= 3 and desk.macros.exclude(to_status="").exists()  # the desk's canned replies
    # saved views with their own columns, a personal one, pins in the top bar, the split view
    assert desk.queue_views.exclude(columns=[]).exists()
    lena = Ticket.requester.field.related_model.objects.get(username="lena")
    assert lena.queue_views.exists() and len(lena.queue_pins) == 3 and lena.queue_columns
    assert Ticket.requester.field.related_model.objects.get(username="liam").queue_split
    # Changes rolled out site by site; the change from hell failed in Singapore, was rolled back, caused
    # incidents and was closed after its review.
    assert set(ChangeTask.objects.values_list("country", flat=True)) >= {"DE", "SG", "US"}
    hell = ChangeRollback.objects.get(change__title__startswith="Payroll 4.8 go-live").change
    assert hell.status == "closed" and hell.implementation_result == "rolled_back" and hell.review_actions
    assert Link.objects.filter(target=hell, type="caused_by").count() == 2
    assert ChangeTask.objects.filter(state="failed").exists() and ChangeTask.objects.filter(state="planned").exists()
    assert hell.events.filter(kind="task", field="handoff").exists()
    count = Ticket.objects.count()

    call_command("seed_demo", stdout=StringIO())  # a second run changes nothing
    assert Ticket.objects.count() == count


def test_the_demo_lived_30_days_starts_quiet_and_breaches_only_what_falls_due_after_it(demo):
    """One seed for the time checks (a seed takes seconds): the past, the present, the next minutes."""
    ages = [demo - t.created_at for t in Ticket.objects.all()]
    assert max(ages) > timedelta(days=20)
    first_cycles = Clock.objects.filter(cycle=1).exclude(metric=Metric.PICK).select_related("ticket")
    assert first_cycles.count() > 100
    assert all(c.started_at == c.ticket.created_at for c in first_cycles)
    # Old tickets are mostly done, recent ones still open.
    old = Ticket.objects.filter(created_at__lt=demo - timedelta(days=10))
    assert old.filter(status__in=OPEN_STATUSES).count() < old.count() / 4
    # Targets were met and breached in the past, at the time they fell due, not at seed time.
    assert Clock.objects.filter(state=ClockState.MET, breached=False).count() > 50
    assert ClockEffect.objects.filter(level=100, created_at__lt=demo - timedelta(days=1)).exists()
    # The dashboard's daily roll-up covers the 30 days.
    assert ClockRollup.objects.values("day").distinct().count() >= 15

    # At first start the worker has breaches to apply within minutes; few past ones are still open.
    soon = Clock.objects.filter(state=ClockState.RUNNING, breached=False, due_at__gt=demo,
                                due_at__lt=demo + timedelta(minutes=10))
    assert soon.count() >= 2
    hours_left = Clock.objects.filter(state=ClockState.RUNNING, due_at__gt=demo + timedelta(hours=1))
    assert hours_left.count() > soon.count()  # most open clocks have hours or days left
    assert 1 <= Clock.objects.filter(state=ClockState.RUNNING, breached=True).count() <= 10

    # A quiet start: a handful of unread notifications each, no e-mail waiting; only what falls due next does.
    unread = dict(Notification.objects.filter(read_at__isnull=True).values_list("recipient__username")
                  .annotate(n=Count("id")))
    assert unread and max(unread.values()) <= 20
    assert 2 <= unread["alice"] <= 4
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()

    later = timezone.now() + timedelta(minutes=10)
    assert sla_services.clocks_sweep(now=later) >= 2  # what the worker does in its first minutes
    fresh = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert fresh.exists() and not fresh.filter(created_at__lt=later).exists()


DEMO_MODULES = {  # module -> apps it must not import (imports point itsm, devflow -> sla -> tracker)
    "tracker/demo.py": {"sla", "itsm", "devflow"},
    "tracker/management/commands/seed_demo.py": {"sla", "itsm", "devflow"},
    "sla/demo.py": {"itsm", "devflow"},
    "itsm/demo.py": {"devflow"},
    "devflow/demo.py": {"itsm"},
}


@pytest.mark.parametrize("path", sorted(DEMO_MODULES))
def test_the_seed_imports_only_along_the_allowed_arrows(path):
    imported = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & DEMO_MODULES[path]


def test_the_demo_plans_a_month_of_changes_around_its_blackouts(demo):
    from itsm.models import Blackout, BlackoutOverride
    from itsm.selectors import calendar

    carl = Ticket.requester.field.related_model.objects.get(username="carl")
    assert Blackout.objects.filter(service__isnull=True).count() >= 1  # a global change freeze
    assert Blackout.objects.filter(service__name="Payroll", repeat="monthly").exists()  # the payroll run
    (override,) = BlackoutOverride.objects.all()  # one blackout overridden, with its reason on the timeline
    assert override.actor == carl and override.ticket.events.filter(kind="schedule", field="override").exists()
    month = calendar(user=carl, start=demo, end=demo + timedelta(days=31))
    assert len(month.entries) >= 20 and len({e.ticket.service_id for e in month.entries}) == 5
    assert len(month.collisions) >= 2 and month.occurrences
    planned = [e for e in month.entries if e.ticket.created_at > demo - timedelta(days=13)]
    assert all(not e.blocked for e in planned)  # planned around the blackouts


def test_the_demo_shows_a_swarming_team_at_work(demo):
    """Web Dev swarms: experts and a whole group brought in, their help and time on the timeline, past leaves,
    and the newest alert still worked by its expert, in their Swarming view."""
    from tracker import selectors
    from tracker.models import Contributor, User, WorkLog

    assert AssignmentGroup.objects.get(name="Web Dev").swarming
    assert Contributor.objects.filter(user__isnull=False).exists() and Contributor.objects.filter(
        group__isnull=False).exists()
    assert Contributor.objects.filter(left_at__isnull=False).exists()
    assert TicketEvent.objects.filter(kind="swarm", field="helped").exists()
    assert WorkLog.objects.filter(group__name="Web Dev").exists() and WorkLog.objects.exclude(
        group__name="Web Dev").exists()
    liam = User.objects.get(username="liam")
    swarming = selectors.queue(user=liam, view=selectors.saved_view("swarming"))
    assert swarming.filter(group__name="Web Dev").exists()


def test_the_demo_holds_ownership_at_the_desk_and_supports_the_hr_portal_directly(demo):
    from django.db.models import F

    from tracker.choices import Ownership
    from tracker.models import Service

    assert AssignmentGroup.objects.get(name="Service Desk").ownership == Ownership.HOLD
    assert AssignmentGroup.objects.filter(tier=Tier.L2, ownership=Ownership.HAND_OVER).exists()
    portal = Service.objects.get(name="HR portal")
    assert portal.intake_group.name == "Payroll Dev" and portal.owners.filter(username="maria").exists()
    # escalated tickets the desk still owns while someone else works them
    held = Ticket.objects.filter(owner__username="lena", assignee__isnull=False).exclude(owner=F("assignee"))
    assert held.filter(events__kind="escalation").exists()
    assert Ticket.objects.filter(service=portal, kind__in=[Kind.INCIDENT, Kind.REQUEST],
                                 group__name="Payroll Dev").exists()
    assert not Ticket.objects.filter(service=portal, kind=Kind.INCIDENT, group__tier=Tier.L1).exists()
def test_the_demo_has_a_past_major_incident_resolved_with_its_children_and_one_open_now(demo):
    from itsm.models import MajorIncident

    past = MajorIncident.objects.get(ticket__title="Email down for all of Berlin")
    assert past.ended_at is not None and past.ticket.status in ("resolved", "closed")
    children = Ticket.objects.filter(links_in__source=past.ticket, links_in__type="parent_of")
    assert children.count() == 4 and not children.filter(status__in=OPEN_STATUSES).exists()
    assert all(c.resolution_note == past.ticket.resolution_note for c in children)
    now = MajorIncident.objects.get(ended_at__isnull=True)
    assert now.ticket.is_open and Link.objects.filter(source=now.ticket, type="parent_of").count() == 3
    assert Notification.objects.filter(kind="major", recipient__username__in=["iris", "maria"]).count() == 4


# --- the development side and integrations in the demo -------------------------------------------------------


def test_every_shipped_demo_release_was_reviewed_signed_and_published_first(demo):
    shipped = list(Release.objects.filter(shipped_at__isnull=False).select_related(
        "notes_edited_by", "notes_reviewed_by", "uat_signed_by"))
    assert shipped
    for release in shipped:
        assert release.notes_reviewed_by is not None and release.notes_reviewed_by != release.notes_edited_by
        assert release.uat_signed_by.username == "liam" and release.published_at <= release.shipped_at
        assert release.desk_article_url.startswith("/kb/")
    assert KnowledgeArticle.objects.filter(audience="internal", title__startswith="Release notes:").count() \
        == len(shipped)
    carried = [t for r in shipped for t in r.tickets.all() if t.kind == Kind.DEFECT]
    assert carried and all(t.status == Status.CLOSED for t in carried)


def test_the_p1_requester_heard_the_fix_shipped_and_payroll_waits_in_uat(demo):
    told = Notification.objects.filter(recipient__username="alice", kind="release")
    assert told.filter(body__contains="shipped in Payroll").exists()
    planned = Release.objects.get(service__name="Payroll", shipped_at__isnull=True)
    assert planned.notes_reviewed_at is not None and planned.uat_signed_at is None


def test_the_demo_has_a_github_and_a_gitlab_repository_with_code_on_its_defects(demo):
    repos = {r.name: r for r in Repository.objects.all()}
    assert {r.provider for r in repos.values()} == {"github", "gitlab"}
    assert all(r.secret and r.service and r.team for r in repos.values())
    links = CodeLink.objects.select_related("ticket")
    assert {link.ticket.kind for link in links} == {Kind.DEFECT}
    merged = links.filter(kind="pull_request", state="merged")
    assert merged.exists() and all(link.ticket.resolved_at for link in merged)
    waiting = links.get(kind="pull_request", state="open")  # the payroll fix in review
    assert waiting.ticket.status == Status.IN_REVIEW and waiting.fixes
    assert links.filter(kind="commit").count() > merged.count()
    assert VcsDelivery.objects.count() == TicketEvent.objects.filter(kind=EventKind.CODE).count()
    # a merged fix of a defect already fixed by hand adds no "not moved" note
    assert not TicketEvent.objects.filter(kind=EventKind.CODE, field="fix").exists()
    for link in merged:
        assert link.ticket.status in (Status.FIXED, Status.VERIFIED, Status.CLOSED)


def test_the_demo_has_two_webhooks_with_deliveries_a_retry_and_failures(demo, client):
    subs = {s.name: s for s in WebhookSubscription.objects.all()}
    assert set(subs) == {"Status page", "Ops chat bridge"} and not subs["Ops chat bridge"].active
    assert WebhookDelivery.objects.filter(subscription=subs["Status page"], state=DeliveryState.DELIVERED).count() > 3
    assert WebhookDelivery.objects.filter(subscription=subs["Ops chat bridge"], state=DeliveryState.FAILED).count() == 2
    assert WebhookDelivery.objects.filter(attempts=2, state=DeliveryState.DELIVERED).exists()
    for d in WebhookDelivery.objects.all():
        assert d.tries.count() == d.attempts
    assert WebhookAttempt.objects.filter(ok=True).count() == WebhookDelivery.objects.filter(state="delivered").count()
    assert not WebhookDelivery.objects.filter(state=DeliveryState.PENDING).exists()  # nothing for the worker to post
    from tracker.models import User

    client.force_login(User.objects.get(username="maria"))
    page = client.get(f"/settings/webhooks/{subs['Status page'].pk}/").content.decode()
    assert "ticket.created" in page and "delivered</span>" in page


# The process apps' demo, checked on the same single seed.

# --- knowledge -------------------------------------------------------------------------------------------

def test_the_demo_has_articles_in_every_state_and_both_audiences(demo):
    states = set(KnowledgeArticle.objects.values_list("state", flat=True))
    assert states == set(ArticleState.values)
    assert set(KnowledgeArticle.objects.values_list("audience", flat=True)) == set(ArticleAudience.values)
    assert KnowledgeArticle.objects.count() >= 20
    assert all(a.versions.exists() for a in KnowledgeArticle.objects.all())
    pending = KnowledgeArticle.objects.get(title="Payroll run: what the desk tells callers on the 25th")
    assert pending.state == ArticleState.REVIEW and kb.is_live(pending) and kb.pending_version(pending)


def test_the_demo_search_finds_the_vpn_article_for_a_requester(demo):
    alice = User.objects.get(username="alice")
    titles = [h.article.title for h in search(text="vpn keeps disconnecting", user=alice, limit=3)]
    assert "VPN disconnects every few minutes" in titles
    assert "VPN gateway failover runbook" not in [h.article.title for h in search(text="vpn gateway", user=alice)]


def test_the_demo_has_uses_a_drafted_article_and_deflection_rates(demo):
    assert ArticleUse.objects.filter(how=ArticleUseKind.DRAFTED).count() == 1
    assert ArticleUse.objects.filter(how__in=[ArticleUseKind.LINKED, ArticleUseKind.REPLIED]).exists()
    now = timezone.now()
    rates = q.deflection_rates(start=now - timezone.timedelta(days=30), end=now + timezone.timedelta(hours=1))
    assert rates.total > 10 and rates.by_article and any(r["rate"] != "—" for r in rates.by_service)


# --- catalogue -------------------------------------------------------------------------------------------

def test_the_demo_catalogue_offers_six_items_with_forms(demo):
    alice = User.objects.get(username="alice")
    names = set(CatalogItem.objects.values_list("name", flat=True))
    assert {"New laptop", "Access to a shared mailbox", "VPN access", "Software licence",
            "Admin rights on a build server"} <= names and len(names) >= 6
    offered = {i.name for i in cat.catalogue_items(user=alice)}
    assert "Admin rights on a build server" not in offered and "New laptop" in offered
    assert CatalogItem.objects.get(name="Admin rights on a build server").audience == CatalogAudience.STAFF
    vpn = CatalogItem.objects.get(name="VPN access")
    assert vpn.handler == "group_access" and vpn.handler_config == {"group": "VPN users"}
    seats = CatalogItem.objects.get(name="Software licence").fields.get(name="seats")
    assert (seats.min_value, seats.max_value) == (1, 50)
    assert list(CatalogItem.objects.get(name="New laptop").task_templates.values_list("title", flat=True)) == [
        "Procure the laptop", "Image and set up the laptop"]
    assert alice.manager.username == "maria"


def test_the_demo_has_requests_waiting_automated_with_the_desk_and_fulfilled(demo):
    requests = CatalogRequest.objects.select_related("ticket__requester", "item", "approver").order_by("pk")
    by_item = {(r.ticket.requester.username, r.item.name): r for r in requests}
    waiting = [r for r in requests if (r.ticket.requester.username, r.item.name) == ("alice", "New laptop")
               and r.approval == ApprovalState.PENDING]
    assert [r.approver.username for r in waiting] == ["maria"]
    assert by_item[("bob", "VPN access")].automation == AutomationState.SUCCEEDED  # the handler ran
    assert by_item[("bob", "Mailbox quota increase")].ticket.status == Status.NEW
    assert by_item[("alice", "Mailbox quota increase")].ticket.status == Status.RESOLVED


# --- service ---------------------------------------------------------------------------------------------

def test_the_demo_has_services_in_every_stage_of_their_life(demo, client_for):
    lifecycles = dict(Service.objects.values_list("name", "lifecycle"))
    assert lifecycles["Expense claims"] == ServiceLifecycle.IN_TRANSITION
    assert lifecycles["Travel booking"] == ServiceLifecycle.PLANNED
    assert lifecycles["Fax gateway"] == ServiceLifecycle.RETIRED
    assert not Service.objects.filter(service_manager__isnull=True).exclude(name__in=["Fax gateway"]).exists()

    signed = GateItem.objects.filter(gate__service__name="Expense claims", state=GateItemState.SIGNED_OFF)
    assert {(i.code, i.signed_by.username) for i in signed} == {(GateItemCode.UAT, "liam"),
                                                                 (GateItemCode.KNOWLEDGE, "lena")}
    ticket = Ticket.objects.get(service__name="Expense claims")
    lena = client_for(User.objects.get(username="lena"))
    page = lena.get(f"/tickets/{ticket.key}/").content.decode()
    assert "Not yet operational: escalate to the project team Payroll Dev" in page
    services = lena.get("/services/").content.decode()
    assert "gate: 2 of 8 signed off" in services
    expenses = Service.objects.get(name="Expense claims")
    detail = lena.get(f"/services/{expenses.pk}/").content.decode()
    assert "1 published internal article for the desk" in detail


# --- fulfilment ------------------------------------------------------------------------------------------

def test_the_demo_has_requests_in_every_state(demo):
    maria = User.objects.get(username="maria")
    waiting = list(fulfilment.pending_approvals(maria))
    assert [(r.item.name, r.ticket.requester.username) for r in waiting] == [("New laptop", "alice")]
    rejected = CatalogRequest.objects.get(approval=ApprovalState.REJECTED, item__name="New laptop")
    assert rejected.ticket.status == Status.CANCELLED
    assert rejected.ticket.resolution_note.startswith("Not approved by Maria")
    approved = CatalogRequest.objects.get(approval=ApprovalState.APPROVED, item__name="New laptop")
    assert [t.state for t in fulfilment.request_tasks(approved.ticket)] == [TaskState.DONE, TaskState.PLANNED]
    assert approved.ticket.status == Status.IN_PROGRESS
    automated = CatalogRequest.objects.get(item__name="VPN access", ticket__requester__username="bob")
    assert (automated.automation, automated.attempts) == (AutomationState.SUCCEEDED, 1)
    assert automated.ticket.status == Status.RESOLVED
    assert User.objects.get(username="bob").groups.filter(name="VPN users").exists()


# --- change ----------------------------------------------------------------------------------------------

def test_the_demo_has_the_boards_and_templates_carl_set_up(demo):
    assert set(Cab.objects.values_list("name", "emergency", "rule")) == {
        ("Change Advisory Board", False, "majority"), ("Payroll CAB", False, "all"), ("Emergency CAB", True, "any")}
    assert ChangeTemplate.objects.filter(retired_at__isnull=False).count() == 1
    assert ChangeTemplate.objects.filter(version__gte=2).exists()
    assert StandardChange.objects.exists()


def test_the_demo_leaves_changes_in_every_approval_state(demo):
    statuses = set(Ticket.objects.filter(kind="change").values_list("status", flat=True))
    assert {Status.NEW, Status.REVIEW, Status.APPROVED, Status.REJECTED, Status.IN_PROGRESS} <= statuses
    rounds = set(ApprovalRound.objects.values_list("status", flat=True))
    assert {RoundStatus.OPEN, RoundStatus.APPROVED, RoundStatus.REJECTED, RoundStatus.CHANGES_REQUESTED} <= rounds
    assert ApprovalRound.objects.filter(number=2).exists()  # revised and resubmitted
    carl_waits = Approval.objects.filter(approver__username="carl", decision=Vote.PENDING, round__status="open")
    assert carl_waits.count() >= 2  # his "My approvals" is not empty
    emergency = Ticket.objects.get(title="Hotfix payroll tax table import")
    assert emergency.status == Status.IN_PROGRESS and emergency.emergency_justification
    assert not Approval.objects.filter(round__ticket__requester=F("approver")).exists()  # never one's own change


# --- problem ---------------------------------------------------------------------------------------------

def test_the_demo_has_problems_known_errors_and_banners(demo):
    lena = User.objects.get(username="lena")
    known = selectors.known_error_list(user=lena)
    workarounds = {p.title: p.workaround for p in known}
    assert "TCP mode" in workarounds["VPN tunnel drops behind captive portals"]
    assert "OneDrive" in workarounds["Mail relay rejects attachments over 5 MB"]
    banners = [t for t in Ticket.objects.filter(kind=Kind.INCIDENT, service__name__in=["VPN", "Email"]).open()
               if any(not p.linked for p in selectors.known_errors_for(ticket=t, user=lena))]
    assert len(banners) >= 2  # a fresh incident on each of the two services still shows the banner
    applied = Ticket.objects.get(title="VPN keeps reconnecting in the hotel")
    assert applied.comments.filter(internal=False, body__contains="TCP mode").exists()

    investigating = Ticket.objects.get(kind=Kind.PROBLEM, title="Checkout times out at peak hours")
    assert investigating.requester.username == "pia" and not investigating.root_cause
    assert Link.objects.filter(target=investigating, type=LinkType.INSTANCE_OF).count() == 3

    resolved = Ticket.objects.get(kind=Kind.PROBLEM, title="HR portal slow every morning at nine")
    statuses = sorted(Ticket.objects.filter(links_out__target=resolved).values_list("status", flat=True))
    assert resolved.status == Status.RESOLVED and statuses == [Status.NEW, Status.RESOLVED, Status.RESOLVED]


# --- mail and attachments --------------------------------------------------------------------------

def test_the_demo_shows_mail_filed_held_quarantined_and_ignored(demo):
    boxes = dict(Mailbox.objects.values_list("address", "kind"))
    assert boxes == {"servicedesk@crossline.example": Kind.INCIDENT, "requests@crossline.example": Kind.REQUEST}
    assert not Mailbox.objects.exclude(imap_host="").exists()
    outcomes = sorted(InboundMail.objects.values_list("outcome", flat=True))
    assert outcomes == sorted([InboundOutcome.CREATED] * 3 + [InboundOutcome.REPLIED, InboundOutcome.HELD,
                                                              InboundOutcome.QUARANTINED, InboundOutcome.IGNORED])
    nora = User.objects.get(email="nora.field@northwind-logistics.example")
    assert nora.first_name == "Nora" and not nora.has_usable_password()
    request = InboundMail.objects.get(mailbox__address="requests@crossline.example").ticket
    assert request.kind == Kind.REQUEST
    reply = InboundMail.objects.get(outcome=InboundOutcome.REPLIED)
    assert Comment.objects.get(pk=reply.comment_id).body.startswith("Update: it works with the HDMI cable")
    held = InboundMail.objects.get(outcome=InboundOutcome.HELD)
    assert held.ticket == reply.ticket and bytes(held.raw)
    assert TicketEvent.objects.filter(ticket=held.ticket, kind=EventKind.MAIL, internal=True).exists()


def test_the_demo_mail_is_filed_once_when_played_again(demo):
    before = InboundMail.objects.count()
    ctx = SimpleNamespace(now=demo, users={u.username: u for u in User.objects.filter(username__in=["alice", "bob"])},
                          l1=AssignmentGroup.objects.filter(tier=Tier.L1).first())
    demo_mail(ctx)
    assert InboundMail.objects.count() == before and Mailbox.objects.count() == 2


def test_the_demo_has_files_on_tickets_one_internal_and_urgent_policies_that_tell_the_requester(demo):
    files = Attachment.objects.select_related("ticket", "comment")
    assert files.count() >= 3 and files.filter(internal=True).exists()
    assert files.filter(content_type="image/png", comment__isnull=False, internal=False).exists()
    assert all(f.file.storage.exists(f.file.name) and f.size == f.file.size for f in files)
    assert set(Policy.objects.filter(tell_requester=True).values_list("name", flat=True)) == {
        "P1 standard", "P2 standard"}
