"""Domain functions of change enablement, one module per concern; this package re-exports the public names.

- `approvals`: CABs, standard-change templates and the standard changes made from them, and the approval
  rounds in which a CAB decides a change (votes, the outcome and the move it causes).
- `calendar`: blackout windows, scheduling a change (with a change manager's override of a blackout), the
  calendar feeds, and the guard and observer that hold the calendar's rules for every write of a window.
- `major`: major incidents: declaring one (the incident managers and the service's owners told at once), its
  children, and resolving it with the children chosen, one note to all their requesters.
- `tasks`: the tasks of a change at each site (plan, hand off, report), the rollback of a change whose
  backout plan ran, and the guard that keeps a change's go-live and close honest.
- `fulfilment`: catalogue requests once they may be fulfilled: their approver, fulfilment tasks and the
  fulfilment handler the workers run.
- `problems`: problem management: a problem raised from its incidents, a known error applied to an incident
  (linked, workaround sent), and a problem resolved with the linked incidents chosen for it.

`register()` (called by `ItsmConfig.ready()`) puts the modules' guards and observers on `tracker.hooks`.
"""

from . import approvals, calendar, fulfilment, problems, tasks
from .approvals import (
    CHANGE_MANAGERS,
    OUTCOME_STATUS,
    TEMPLATE_BOUND,
    TEMPLATE_FIELDS,
    approval_vote,
    cab_for_change,
    cab_save,
    change_guard,
    change_observer,
    may_manage_changes,
    required_approvals,
    rule_text,
    standard_change_create,
    template_create,
    template_retire,
    template_update,
)
from .calendar import (
    LABELS,
    WINDOW_FIELDS,
    BlackoutHit,
    blackout_create,
    blackout_delete,
    blackout_update,
    calendar_feed_create,
    calendar_feed_revoke,
    calendar_feed_used,
    change_schedule,
    schedule_guard,
    schedule_observer,
)
from .major import (
    MAJOR_DECLARERS,
    major_children,
    major_children_by_keys,
    major_declare,
    major_link_children,
    major_of,
    major_parent_of,
    major_resolve,
    major_told,
)
from .problems import (
    KNOWN_ERROR_Q,
    is_known_error,
    known_error_apply,
    known_error_guard,
    linked_open_incidents,
    open_problems_of,
    problem_from_incidents,
    problem_resolve,
    workaround_reply,
)
from .tasks import (
    COORDINATORS,
    FAILED_RESULTS,
    PLAN_FIELDS,
    PLANNABLE,
    REPORTS,
    REVIEW_FIELDS,
    go_live_guard,
    local_moment,
    may_coordinate,
    owner_text,
    owns_task,
    review_reason,
    rollback_record,
    task_add,
    task_handoff,
    task_report,
    task_update,
    tasks_cancel_with_change,
)


def register() -> None:
    approvals.register()
    calendar.register()
    tasks.register()
    problems.register()
    fulfilment.register()


__all__ = [
    "BlackoutHit",
    "fulfilment",
    "CHANGE_MANAGERS",
    "COORDINATORS",
    "FAILED_RESULTS",
    "LABELS",
    "OUTCOME_STATUS",
    "PLANNABLE",
    "PLAN_FIELDS",
    "REPORTS",
    "REVIEW_FIELDS",
    "TEMPLATE_BOUND",
    "TEMPLATE_FIELDS",
    "WINDOW_FIELDS",
    "approval_vote",
    "blackout_create",
    "blackout_delete",
    "blackout_update",
    "cab_for_change",
    "cab_save",
    "calendar_feed_create",
    "calendar_feed_revoke",
    "calendar_feed_used",
    "change_guard",
    "change_observer",
    "change_schedule",
    "go_live_guard",
    "local_moment",
    "MAJOR_DECLARERS",
    "major_children",
    "major_children_by_keys",
    "major_declare",
    "major_link_children",
    "major_of",
    "major_parent_of",
    "major_resolve",
    "major_told",
    "may_coordinate",
    "may_manage_changes",
    "owner_text",
    "owns_task",
    "register",
    "required_approvals",
    "review_reason",
    "rollback_record",
    "rule_text",
    "schedule_guard",
    "schedule_observer",
    "standard_change_create",
    "task_add",
    "task_handoff",
    "task_report",
    "task_update",
    "tasks_cancel_with_change",
    "template_create",
    "template_retire",
    "template_update",
    # problem management
    "KNOWN_ERROR_Q",
    "is_known_error",
    "known_error_guard",
    "known_error_apply",
    "linked_open_incidents",
    "open_problems_of",
    "problem_from_incidents",
    "problem_resolve",
    "workaround_reply",
]
