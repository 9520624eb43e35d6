"""Domain functions of the development side, one module per concern; the names are re-exported here."""

from .defects import defect_from_incident
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
    "defect_from_incident",
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
