"""What service management adds to the core's pages, through `tracker.extensions`: the portal and knowledge
base in the top bar, the requester's landing page and ticket page, the side panel of recent changes on the
ticket's service, and change enablement: the Approvals panel and the vote of a change's page, the approval
rows of its timeline, the "My approvals" queue view and its count in the top bar (on every landing page),
change setup in the top bar and the standard change on the new-ticket form; a change's Tasks panel (tasks
per site, rollback, what its close needs), the timeline rows of its tasks, "My change tasks", and the change
success and failure rates on the manager dashboard; the change calendar: its top-bar link, a change's Schedule
panel and the timeline's schedule rows (overrides, collisions); major incidents: the panel, the declare and
resolve actions, the badge, the "Major incidents" view, the bulk "Link to major incident…"; and the process
managers' landing pages (Home and top-bar links)."""

from datetime import datetime

from django.urls import reverse
from django.utils.html import format_html

from tracker import access
from tracker import extensions as ext
from tracker import selectors as core_selectors
from tracker.choices import EventKind, Kind, Role, ServiceLifecycle, Status
from tracker.errors import ValidationFailed
from tracker.form_html import FAST
from tracker.templatetags.crossline import when
from tracker.templatetags.icons import icon

from . import health, search, selectors
from . import services as itsm
from .choices import RollbackOutcome, RoundStatus, TaskState, Vote
from .forms import COMMON_ZONES, RollbackForm, ScheduleForm, TaskForm, VoteForm
from .services import cab_for_change, rule_text
from .templatetags.itsm_ui import span

TONE = {Vote.APPROVED: "ok", Vote.REJECTED: "bad", Vote.CHANGES_REQUESTED: "warn",
        RoundStatus.SUPERSEDED: "status", RoundStatus.WITHDRAWN: "status", Vote.PENDING: "status"}


def recent_changes_panel(*, request, ticket, now):
    return {"changes": neighbours(request, ticket, now)["changes"]}


def neighbours(request, ticket, now) -> dict:
    """The changes on the ticket's service, the known errors it may be an instance of and a problem's incidents,
    read once per page in one query (Recent changes, the known-error banner, Analysis and Resolve share it)."""
    cached = getattr(ticket, "_itsm_neighbours", None)
    if cached is None:
        cached = ticket._itsm_neighbours = selectors.ticket_neighbours(ticket=ticket, user=request.user, now=now)
    return cached


def schedule_panel(*, request, ticket, now):
    """A change's window, its collisions and the blackouts it falls into, and the form to (re)schedule it."""
    if ticket.kind != Kind.CHANGE:
        return None
    return {
        "schedule": selectors.change_schedule(ticket=ticket, user=request.user),
        "form": ScheduleForm(initial={"window_start": ticket.window_start, "window_end": ticket.window_end},
                             renderer=FAST),
        "can_edit": access.may(request.user, "edit", ticket),
        "can_override": itsm.may_manage_changes(request.user),
    }


def schedule_row(event) -> str:
    """A schedule event on the timeline: a blackout overridden (with the reason), or a collision."""
    if event.field == "override":
        when = ""
        if "/" in event.old:
            start, end = (datetime.fromisoformat(part) for part in event.old.split("/", 1))
            when = f" ({span(start, end)})"
        return format_html("{} <strong>Blackout overridden</strong> · “{}”{}: {}", icon("shield-check"), event.new,
                           when, event.note)
    if event.field == "collision":
        return format_html('{} <strong>Collision</strong> · the window overlaps <a class="key" href="{}">{}</a> {} '
                           "on the same service", icon("triangle-alert"),
                           reverse("tracker:ticket", args=[event.new]), event.new, event.note)
    return format_html("<strong>Schedule</strong> · {}", event.note or event.new)


