"""SLA calendars and policies in the admin: administrators edit them, other staff only read."""
from django.contrib.auth.models import Permission

from sla.models import Calendar


def test_only_administrators_change_calendars_in_the_admin(cast, client):
    calendar = Calendar.objects.create(name="London", time_zone="Europe/London")
    cast.manager.is_staff = True
    cast.manager.save()
    cast.manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="sla"))
    client.force_login(cast.manager)
    url = f"/admin/sla/calendar/{calendar.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(url, {"name": "Renamed", "time_zone": "UTC"}).status_code == 403
    calendar.refresh_from_db()
    assert calendar.name == "London"
    client.force_login(cast.admin)
    assert b'name="_save"' in client.get(url).content


def _inline(prefix: str, rows: list[dict]) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def test_the_admin_refuses_a_calendar_that_is_never_open(cast, client):
    client.force_login(cast.admin)
    data = {"name": "Never", "time_zone": "UTC", "updated_at_0": "2026-01-12", "updated_at_1": "09:00:00",
            **_inline("hours", []), **_inline("holidays", [])}
    page = client.post("/admin/sla/calendar/add/", data)
    assert page.status_code == 200 and b"never open" in page.content
    assert not Calendar.objects.filter(name="Never").exists()
    data.update(_inline("hours", [{"weekday": "0", "start": "09:00", "end": "17:00"}]))
    assert client.post("/admin/sla/calendar/add/", data).status_code == 302
    assert Calendar.objects.get(name="Never").hours.count() == 1
