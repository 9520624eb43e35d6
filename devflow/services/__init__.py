"""Domain functions of the development side, one module per concern; the names are re-exported here."""

from .backlog import backlog_move, may_rank_backlog
from .capacity import capacity_decision_record, may_decide_capacity
from .defects import defect_from_incident, may_raise_defect
from .releases import (
    release_add_ticket,
    release_create,
    release_notes_assemble,
    release_notes_review,
    release_publish,
    release_remove_ticket,
    release_ship,
    release_uat_sign,
    release_update,
)

__all__ = [
    "backlog_move",
    "capacity_decision_record",
    "defect_from_incident",
    "may_decide_capacity",
    "may_rank_backlog",
    "may_raise_defect",
    "release_add_ticket",
    "release_create",
    "release_notes_assemble",
    "release_notes_review",
    "release_publish",
    "release_remove_ticket",
    "release_ship",
    "release_uat_sign",
    "release_update",
]