def article_hits(*, user, text, limit):
    """Live knowledge articles this person may read for the global search box, ranked (itsm.search)."""
    hits = search.search(text=text, user=user, limit=limit)
    top = hits[0].score if hits else 1
    return [ext.SearchHit(kind="Article", title=h.article.title, url=reverse("itsm:kb-article", args=[h.article.pk]),
                          detail=", ".join(s.name for s in h.article.services.all()) or "Knowledge base",
                          score=35 + round(20 * h.score / top) if top else 35, icon="book-open")
            for h in hits]


# --- change enablement --------------------------------------------------------------------------------


def _rounds(ticket) -> list:
    """The change's rounds, read once per page (the panel and the vote action share them)."""
    cached = getattr(ticket, "_approval_rounds", None)
    if cached is None:
        cached = ticket._approval_rounds = selectors.change_rounds(ticket)
    return cached


def vote_state(ticket, user) -> dict:
    """The open round this user is asked to vote in, with its rule as people say it (empty: nothing to vote)."""
    rounds = _rounds(ticket)
    current = rounds[0] if rounds and rounds[0].status == RoundStatus.OPEN else None
    if current is None:
        return {}
    mine = next((a for a in current.approvals.all() if a.approver_id == user.pk), None)
    if mine is None or mine.decision != Vote.PENDING:
        return {}
    approvals = list(current.approvals.all())
    return {"round": current, "rule": rule_text(current.rule, current.required, len(approvals))}


def approvals_panel(*, request, ticket, now):
    if ticket.kind != Kind.CHANGE:
        return None
    rows = []
    for approval_round in _rounds(ticket):
        approvals = list(approval_round.approvals.all())
        rows.append({"round": approval_round, "approvals": approvals,
                     "approved": sum(a.decision == Vote.APPROVED for a in approvals),
                     "rule": rule_text(approval_round.rule, approval_round.required, len(approvals)),
                     "tone": TONE.get(approval_round.status, "status")})
    ctx = {"rounds": rows, "origin": None, "next_cab": None}
    if not rows:
        if ticket.change_type == "standard":
            origin = getattr(ticket, "standard_origin", None)  # None: no row (a reverse one-to-one)
            ctx["origin"] = origin.template_version if origin is not None else None
        elif ticket.status == Status.NEW:
            ctx["next_cab"] = cab_for_change(ticket)
    return ctx


def vote_action(*, request, ticket, now):
    if ticket.kind != Kind.CHANGE:
        return None
    state = vote_state(ticket, request.user)
    return {"vote": {**state, "form": VoteForm(renderer=FAST)}} if state else None


_HEADINGS = {"round": "Approval round", "vote": "Vote", "outcome": "CAB decision", "template": "Standard change",
             "emergency": "Emergency start"}


def approval_row(event) -> str:
    heading = _HEADINGS.get(event.field, "Approval")
    if event.field in ("vote", "outcome") and event.new in TONE:
        label = Vote(event.new).label if event.field == "vote" else RoundStatus(event.new).label
        return format_html('<strong>{}</strong> <span class="badge {}">{}</span> · {}', heading, TONE[event.new],
                           label, event.note)
    return format_html("<strong>{}</strong> · {}", heading, event.note)


def tasks_panel(*, request, ticket, now):
    """A change's tasks with what this viewer may do on each, its rollbacks, and the forms to add a task and
    to record a rollback (for those who may); None on other kinds."""
    if ticket.kind != Kind.CHANGE:
        return None
    user = request.user
    group_ids = {group.pk for group in core_selectors.groups_of(user)}
    coordinator = itsm.may_coordinate(user, ticket, group_ids=group_ids)
    tasks = selectors.change_tasks(change=ticket)
    for task in tasks:
        task.change = ticket  # the page's copy: no query per row
        task.can_report = itsm.owns_task(user, task, group_ids=group_ids)
        task.can_coordinate = coordinator
    failed = [t for t in tasks if t.state == TaskState.FAILED]
    rollbacks = selectors.change_rollbacks(change=ticket)
    live = ticket.status in (Status.IN_PROGRESS, Status.RESOLVED)
    counts = {s: sum(1 for t in tasks if t.state == s) for s in TaskState.values}
    summary = ", ".join(f"{n} {TaskState(s).label.lower()}" for s, n in counts.items() if n)
    rolled_back = any(r.outcome != RollbackOutcome.FAILED for r in rollbacks)
    return {
        "tasks": tasks, "failed": failed, "rollbacks": rollbacks, "summary": summary, "zones": COMMON_ZONES,
        "offer_rollback": live and ticket.implementation_result == "failed" and not rolled_back,
        "add_form": TaskForm(renderer=FAST) if coordinator and ticket.status in itsm.PLANNABLE else None,
        "rollback_form": RollbackForm(initial={"run_by": user, "ran_at": now}, renderer=FAST) if live else None,
        "review_reason": itsm.review_reason(ticket, ticket.implementation_result)
        if ticket.status == Status.RESOLVED else "",
        **(selectors.handoff_choices() if tasks else {}),
    }


