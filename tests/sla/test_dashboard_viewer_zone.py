"""The dashboard's reporting days are settings.TIME_ZONE days, whichever zone the viewer's pages use."""
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from sla import dashboard as reports
from tests.sla.test_rollup import _refresh_all, history  # noqa: F401 - the fixture is used by name


def test_a_viewer_in_another_zone_gets_the_same_figures_from_the_roll_up(history):  # noqa: F811
    now, _ = history
    period = reports.Period(now - timedelta(days=10), now)
    live = reports.dashboard(period=period, now=now)
    _refresh_all(now)
    with timezone.override("Asia/Tokyo"):
        assert len(reports.rolled_up_days(period)) == 9
        seen = reports.dashboard(period=period, now=now)
    assert seen["kpis"] == live["kpis"] and seen["chart"] == live["chart"]
    for mine, theirs in zip(seen["tables"], live["tables"], strict=True):
        if mine.slug == "breaches":  # its first column is the breach time, shown in the viewer's zone
            assert [r[1:] for r in mine.rows] == [r[1:] for r in theirs.rows]
        else:
            assert mine == theirs


def test_the_dashboard_names_the_period_in_the_managers_zone(cast):
    cast.manager.time_zone = "Asia/Tokyo"
    cast.manager.save()
    client = Client()
    client.force_login(cast.manager)
    page = client.get("/dashboard/", {"start": "2026-01-01", "end": "2026-01-31"}).content.decode()
    assert '<time datetime="2026-01-01T00:00:00Z">1 Jan 2026 09:00 JST</time>' in page
