"""Input a careless or hostile client sends: always a 4xx that says what to fix, never a 500, nothing written."""
import json

import pytest

from tracker.models import Ticket

BAD_FILTERS = [
    ("breaching_within=999999999999", "minutes from 0 to"),
    ("breaching_within=-5", "minutes from 0 to"),
    ("updated_before=3154-06-22T12:25:52-18:53", "UTC offset"),
    ("updated_after=3154-06-22T12:25:52-18:53", "UTC offset"),
    ("created_after=3154-06-22T12:25:52-18:53", "UTC offset"),
    ("created_before=3154-06-22T12:25:52%2B23:00", "UTC offset"),
    ("created_after=9999-12-31T23:59:59-10:00", "between the years 1 and 9999"),
    ("created_before=0001-01-01T00:00:00%2B10:00", "between the years 1 and 9999"),
]


@pytest.mark.parametrize(("query", "words"), BAD_FILTERS)
def test_an_out_of_range_filter_is_a_400_saying_what_to_send(cast, api, query, words):
    response = api(cast.agent1).get(f"/api/v1/tickets/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and words in body["detail"], body


@pytest.mark.parametrize(("query", "words"), BAD_FILTERS)
def test_the_queue_shows_an_out_of_range_filter_as_a_message(cast, client_for, query, words):
    response = client_for(cast.agent1).get(f"/queue/?{query}")
    assert response.status_code == 400
    assert "Check the filters" in response.content.decode() and words in response.content.decode()


def test_a_far_offset_within_range_still_filters(cast, api):
    response = api(cast.agent1).get("/api/v1/tickets/?created_after=2020-01-01T00:00:00-12:00"
                                    "&breaching_within=5270400")
    assert response.status_code == 200


@pytest.mark.parametrize(("user", "url"), [
    (None, "/kb/?q=%00"),
    ("agent1", "/tickets/new/requesters/?requester=%00%00"),
    ("agent1", "/queue/?q=a%00b"),
    ("agent1", "/queue/?%00=1"),
])
def test_a_nul_in_a_page_query_is_a_plain_400(cast, client, client_for, user, url):
    response = (client_for(getattr(cast, user)) if user else client).get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain") and "NUL character" in response.content.decode()


@pytest.mark.parametrize("url", ["/api/v1/sla/clocks/?state=%00", "/api/v1/tickets/?q=%00", "/api/v1/tickets/?%00"])
def test_a_nul_in_an_api_query_is_a_400_in_the_api_error_shape(cast, api, url):
    response = api(cast.agent1).get(url)
    assert response.status_code == 400
    assert response.json() == {"detail": response.json()["detail"], "code": "invalid_characters"}
    assert "NUL character" in response.json()["detail"]


@pytest.mark.parametrize(("body", "content_type"), [
    (json.dumps({"kind": "incident", "title": "VPN\u0000 drops"}), "application/json"),
    ('{"kind": "incident", "title": "VPN\\\\\\u0000 drops"}', "application/json"),
    ("kind=incident&title=VPN%00drops", "application/x-www-form-urlencoded"),
])
def test_a_nul_in_an_api_body_is_a_400_and_creates_nothing(cast, api, body, content_type):
    response = api(cast.agent1).post("/api/v1/tickets/", body, content_type=content_type)
    assert response.status_code == 400 and response.json()["code"] == "invalid_characters"
    assert not Ticket.objects.exists()


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(cast, api):
    body = json.dumps({"kind": "incident", "title": "path C:\\u0000"})  # backslash, then the text u0000
    response = api(cast.agent1).post("/api/v1/tickets/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["title"] == "path C:\\u0000"


def test_a_nul_in_a_page_form_is_a_plain_400(cast, client_for):
    response = client_for(cast.agent1).post("/tickets/new/", {"kind": "incident", "title": "a\x00b"})
    assert response.status_code == 400 and "NUL character" in response.content.decode()
    assert not Ticket.objects.exists()


def test_an_oversized_api_body_is_a_413_in_the_api_error_shape(cast, api, settings):
    body = json.dumps({"kind": "incident", "title": "big", "description": "x" * 10_000_000})
    response = api(cast.agent1).post("/api/v1/tickets/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} KB" in response.json()["detail"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("encoding", ["multipart", "form"])
def test_an_incident_can_be_created_form_encoded(cast, api, encoding):
    client = api(cast.agent1)
    if encoding == "multipart":
        response = client.post("/api/v1/tickets/", {"kind": "incident", "title": "Printer jams", "impact": 1})
    else:
        response = client.post("/api/v1/tickets/", "kind=incident&title=Printer+jams&impact=1",
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201, response.json()
    assert response.json()["key"] == "INC-1" and response.json()["impact"] == 1


def test_a_form_encoded_problem_keeps_its_known_error_flag(cast, api):
    response = api(cast.agent1).post("/api/v1/tickets/", {"kind": "problem", "title": "Leak", "known_error": "true"})
    assert response.status_code == 201, response.json()
    assert response.json()["known_error"] is True


def test_a_real_value_of_another_kinds_field_is_still_refused_in_a_form(cast, api):
    response = api(cast.agent1).post("/api/v1/tickets/", {"kind": "incident", "title": "x", "known_error": "true"})
    assert response.status_code == 400 and "known_error" in response.json()["fields"]