TASK_VERBS = {"added": "added", "edited": "re-planned", "handoff": "handed off", TaskState.IN_PROGRESS: "started",
              TaskState.DONE: "done", TaskState.FAILED: "failed", TaskState.CANCELLED: "cancelled"}


def task_row(event) -> str:
    """A task's step on its change's timeline: "Task T2 Singapore (SG) · … failed — what went wrong"."""
    if event.field == "rollback":
        ran_at, _, note = (event.note or "").partition("\n")
        try:
            outcome = RollbackOutcome(event.new).label
        except ValueError:
            outcome = event.new
        try:
            finished = when(datetime.fromisoformat(ran_at))
        except ValueError:
            finished = ran_at
        return format_html("<strong>Rollback</strong>: backout plan run by <strong>{}</strong>, finished {} — "
                           "<strong>{}</strong>{}", event.old, finished, outcome, f". {note}" if note else "")
    head, _, note = (event.note or "").partition("\n")
    verb = TASK_VERBS.get(event.field, event.field)
    if event.field == "handoff":
        detail = format_html(" from <strong>{}</strong> to <strong>{}</strong>", event.old, event.new)
    elif event.field == "added":
        detail = format_html(" for <strong>{}</strong>", event.new)
    else:
        detail = ""
    tone = "bad" if event.field == TaskState.FAILED else "ok" if event.field == TaskState.DONE else "status"
    return format_html('<span class="badge {}">Task {}</span> {}{}{}', tone, verb, head, detail,
                       format_html(" — {}", note) if note else "")


def rates_section(*, request, period, now):
    rates = selectors.change_rates(user=request.user, start=period.start, end=period.end)
    tables = [("By service", rates.by_service, "Service"), ("By team", rates.by_team, "Team"),
              ("By month", rates.by_month, "Month")]
    return {"rates": rates, "tables": tables, "period_query": _period_query(request)}


def _period_query(request) -> str:
    keep = {k: v for k, v in request.GET.items() if k in ("days", "start", "end") and v}
    return "&".join(f"{k}={v}" for k, v in keep.items())


def register() -> None:
    ext.register(
        ext.Panel("recent-changes", "itsm/panel_changes.html", recent_changes_panel, order=40),
        ext.Panel("schedule", "itsm/panel_schedule.html", schedule_panel, order=15),
        ext.TimelineRenderer("schedule", schedule_row),
        ext.NavLink("portal", "My tickets", "itsm:portal", audience="requester", order=10, icon="inbox"),
        ext.NavLink("changes", "Changes", "itsm:calendar", order=35, icon="calendar-days"),
        ext.Panel("approvals", "itsm/panel_approvals.html", approvals_panel, order=15),
        ext.Action("vote", "itsm/action_vote.html", vote_action, order=10),
        ext.TimelineRenderer("approval", approval_row),
        ext.QueueView("approvals", "My approvals", selectors.awaiting_vote, order=5,
                      empty="No change is waiting for your vote."),
        ext.TopbarItem("itsm/approvals_chip.html", order=5),
        ext.Panel("change-tasks", "itsm/panel_tasks.html", tasks_panel, order=10, column="main"),
        ext.TimelineRenderer("task", task_row),
        ext.NavLink("kb", "Knowledge base", "itsm:kb", audience="public", order=50, icon="book-open"),
        ext.NavLink("portal-new", "Report a problem", "itsm:portal-new", audience="requester",
                    query="?kind=incident", order=60, icon="life-buoy"),
        ext.CreateShortcut("standard-change", Kind.CHANGE, "New standard change from a template",
                           "itsm:change-templates", hint="pre-approved by the change manager, no CAB", icon="layers"),
        ext.Home(Role.REQUESTER, "itsm:portal"),
        ext.RequesterPage("itsm:portal-ticket"),
        ext.SearchProvider("articles", article_hits, order=10),
        ext.DashboardSection("change-rates", "itsm/dashboard_changes.html", rates_section, order=10),
    )
    register_major()


