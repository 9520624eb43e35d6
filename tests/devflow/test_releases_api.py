"""The releases API and pages: the same rules as the domain, refusals as 4xx with their message."""
import pytest
from django.utils import timezone

from devflow.models import Release
from devflow.services import releases as rel
from tracker import services
from tracker.choices import Kind, Status

from .test_releases import _fixed_defect, _ready, _release


def test_the_api_takes_a_release_from_plan_to_shipped(cast, api):
    defect = _fixed_defect(cast)
    devon, dana, liam = api(cast.engineer), api(cast.engineer2), api(cast.agent2)
    created = devon.post("/api/v1/releases/", {"service": cast.services["payroll"].pk, "version": "2.5.0",
                                               "name": "Spring", "planned_for": "2026-12-20"}, format="json")
    assert created.status_code == 201, created.content
    pk, etag = created.json()["id"], created["ETag"]
    assert devon.post(f"/api/v1/releases/{pk}/tickets/", {"key": defect.key}, format="json").status_code == 200
    assembled = devon.post(f"/api/v1/releases/{pk}/assemble/", {}, format="json", HTTP_IF_MATCH=etag)
    assert assembled.status_code == 200 and defect.key in assembled.json()["notes"]
    revision = assembled.json()["revision"]
    refused = devon.post(f"/api/v1/releases/{pk}/review/", {"revision": revision}, format="json")
    assert refused.status_code == 403 and "edited these notes last" in refused.json()["detail"]
    assert dana.post(f"/api/v1/releases/{pk}/review/", {"revision": revision}, format="json").status_code == 200
    assert devon.post(f"/api/v1/releases/{pk}/uat/", {"note": "ok"}, format="json").status_code == 403
    assert liam.post(f"/api/v1/releases/{pk}/uat/", {"note": ""}, format="json").status_code == 400
    assert liam.post(f"/api/v1/releases/{pk}/uat/", {"note": "Finance tested"}, format="json").status_code == 200
    published = devon.post(f"/api/v1/releases/{pk}/publish/")
    assert published.status_code == 200 and published.json()["desk_article_url"].startswith("/kb/")
    shipped = devon.post(f"/api/v1/releases/{pk}/ship/")
    assert shipped.status_code == 200 and shipped.json()["shipped_at"]
    assert devon.post(f"/api/v1/releases/{pk}/ship/").status_code == 409
    listed = devon.get("/api/v1/releases/", {"service": cast.services["payroll"].pk, "state": "shipped"}).json()
    assert [r["version"] for r in listed] == ["2.5.0"]


