"""Pages show times in the signed-in user's own time zone (`User.time_zone`), UTC otherwise.

The database and the API stay in UTC: the zone is only activated for the pages' rendering.
"""
import zoneinfo
from functools import lru_cache

from django.utils import timezone


@lru_cache(maxsize=256)
def zone_named(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone of that name, or None when the name is empty or unknown (an old or mistyped value)."""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class UserTimeZoneMiddleware:
    """Activates the signed-in user's zone for the request (fallback settings.TIME_ZONE); not for the API,
    whose datetimes stay in UTC whoever asks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = None
        if not request.path.startswith("/api/"):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                zone = zone_named(getattr(user, "time_zone", "") or "")
        if zone is None:
            timezone.deactivate()  # settings.TIME_ZONE
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