# --- problem management -----------------------------------------------------------------------------------


def known_error_banner(*, request, ticket, now):
    """On an open incident, the known errors of its service (or category) with one click to apply each (one
    query); "Linked to PRB-n" once it is an instance. Staff only."""
    if ticket.kind != Kind.INCIDENT or not ticket.is_open or not access.is_staff_member(request.user):
        return None
    known = neighbours(request, ticket, now)["known"]
    if not known:
        return None
    return {"known": known, "can_apply": access.may(request.user, "link", ticket)}


def analysis_panel(*, request, ticket, now):
    """A problem's root cause analysis: cause category, root cause, workaround, known error, how many incidents
    are instances of it, and how long it has gone without a root cause; with the form to edit them."""
    if ticket.kind != Kind.PROBLEM:
        return None
    from .forms import AnalysisForm

    instances = _instances(request, ticket, now)
    return {"count": instances["count"], "open_count": len(instances["open"]),
            "without_cause": None if ticket.root_cause.strip() else now - ticket.created_at,
            "can_edit": access.may(request.user, "edit", ticket) and ticket.is_open,
            "form": AnalysisForm(instance=ticket, renderer=FAST)}


def _instances(request, ticket, now) -> dict:
    """The problem's incidents: how many in all and the open ones (from the page's one read of neighbours)."""
    rows = neighbours(request, ticket, now)["instances"]
    return {"count": len(rows), "open": [t for t in rows if t.is_open]}


def problem_from_incident_action(*, request, ticket, now):
    if ticket.kind != Kind.INCIDENT or not ticket.is_open or not access.may(request.user, "link", ticket):
        return None
    return {}


def problem_resolve_action(*, request, ticket, now):
    """Resolve a problem with the linked open incidents chosen (all ticked by default)."""
    if ticket.kind != Kind.PROBLEM or ticket.status not in (Status.IN_PROGRESS, Status.KNOWN_ERROR):
        return None
    if not access.may(request.user, "edit", ticket):
        return None
    return {"incidents": _instances(request, ticket, now)["open"]}


def problem_bulk(*, request, tickets, data) -> str:
    problem = itsm.problem_from_incidents(incidents=tickets, actor=request.user,
                                          title=data.get("bulk-problem-title", ""))
    return f"{problem.key} raised from {', '.join(t.key for t in tickets)}"


def register_problems() -> None:
    ext.register(
        ext.Panel("known-error", "itsm/banner_known_error.html", known_error_banner, order=5, column="top"),
        ext.Panel("analysis", "itsm/panel_analysis.html", analysis_panel, order=5, column="main"),
        ext.Action("problem-from-incident", "itsm/action_problem_from.html", problem_from_incident_action, order=55),
        ext.Action("problem-resolve", "itsm/action_problem_resolve.html", problem_resolve_action, order=20),
        ext.BulkAction("problem-from-incidents", "Create problem from incidents", problem_bulk,
                       template="itsm/bulk_problem.html", order=20),
        ext.NavLink("known-errors", "KEDB", "itsm:known-errors", order=36),
    )


# --- major incidents and the process managers' landing pages ----------------------------------------------