def test_a_stale_if_match_answers_412_and_keeps_the_newer_notes(cast, api):
    release = _release(cast)
    devon = api(cast.engineer)
    first = devon.patch(f"/api/v1/releases/{release.pk}/", {"notes": "One"}, format="json", HTTP_IF_MATCH='"1"')
    assert first.status_code == 200 and first["ETag"] == '"2"'
    stale = devon.patch(f"/api/v1/releases/{release.pk}/", {"notes": "Two"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert devon.patch(f"/api/v1/releases/{release.pk}/", {"notes": "x"}, format="json").status_code == 400
    assert Release.objects.get(pk=release.pk).notes == "One"


def test_requesters_and_the_desk_cannot_plan_or_read_releases_through_the_api(cast, api):
    release = _release(cast)
    assert api(cast.requester).get(f"/api/v1/releases/{release.pk}/").status_code == 403
    assert api(cast.agent1).get(f"/api/v1/releases/{release.pk}/").status_code == 200
    made = api(cast.agent1).post("/api/v1/releases/", {"service": cast.services["payroll"].pk, "version": "3"},
                                 format="json")
    assert made.status_code == 403


def test_the_release_pages_show_steps_only_to_who_may_take_them(cast, client_for):
    release = _release(cast)
    defect = _fixed_defect(cast)
    rel.release_add_ticket(release=release, actor=cast.engineer, ticket=defect)
    rel.release_notes_assemble(release=release, actor=cast.engineer, revision=release.revision)
    liam_page = client_for(cast.agent2).get(f"/dev/releases/{release.pk}/").content.decode()
    assert "Sign off UAT" in liam_page and "Mark notes reviewed" in liam_page and defect.key in liam_page
    lena_page = client_for(cast.agent1).get(f"/dev/releases/{release.pk}/").content.decode()
    assert "Sign off UAT" not in lena_page and "Mark notes reviewed" not in lena_page
    listing = client_for(cast.agent1).get("/dev/releases/").content.decode()
    assert "2.5.0" in listing and "New release" not in listing


def test_a_refused_step_on_the_page_says_why_in_place(cast, client_for):
    release = _release(cast)
    rel.release_update(release=release, actor=cast.engineer, revision=1, notes="Fixes Z codes")
    response = client_for(cast.engineer).post(f"/dev/releases/{release.pk}/review/", {"revision": 2},
                                              HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and response["HX-Retarget"] == "#release-steps"
    assert "edited these notes last" in response.content.decode()
    stale = client_for(cast.engineer2).post(f"/dev/releases/{release.pk}/edit/", {
        "revision": 1, "name": "Spring", "planned_for": "", "notes": "Typed words"}, HTTP_HX_REQUEST="true")
    assert stale.status_code == 412 and "Typed words" in stale.content.decode()


def test_the_ticket_page_offers_add_to_release_and_shows_published_notes(cast, client_for):
    release = _release(cast)
    defect = _fixed_defect(cast)
    page = client_for(cast.engineer).get(f"/tickets/{defect.key}/").content.decode()
    assert "Add to release" in page
    response = client_for(cast.engineer).post(f"/dev/tickets/{defect.key}/release/", {"release": release.pk})
    assert response.status_code == 302 and release.tickets.filter(pk=defect.pk).exists()
    _ready_after_add(cast, release)
    incident = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payslip odd",
                                      service=cast.services["payroll"])
    desk = client_for(cast.agent1).get(f"/tickets/{incident.key}/").content.decode()
    assert "Changed on this service" in desk and f"<strong>{defect.key}</strong>" in desk


def _ready_after_add(cast, release):
    rel.release_notes_assemble(release=release, actor=cast.engineer, revision=release.revision)
    rel.release_notes_review(release=release, actor=cast.engineer2, revision=release.revision)
    rel.release_uat_sign(release=release, actor=cast.agent2, note="tested")
    rel.release_publish(release=release, actor=cast.engineer)


@pytest.mark.parametrize("rows", [1, 8])
def test_the_release_list_reads_a_constant_number_of_queries(cast, client_for, rows, django_assert_max_num_queries):
    for i in range(rows):
        _release(cast, version=f"2.{i}.0")
    client = client_for(cast.engineer)
    with django_assert_max_num_queries(6):  # measured: 6 with 1 release and with 8
        assert client.get("/dev/releases/").status_code == 200


def test_since_this_release_lists_incidents_raised_on_the_service_after_it_shipped(cast, client_for):
    release = _ready(cast, _release(cast), _fixed_defect(cast))
    rel.release_ship(release=release, actor=cast.engineer, now=timezone.now())
    later = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="New payslip layout confuses",
                                   service=cast.services["payroll"])
    page = client_for(cast.agent1).get(f"/dev/releases/{release.pk}/").content.decode()
    assert "Since this release" in page and later.key in page
    assert Status.CLOSED == release.tickets.get().status


@pytest.mark.parametrize("rows", [1, 6])
def test_the_release_page_reads_a_constant_number_of_queries(cast, client_for, rows, django_assert_max_num_queries):
    release = _release(cast)
    for i in range(rows):
        rel.release_add_ticket(release=release, actor=cast.engineer, ticket=_fixed_defect(cast, title=f"Fix {i}"))
    client = client_for(cast.engineer)
    with django_assert_max_num_queries(5):  # measured: 5 with 1 ticket and with 6
        assert client.get(f"/dev/releases/{release.pk}/").status_code == 200
