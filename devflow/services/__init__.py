"""Domain functions of the development side, one module per concern; the names are re-exported here."""

from .defects import defect_from_incident
from .releases import release_ship

__all__ = ["defect_from_incident", "release_ship"]

from .backlog import backlog_move, may_rank_backlog  # noqa: E402
from .capacity import capacity_decision_record, may_decide_capacity  # noqa: E402

__all__ += ["backlog_move", "may_rank_backlog", "capacity_decision_record", "may_decide_capacity"]