def major_panel(*, request, ticket, now):
    """On a major incident: its reason, who declared it and when, who was told, its children (with the form to
    link more); on a child: which major incident it is part of. None on anything else."""
    if ticket.kind != Kind.INCIDENT:
        return None
    major = itsm.major_of(ticket)
    if major is not None:
        # its children and who was told come from the page's links and timeline (no query of their own)
        return {"major": major,
                "can_link": major.ended_at is None and access.role_of(request.user) in itsm.MAJOR_DECLARERS}
    parent = next(iter(neighbours(request, ticket, now)["major"]), None)  # read with the page's neighbours
    return {"parent": parent} if parent is not None else None


def major_action(*, request, ticket, now):
    """"Declare major incident…" on an open incident that is not one yet; "Resolve with children…" (the
    children ticked) on an open major incident. None for those who may not, and on other kinds."""
    if ticket.kind != Kind.INCIDENT or access.role_of(request.user) not in itsm.MAJOR_DECLARERS:
        return None
    major = itsm.major_of(ticket)
    if major is None:
        return {"what": "declare"} if ticket.is_open else None
    if major.ended_at is not None:
        return None
    return {"what": "resolve"}  # the open children come from the page's links


def major_badge(ticket, now=None) -> str:
    major = itsm.major_of(ticket)
    if major is None:
        return ""
    if major.ended_at is None:
        return format_html('<span class="badge bad" title="Declared {}">{}Major incident</span>',
                           when(major.declared_at), icon("zap"))
    return format_html('<span class="badge status" title="Ended {}">Major incident (ended)</span>',
                       when(major.ended_at))


def with_major(qs):
    return qs.select_related("major", "major__declared_by")


def open_majors(qs, *, user, now=None):
    return qs.filter(kind=Kind.INCIDENT, major__isnull=False, major__ended_at__isnull=True)


def major_row(event) -> str:
    headings = {"declared": "Major incident declared", "children": "Children linked",
                "resolved": "Major incident resolved"}
    if event.field == "declared":
        told = (event.note or "").partition("Told: ")[2].rstrip(".")
        return format_html('{} <strong>{}</strong> · {} <span class="small muted">Told: {}</span>', icon("zap"),
                           headings["declared"], event.new, told)
    return format_html("{} <strong>{}</strong> · {}", icon("zap"), headings.get(event.field, "Major incident"),
                       event.note)


def link_to_major(*, request, tickets, data) -> str:
    """The queue's "Link to major incident…": the ticked incidents become children of the major named."""
    key = (data.get("major_key") or "").strip()
    if not key:
        raise ValidationFailed("Type the key of the major incident to link the ticked incidents to (INC-12).")
    major = core_selectors.ticket_for_user(request.user, key[:20])
    linked = itsm.major_link_children(major_ticket=major, children=tickets, actor=request.user)
    return f"{', '.join(t.key for t in linked)} linked to the major incident {major.key}"


def register_major() -> None:
    ext.register(
        ext.Panel("major", "itsm/panel_major.html", major_panel, order=1),
        ext.Action("major", "itsm/action_major.html", major_action, order=5),
        ext.Badge("major", "Major incident", major_badge, order=20, default_column=False),
        with_major,
        ext.QueueView("majors", "Major incidents", open_majors, order=8, empty="No major incident is open."),
        ext.TimelineRenderer(EventKind.MAJOR, major_row),
        ext.BulkAction("link-major", "Link to major incident…", link_to_major, template="itsm/bulk_major.html",
                       order=10),
        ext.Home(Role.INCIDENT_MANAGER, "itsm:incident-health"),
        ext.Home(Role.PROBLEM_MANAGER, "itsm:problem-health"),
        ext.NavLink("incident-health", "Incident health", "itsm:incident-health", order=37, icon="chart-column",
                    roles=health.INCIDENT_HEALTH_ROLES),
        ext.NavLink("problem-health", "Problem health", "itsm:problem-health", order=38, icon="chart-column",
                    roles=health.PROBLEM_HEALTH_ROLES),
    )


# --- the request catalogue ------------------------------------------------------------------------------------


