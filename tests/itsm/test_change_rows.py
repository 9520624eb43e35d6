"""The "Changes on this service" rows are written once per process for the values they show and the viewer's
language and zone: a kept row reads as a freshly written one, and a change's new status, a title edit, another
zone or language each write their own."""
from datetime import UTC, datetime

import pytest
from django.utils import timezone, translation

from itsm.templatetags.itsm_ui import _change_row, change_rows
from tracker.models import Ticket


def _fresh(changes) -> str:
    from django.urls import get_script_prefix

    from tracker.templatetags.crossline import _key_url_pattern

    link = _key_url_pattern(get_script_prefix(), "tracker:ticket")
    return "".join(_change_row.__wrapped__(link, c.key, c.title, c.status, c.implementation_result, c.updated_at,
                                           translation.get_language(), timezone.get_current_timezone_name())
                   for c in changes)


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland", "America/Los_Angeles"])
def test_kept_rows_read_as_fresh_ones(language, zone):
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # another day in Auckland and Los Angeles
    changes = [Ticket(key="CHG-7", title="Patch <db> & “cache” " * 5, status="in_progress", updated_at=late),
               Ticket(key="CHG-8", title="Done", status="closed", implementation_result="successful", updated_at=late)]
    with translation.override(language), timezone.override(zone):
        first = str(change_rows(changes))
        assert first == _fresh(changes)
        assert str(change_rows(changes)) == first  # from the kept rows
        changes[0].status, changes[1].title = "resolved", "Done again"
        assert str(change_rows(changes)) == _fresh(changes) != first


def test_the_zone_and_language_key_the_rows():
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    changes = [Ticket(key="CHG-9", title="T", status="closed", updated_at=late)]
    with timezone.override("UTC"):
        utc = str(change_rows(changes))
    with timezone.override("Pacific/Auckland"):
        auckland = str(change_rows(changes))
    with translation.override("de"):
        german = str(change_rows(changes))
    assert "01 Dec" in utc and "02 Dec" in auckland and "01 Dez" in german
    assert change_rows([]) == ""
