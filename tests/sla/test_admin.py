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
