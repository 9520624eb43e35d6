"""The change calendar's pages: month and week, the service filter, collisions and blackouts drawn, bad addresses
answered with what to fix, the same number of queries for one change and for many; the Schedule panel of a change;
blackout management."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from itsm import services
from itsm.choices import Repeat
from itsm.models import Blackout, BlackoutOverride
from tests.factories import TicketFactory
from tracker import services as core
from tracker.choices import Kind

LONDON = ZoneInfo("Europe/London")


def at(*args, zone=UTC):
    return datetime(*args, tzinfo=zone)


def change(cast, service, title, start, end):
    return core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title=title, service=service, risk="high",
                              change_type="normal", window_start=start, window_end=end)


@pytest.fixture
def february(cast):
    payroll, mail = cast.services["payroll"], cast.services["mail"]
    return [
        change(cast, payroll, "Deploy payroll release", at(2027, 2, 2, 19), at(2027, 2, 2, 22)),
        change(cast, payroll, "Patch payroll database", at(2027, 2, 2, 21), at(2027, 2, 2, 23)),
        change(cast, mail, "Upgrade mail gateway", at(2027, 2, 10, 19), at(2027, 2, 10, 20)),
    ]


def test_the_month_shows_each_change_with_its_service_risk_state_and_collisions(cast, client_for, february):
    services.blackout_create(actor=cast.change_manager, name="Payroll run", reason="Payslips go out.",
                             service=cast.services["payroll"], starts_at=at(2027, 2, 24, 18),
                             ends_at=at(2027, 2, 25, 8), repeat=Repeat.MONTHLY)
    page = client_for(cast.agent1).get("/changes/calendar/?view=month&date=2027-02-14")
    html = page.content.decode()
    assert page.status_code == 200
    assert "February 2027" in html
    for chg in february:
        assert chg.key in html
    assert "Upgrade mail gateway" in html and "High risk" in html and "New" in html and "Mail" in html
    assert html.count('class="badge warn"><svg') >= 2  # the two colliding changes (and their day)
    assert "2 collisions" not in html and "1 collision" in html  # one pair
    assert "Payroll run" in html and "Payslips go out." in html
    assert 'href="/changes/calendar/?view=month&amp;date=2027-01-01"' in html  # previous month
    assert 'href="/changes/calendar/?view=month&amp;date=2027-03-01"' in html  # next month


def test_the_week_view_and_the_service_filter(cast, client_for, february):
    client = client_for(cast.agent1)
    html = client.get("/changes/calendar/?view=week&date=2027-02-03").content.decode()
    assert "Week of 1 Feb 2027" in html
    assert february[0].key in html and february[1].key in html and february[2].key not in html
    assert 'href="/changes/calendar/?view=week&amp;date=2027-01-27"' in html
    mail = cast.services["mail"].pk
    html = client.get(f"/changes/calendar/?view=month&date=2027-02-01&service={mail}").content.decode()
    assert february[2].key in html and february[0].key not in html


def test_times_are_the_viewers_own(cast, client_for, february):
    cast.agent1.time_zone = "Asia/Tokyo"
    cast.agent1.save()
    html = client_for(cast.agent1).get("/changes/calendar/?view=week&date=2027-02-03").content.decode()
    assert "04:00–07:00" in html  # 19:00-22:00 UTC on the 2nd is 04:00-07:00 JST on the 3rd
    assert "times in Asia/Tokyo" in html


@pytest.mark.parametrize("query", ["?date=2027-13-01", "?view=year", "?service=999999", "?date=yesterday"])
def test_a_bad_calendar_address_answers_400_and_says_what_to_fix(cast, client_for, query):
    page = client_for(cast.agent1).get(f"/changes/calendar/{query}")
    assert page.status_code == 400
    assert "Check the calendar" in page.content.decode()


def test_requesters_do_not_see_the_change_calendar(cast, client_for):
    client = client_for(cast.requester)
    assert client.get("/changes/calendar/").status_code == 302
    assert client.get("/changes/blackouts/").status_code == 302
    assert client.get("/changes/calendar.ics").status_code == 302


calendar_queries: dict[tuple, int] = {}


@pytest.mark.parametrize("view", ["month", "week"])
@pytest.mark.parametrize("rows", [1, 60])
def test_calendar_queries_do_not_grow_with_the_changes(cast, client_for, view, rows, django_assert_max_num_queries):
    payroll = cast.services["payroll"]
    services.blackout_create(actor=cast.change_manager, name="Weekend", reason="Quiet.", service=payroll,
                             starts_at=at(2027, 2, 5, 18), ends_at=at(2027, 2, 8, 6), repeat=Repeat.WEEKLY)
    services.blackout_create(actor=cast.change_manager, name="Freeze", reason="Audit.",
                             starts_at=at(2027, 2, 20), ends_at=at(2027, 2, 22))
    for n in range(rows):
        start = at(2027, 2, 1, 8) + timedelta(hours=5 * n)
        TicketFactory(kind=Kind.CHANGE, service=payroll if n % 2 else cast.services["mail"], risk="low",
                      window_start=start, window_end=start + timedelta(hours=6), requester=cast.agent2)
    crossing = TicketFactory(kind=Kind.CHANGE, service=payroll, window_start=at(2027, 1, 31, 20),
                             window_end=at(2027, 2, 1, 10), requester=cast.agent2)
    BlackoutOverride.objects.create(ticket=crossing, blackout=None, blackout_name="Old",
                                    window_start=at(2027, 1, 31, 20), reason="x", created_at=timezone.now())
    client = client_for(cast.agent1)
    url = f"/changes/calendar/?view={view}&date=2027-02-03"
    client.get(url)
    with django_assert_max_num_queries(12) as captured:
        response = client.get(url)
    assert response.status_code == 200
    calendar_queries[(view, rows)] = len(captured)
    if (view, 1) in calendar_queries and (view, 60) in calendar_queries:
        assert calendar_queries[(view, 1)] == calendar_queries[(view, 60)], calendar_queries


# --- the Schedule panel --------------------------------------------------------------------------------------

@pytest.fixture
def freeze(cast):
    return services.blackout_create(actor=cast.change_manager, name="Year-end freeze", reason="Year-end trading.",
                                    starts_at=at(2026, 12, 18, 18), ends_at=at(2027, 1, 4, 6))


def test_the_schedule_panel_shows_the_window_collisions_and_blackouts(cast, client_for, february):
    html = client_for(cast.agent1).get(f"/tickets/{february[0].key}/").content.decode()
    assert 'id="h-schedule"' in html
    assert "Tue 2 Feb 2027 19:00–22:00 UTC" in html
    assert "Collides with 1 change" in html and february[1].key in html
    assert "Override a blackout" not in html  # not a change manager
    assert "<strong>Collision</strong> · the window overlaps" in html and f">{february[1].key}</a>" in html
    incident = core.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payslips blank")
    assert 'id="h-schedule"' not in client_for(cast.agent1).get(f"/tickets/{incident.key}/").content.decode()


def test_scheduling_into_a_blackout_is_refused_in_the_panel_with_what_was_typed(cast, client_for, freeze):
    chg = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Tax tables", service=cast.services["payroll"])
    client = client_for(cast.agent2)
    form = {"window_start": "2026-12-22T19:00", "window_end": "2026-12-22T21:00", "version": chg.version}
    response = client.post(f"/tickets/{chg.key}/schedule/", form, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 409
    assert "“Year-end freeze”" in html and 'value="2026-12-22T19:00"' in html and 'id="schedule-form"' in html
    # the next submit, outside the freeze, works
    form.update(window_start="2027-01-05T19:00", window_end="2027-01-05T21:00")
    response = client.post(f"/tickets/{chg.key}/schedule/", form, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Retarget"] == "#workspace"
    chg.refresh_from_db()
    assert chg.window_start == at(2027, 1, 5, 19)


def test_without_javascript_a_refusal_is_the_whole_page_with_the_form_kept(cast, client_for, freeze):
    chg = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Tax tables", service=cast.services["payroll"])
    response = client_for(cast.agent2).post(f"/tickets/{chg.key}/schedule/", {
        "window_start": "2026-12-22T19:00", "window_end": "2026-12-22T21:00", "version": chg.version})
    html = response.content.decode()
    assert response.status_code == 409 and "<html" in html and 'value="2026-12-22T19:00"' in html


def test_a_change_manager_overrides_in_the_panel_and_a_reason_is_required(cast, client_for, freeze):
    chg = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Tax tables", service=cast.services["payroll"])
    client = client_for(cast.change_manager)
    assert "Override a blackout" in client.get(f"/tickets/{chg.key}/").content.decode()
    form = {"window_start": "2026-12-22T19:00", "window_end": "2026-12-22T21:00", "version": chg.version,
            "override": "on", "override_reason": ""}
    response = client.post(f"/tickets/{chg.key}/schedule/", form, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "Say why" in response.content.decode()
    form["override_reason"] = "Statutory tax tables, due 1 January."
    response = client.post(f"/tickets/{chg.key}/schedule/", form, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Blackout “Year-end freeze” overridden." in html  # the notice
    assert "Blackout overridden" in html and "Statutory tax tables, due 1 January." in html  # the timeline
    assert BlackoutOverride.objects.get().actor == cast.change_manager


def test_an_override_posted_by_an_agent_is_refused(cast, client_for, freeze):
    chg = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Tax tables", service=cast.services["payroll"])
    response = client_for(cast.agent2).post(f"/tickets/{chg.key}/schedule/", {
        "window_start": "2026-12-22T19:00", "window_end": "2026-12-22T21:00", "version": chg.version,
        "override": "on", "override_reason": "Trust me."}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and "Only the change manager" in response.content.decode()
    assert not BlackoutOverride.objects.exists()


def test_a_window_is_entered_in_the_viewers_zone_across_a_summer_time_change(cast, client_for):
    """New York springs forward on 14 March 2027 at 02:00: 22:00 on the 13th to 06:00 on the 14th is 7 hours."""
    cast.agent2.time_zone = "America/New_York"
    cast.agent2.save()
    chg = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Move data centre",
                             service=cast.services["mail"])
    client = client_for(cast.agent2)
    response = client.post(f"/tickets/{chg.key}/schedule/", {
        "window_start": "2027-03-13T22:00", "window_end": "2027-03-14T06:00", "version": chg.version})
    assert response.status_code == 200
    chg.refresh_from_db()
    assert (chg.window_start, chg.window_end) == (at(2027, 3, 14, 3), at(2027, 3, 14, 10))
    html = client.get(f"/tickets/{chg.key}/").content.decode()
    assert "Sat 13 Mar 2027 22:00 EST – Sun 14 Mar 06:00 EDT" in html
    assert 'value="2027-03-13T22:00"' in html  # the form shows it back as entered
    # the timeline's field rows read in the viewer's zone too
    assert "13 Mar 2027 22:00 EST" in html
    # a time that does not exist in New York (02:30 on the 14th) is refused with what to fix, never a 500
    response = client.post(f"/tickets/{chg.key}/schedule/", {
        "window_start": "2027-03-14T02:30", "window_end": "2027-03-14T04:00", "version": chg.version + 1})
    assert response.status_code == 400 and "America/New_York" in response.content.decode()


def test_a_stale_schedule_form_is_refused_like_any_stale_edit(cast, client_for):
    chg = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Tax tables", service=cast.services["payroll"])
    stale = chg.version
    core.ticket_update(ticket=chg, actor=cast.agent1, version=chg.version, changes={"title": "Tax tables 2027"})
    response = client_for(cast.agent2).post(f"/tickets/{chg.key}/schedule/", {
        "window_start": "2027-01-05T19:00", "window_end": "2027-01-05T21:00", "version": stale},
        HTTP_HX_REQUEST="true")
    assert response.status_code == 412 and "changed by someone else" in response.content.decode()


def test_the_workspace_of_a_change_costs_the_same_queries_with_many_collisions(cast, client_for,
                                                                               django_assert_max_num_queries):
    payroll = cast.services["payroll"]
    chg = change(cast, payroll, "Deploy", at(2027, 2, 2, 19), at(2027, 2, 2, 22))
    client = client_for(cast.agent1)
    counts = []
    for extra in (1, 20):
        for _ in range(extra):
            TicketFactory(kind=Kind.CHANGE, service=payroll, window_start=at(2027, 2, 2, 20),
                          window_end=at(2027, 2, 2, 21), requester=cast.agent2)
        client.get(f"/tickets/{chg.key}/")
        with django_assert_max_num_queries(40) as captured:
            assert client.get(f"/tickets/{chg.key}/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


# --- blackout management -------------------------------------------------------------------------------------

def test_a_change_manager_adds_edits_and_removes_a_blackout(cast, client_for):
    client = client_for(cast.change_manager)
    response = client.post("/changes/blackouts/", {
        "name": "Payroll run", "service": cast.services["payroll"].pk, "starts_at": "2026-12-24T18:00",
        "ends_at": "2026-12-25T08:00", "repeat": Repeat.MONTHLY, "reason": "Payslips go out on the 25th."})
    assert response.status_code == 302
    blackout = Blackout.objects.get()
    assert blackout.repeat == Repeat.MONTHLY and blackout.created_by == cast.change_manager
    page = client.get("/changes/blackouts/").content.decode()
    assert "Payroll run" in page and "Every month, the 24th 18:00 → the 25th 08:00 (UTC)" in page
    response = client.post(f"/changes/blackouts/{blackout.pk}/", {
        "name": "Payroll run", "service": cast.services["payroll"].pk, "starts_at": "2026-12-24T16:00",
        "ends_at": "2026-12-25T08:00", "repeat": Repeat.MONTHLY, "reason": "Payslips go out on the 25th."})
    assert response.status_code == 302
    blackout.refresh_from_db()
    assert blackout.starts_at == at(2026, 12, 24, 16)
    assert client.post(f"/changes/blackouts/{blackout.pk}/delete/").status_code == 302
    assert not Blackout.objects.exists()


def test_a_refused_blackout_keeps_what_was_typed_and_says_what_to_fix(cast, client_for):
    client = client_for(cast.change_manager)
    response = client.post("/changes/blackouts/", {
        "name": "Peak trading", "starts_at": "2026-12-01T09:00", "ends_at": "2026-11-30T09:00",
        "repeat": Repeat.NEVER, "reason": "Black Friday."}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 400
    assert "must end after it starts" in html and 'value="Peak trading"' in html and 'id="blackout-form"' in html
    assert not Blackout.objects.exists()


def test_agents_read_blackouts_but_do_not_manage_them(cast, client_for, freeze):
    client = client_for(cast.agent2)
    page = client.get("/changes/blackouts/").content.decode()
    assert "Year-end freeze" in page and "Add a blackout" not in page and "Remove" not in page
    assert client.get(f"/changes/blackouts/{freeze.pk}/").status_code == 403
    response = client.post("/changes/blackouts/", {"name": "Mine", "starts_at": "2027-02-01T09:00",
                                                   "ends_at": "2027-02-01T10:00", "repeat": "never", "reason": "x"})
    assert response.status_code == 403
    client.post(f"/changes/blackouts/{freeze.pk}/delete/")
    assert Blackout.objects.filter(pk=freeze.pk).exists()


def test_the_blackout_list_names_the_changes_scheduled_into_it(cast, client_for):
    now = timezone.now()
    chg = change(cast, cast.services["payroll"], "Tax tables", now + timedelta(days=3),
                 now + timedelta(days=3, hours=2))
    services.blackout_create(actor=cast.change_manager, name="Audit freeze", reason="Auditors on site.",
                             starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=5))
    page = client_for(cast.change_manager).get("/changes/blackouts/").content.decode()
    assert chg.key in page and "not overridden" in page