def register_catalogue() -> None:
    """"Request something" (the catalogue) beside "Report a problem" in the portal's top bar; the desk's "Order
    from the catalogue" on the new-ticket form of a service request; the ticket page's
    "Catalogue request" panel (item, answers, approval) on a request ordered from the catalogue."""
    from .catalogue import request_panel

    ext.register(
        ext.NavLink("portal-catalogue", "Request something", "itsm:portal-catalogue", audience="requester",
                    order=55, icon="package"),
        ext.CreateShortcut("catalogue", Kind.REQUEST, "Order from the catalogue", "itsm:catalogue",
                           hint="a standard item with its form, approval and fulfilment, for a requester",
                           icon="package", order=5),
        ext.Panel("catalogue", "itsm/catalogue/panel.html", request_panel, order=3, column="main"),
    )


# --- services and their operations gate ---------------------------------------------------------------------


def _not_yet_operational(ticket) -> bool:
    service = ticket.service if ticket.service_id else None
    return service is not None and service.lifecycle in (ServiceLifecycle.PLANNED, ServiceLifecycle.IN_TRANSITION)


def not_operational_banner(*, request, ticket, now):
    """On a ticket of a service not yet operational: the desk escalates it to the project team building the
    service (named, with a link to the service's page). Staff only."""
    if not _not_yet_operational(ticket) or not access.is_staff_member(request.user):
        return None
    service = ticket.service
    return {"service": service, "project_group": service.project_group if service.project_group_id else None}


def not_operational_badge(ticket, now=None) -> str:
    if not _not_yet_operational(ticket):
        return ""
    return format_html('<span class="badge warn" title="{} is {}: escalate to its project team">Not yet operational'
                       "</span>", ticket.service.name, ticket.service.get_lifecycle_display().lower())


def with_service(qs):
    return qs.select_related("service")


def register_services() -> None:
    ext.register(
        ext.Panel("not-operational", "itsm/services/banner_not_operational.html", not_operational_banner, order=2,
                  column="top"),
        ext.Badge("not-operational", "Service state", not_operational_badge, order=30, default_column=False),
        with_service,
        # The process owners' way in; the desk reaches a service's page from a ticket's banner and the search.
        ext.NavLink("services", "Services", "itsm:services", order=39, icon="layers",
                    roles=(Role.MANAGER, Role.ADMIN, Role.CHANGE_MANAGER, Role.INCIDENT_MANAGER,
                           Role.PROBLEM_MANAGER)),
    )
# --- knowledge management ---------------------------------------------------------------------------------


def article_from_ticket_action(*, request, ticket, now):
    """"Create article…" on a resolved or closed ticket of any kind, for agents."""
    from .services import knowledge

    if ticket.status not in knowledge.DRAFTABLE or not knowledge.may_write(request.user):
        return None
    return {}


def suggested_articles_panel(*, request, ticket, now):
    """"Suggested articles" on incidents and requests, for staff: the list loads after the page (no query)."""
    if ticket.kind not in (Kind.INCIDENT, Kind.REQUEST) or not access.is_staff_member(request.user):
        return None
    return {}


def deflection_section(*, request, period, now):
    return {"rates": selectors.deflection_rates(start=period.start, end=period.end)}


def register_knowledge() -> None:
    from tracker import hooks

    from .services import knowledge

    ext.register(
        ext.Action("create-article", "itsm/knowledge/action_from_ticket.html", article_from_ticket_action, order=60),
        ext.Panel("suggested-articles", "itsm/knowledge/panel_suggestions.html", suggested_articles_panel, order=30),
        ext.DashboardSection("deflection", "itsm/knowledge/dashboard_deflection.html", deflection_section, order=20),
    )
    hooks.register(knowledge.reply_observer)
# --- catalogue requests: approval and fulfilment ------------------------------------------------------------


def catalog_request_of(ticket):
    """The ticket's catalogue request (with its item, approver and form fields), read once per page: the
    Catalogue request and Fulfilment panels share it."""
    from .services import catalogue

    if not hasattr(ticket, "_itsm_catalog_request"):
        ticket._itsm_catalog_request = catalogue.request_of(ticket)
    return ticket._itsm_catalog_request


