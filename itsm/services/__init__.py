"""Domain functions of change enablement, one module per concern; this package re-exports the public names.

- `approvals`: CABs, standard-change templates and the standard changes made from them, and the approval
  rounds in which a CAB decides a change (votes, the outcome and the move it causes).
- `tasks`: the tasks of a change at each site (plan, hand off, report), the rollback of a change whose
  backout plan ran, and the guard that keeps a change's go-live and close honest.

`register()` (called by `ItsmConfig.ready()`) puts both modules' guards and observers on `tracker.hooks`.
"""

from . import approvals, tasks
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
    tasks.register()


__all__ = [
    "CHANGE_MANAGERS",
    "COORDINATORS",
    "FAILED_RESULTS",
    "OUTCOME_STATUS",
    "PLANNABLE",
    "PLAN_FIELDS",
    "REPORTS",
    "REVIEW_FIELDS",
    "TEMPLATE_BOUND",
    "TEMPLATE_FIELDS",
    "approval_vote",
    "cab_for_change",
    "cab_save",
    "change_guard",
    "change_observer",
    "go_live_guard",
    "local_moment",
    "may_coordinate",
    "may_manage_changes",
    "owner_text",
    "owns_task",
    "register",
    "required_approvals",
    "review_reason",
    "rollback_record",
    "rule_text",
    "standard_change_create",
    "task_add",
    "task_handoff",
    "task_report",
    "task_update",
    "tasks_cancel_with_change",
    "template_create",
    "template_retire",
    "template_update",
]
