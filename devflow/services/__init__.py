"""Domain functions of the development side, one module per concern; the names are re-exported here."""

from .defects import defect_from_incident
from .releases import release_ship

__all__ = ["defect_from_incident", "release_ship"]