def fulfilment_panel(*, request, ticket, now):
    """A catalogue request's approval, its fulfilment tasks with what this viewer may do on each, and its
    automation (state, attempts, result, "Run again" when it failed); None on other tickets."""
    from .choices import OPEN_TASK_STATES
    from .services import fulfilment

    catalog_request = catalog_request_of(ticket)
    if catalog_request is None:
        return None
    user = request.user
    group_ids = set(user.assignment_groups.values_list("pk", flat=True))
    tasks = fulfilment.request_tasks(ticket)
    for task in tasks:
        task.is_open = task.state in OPEN_TASK_STATES
        task.can_work = fulfilment.may_work_task(user, task, group_ids=group_ids)
    return {"req": catalog_request, "tasks": tasks, "open": sum(t.is_open for t in tasks),
            "can_rerun": access.role_of(user) in fulfilment.AGENTS}


def _fulfilment_row(event) -> str:
    """A request's fulfilment step on its timeline: a task taken or finished, the automation's outcome."""
    from .choices import AutomationState

    step = event.field.removeprefix("request_")
    if step == "automation":
        label, _, result = (event.note or "").partition("\n")
        if event.new == AutomationState.QUEUED:
            return format_html('<span class="badge status">Automation</span> {}', "queued to run again")
        tone = "ok" if event.new == AutomationState.SUCCEEDED else "bad"
        word = "succeeded" if event.new == AutomationState.SUCCEEDED else "failed"
        return format_html('<span class="badge {}">Automation {}</span> {} (attempt {}){}', tone, word, label,
                           event.old, format_html(": {}", result) if result else "")
    head, _, note = (event.note or "").partition("\n")
    verbs = {"taken": "taken", "assigned": "assigned", "unassigned": "back with its group", TaskState.DONE: "done",
             TaskState.CANCELLED: "cancelled"}
    tone = "ok" if step == TaskState.DONE else "status"
    who = format_html(" by <strong>{}</strong>", event.new) if step in ("taken", "assigned") and event.new else ""
    return format_html('<span class="badge {}">Task {}</span> {}{}{}', tone, verbs.get(step, step), head, who,
                       format_html(" — {}", note) if note else "")


def _request_decision_row(event) -> str:
    tone = "ok" if event.new == "approved" else "bad"
    word = "Approved" if event.new == "approved" else "Not approved"
    return format_html('<strong>Approval</strong> <span class="badge {}">{}</span> · {}', tone, word, event.note)


def register_fulfilment() -> None:
    """The Fulfilment panel of a catalogue request, its timeline rows (sharing the kinds `task` and `approval`
    with changes: the field's prefix tells them apart), "My fulfilment tasks" in the queue, and the top bar's
    chip of requests waiting for my approval (for anyone, requesters too: a line manager)."""
    from .services import fulfilment

    change_task_row = ext.registry.timeline.get("task")
    change_approval_row = ext.registry.timeline.get("approval")

    def task_or_fulfilment_row(event) -> str:
        if event.field.startswith(fulfilment.FIELD_PREFIX):
            return _fulfilment_row(event)
        return change_task_row.render(event) if change_task_row else ""

    def approval_or_request_row(event) -> str:
        if event.field.startswith(fulfilment.FIELD_PREFIX):
            return _request_decision_row(event)
        return change_approval_row.render(event) if change_approval_row else ""

    ext.register(
        ext.Panel("fulfilment", "itsm/fulfilment/panel.html", fulfilment_panel, order=5, column="main"),
        ext.TimelineRenderer("task", task_or_fulfilment_row),
        ext.TimelineRenderer("approval", approval_or_request_row),
        ext.QueueView("fulfilment-tasks", "My fulfilment tasks", fulfilment.requests_with_my_tasks, order=6,
                      empty="No catalogue request has an open fulfilment task for you or your groups."),
        ext.TopbarItem("itsm/fulfilment/approvals_chip.html", order=6),
    )
