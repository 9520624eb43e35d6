"""iCalendar export: the feed parses, every change and blackout is an event with a UID that stays put when the
window moves; one change as a file; a personal secret address that works without signing in and stops working
when replaced or turned off."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from itsm import services
from itsm.choices import Repeat
from itsm.models import CalendarFeed
from tracker import services as core
from tracker.choices import Kind


def parse(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def events(cal):
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def soon(cast):
    now = timezone.now().replace(microsecond=0, second=0)
    payroll = cast.services["payroll"]
    first = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Deploy payroll release", service=payroll,
                               risk="high", window_start=now + timedelta(days=3),
                               window_end=now + timedelta(days=3, hours=2))
    second = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Patch payroll database", service=payroll,
                                risk="low", window_start=now + timedelta(days=3, hours=1),
                                window_end=now + timedelta(days=3, hours=3))
    mail = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Upgrade mail gateway",
                              service=cast.services["mail"], window_start=now + timedelta(days=9),
                              window_end=now + timedelta(days=9, hours=1))
    weekly = services.blackout_create(actor=cast.change_manager, name="Payroll weekend", reason="Batch runs.",
                                      service=payroll, starts_at=now + timedelta(days=20),
                                      ends_at=now + timedelta(days=21), repeat=Repeat.WEEKLY)
    return {"first": first, "second": second, "mail": mail, "weekly": weekly, "now": now}


def test_the_feed_parses_with_every_change_and_blackout_as_an_event(cast, client_for, soon):
    cal = parse(client_for(cast.agent1).get("/changes/calendar.ics"))
    assert str(cal["PRODID"]) == "-//Crossline//Change calendar//EN" and str(cal["VERSION"]) == "2.0"
    found = events(cal)
    first = found[f"{soon['first'].key.lower()}@127.0.0.1"]
    assert first["SUMMARY"] == f"{soon['first'].key} Deploy payroll release (collision)"
    assert first.decoded("DTSTART") == soon["now"] + timedelta(days=3)
    assert first.decoded("DTEND") == soon["now"] + timedelta(days=3, hours=2)
    assert str(first["STATUS"]) == "TENTATIVE"
    assert f"Collides with {soon['second'].key}" in str(first["DESCRIPTION"])
    assert str(first["URL"]).endswith(f"/tickets/{soon['first'].key}/")
    blackouts = [e for uid, e in found.items() if uid.startswith(f"blackout-{soon['weekly'].pk}-")]
    assert len(blackouts) >= 20  # a weekly one, for 180 days ahead
    assert blackouts[0]["SUMMARY"] == "Blackout: Payroll weekend (Payroll)"
    assert len({str(e["UID"]) for e in blackouts}) == len(blackouts)


def test_a_uid_stays_put_when_the_window_moves_and_the_sequence_goes_up(cast, client_for, soon):
    client = client_for(cast.agent1)
    chg = soon["mail"]
    before = events(parse(client.get("/changes/calendar.ics")))[f"{chg.key.lower()}@127.0.0.1"]
    services.change_schedule(ticket=chg, actor=cast.agent2, start=soon["now"] + timedelta(days=10),
                             end=soon["now"] + timedelta(days=10, hours=1))
    after = events(parse(client.get("/changes/calendar.ics")))[f"{chg.key.lower()}@127.0.0.1"]
    assert after.decoded("DTSTART") == soon["now"] + timedelta(days=10)
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_the_feed_keeps_one_service(cast, client_for, soon):
    found = events(parse(client_for(cast.agent1).get(f"/changes/calendar.ics?service={cast.services['mail'].pk}")))
    keys = {uid.split("@")[0] for uid in found}
    assert soon["mail"].key.lower() in keys and soon["first"].key.lower() not in keys
    assert client_for(cast.agent1).get("/changes/calendar.ics?service=nope").status_code == 400


def test_one_change_as_a_file(cast, client_for, soon):
    response = client_for(cast.agent1).get(f"/tickets/{soon['first'].key}/calendar.ics")
    assert f'filename="{soon["first"].key}.ics"' in response["Content-Disposition"]
    (event,) = parse(response).walk("VEVENT")
    assert str(event["UID"]) == f"{soon['first'].key.lower()}@127.0.0.1"
    unscheduled = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Someday")
    assert client_for(cast.agent1).get(f"/tickets/{unscheduled.key}/calendar.ics").status_code == 404


def test_a_personal_feed_address_works_without_signing_in_until_replaced_or_turned_off(cast, client_for, soon):
    client = client_for(cast.agent1)
    page = client.post("/changes/calendar/feed/", HTTP_HX_REQUEST="true").content.decode()
    url = page.split('id="feed-url" readonly value="')[1].split('"')[0]
    path = url.split("127.0.0.1", 1)[1] if "127.0.0.1" in url else url.split("testserver", 1)[1]
    anonymous = Client()
    found = events(parse(anonymous.get(path)))
    assert f"{soon['first'].key.lower()}@127.0.0.1" in found
    feed = CalendarFeed.objects.get(user=cast.agent1)
    assert feed.last_used_at is not None and path.split("/")[-1].removesuffix(".ics") not in feed.token_hash
    assert "webcal://" in page

    client.post("/changes/calendar/feed/", HTTP_HX_REQUEST="true")  # replaced: the old address is dead
    assert anonymous.get(path).status_code == 404
    client.post("/changes/calendar/feed/delete/", HTTP_HX_REQUEST="true")
    assert not CalendarFeed.objects.filter(user=cast.agent1).exists()
    assert anonymous.get("/changes/calendar/feed/not-a-token.ics").status_code == 404


def test_a_feed_address_of_someone_who_is_no_longer_staff_gives_nothing(cast, soon):
    token = services.calendar_feed_create(actor=cast.agent1)
    cast.agent1.is_active = False
    cast.agent1.save()
    assert Client().get(f"/changes/calendar/feed/{token}.ics").status_code == 404
