"""The attachments API: list and add a ticket's files, read one's metadata and content, remove it; refusals are
400 or 413 with what to fix, and a file the caller may not see is a 404; all in the OpenAPI schema."""
import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.tracker.test_attachments import PNG, upload
from tracker import services
from tracker.models import Attachment


@pytest.fixture
def ticket(cast):
    return services.ticket_create(actor=cast.agent1, kind="incident", title="Payslip PDF is blank",
                                  requester=cast.requester, service=cast.services["payroll"], group=cast.l1)


def post(client, ticket, **data):
    return client.post(f"/api/v1/tickets/{ticket.key}/attachments/", data, format="multipart")


def test_an_agent_adds_a_file_and_reads_it_back(cast, api, ticket):
    client = api(cast.agent1)
    response = post(client, ticket, file=upload(), internal="true")
    assert response.status_code == 201, response.data
    body = response.json()
    assert body["name"] == "screen.png" and body["size"] == len(PNG) and body["internal"] is True
    assert body["ticket"] == ticket.key and body["uploaded_by"]["username"] == "lena"
    assert body["download_url"] == f"http://testserver/api/v1/attachments/{body['id']}/content/"
    assert client.get(f"/api/v1/attachments/{body['id']}/").json()["name"] == "screen.png"
    content = client.get(f"/api/v1/attachments/{body['id']}/content/")
    assert content.status_code == 200 and b"".join(content.streaming_content) == PNG
    assert content["X-Content-Type-Options"] == "nosniff" and "sandbox" in content["Content-Security-Policy"]
    listed = client.get(f"/api/v1/tickets/{ticket.key}/attachments/").json()
    assert [f["name"] for f in listed] == ["screen.png"]


def test_a_file_goes_with_a_comment_of_the_same_ticket_only(cast, api, ticket):
    comment = services.ticket_comment(ticket=ticket, actor=cast.requester, body="see attached")
    other = services.ticket_create(actor=cast.agent1, kind="incident", title="Other")
    alien = services.ticket_comment(ticket=other, actor=cast.agent1, body="elsewhere")
    client = api(cast.requester)
    assert post(client, ticket, file=upload(), comment=comment.pk).json()["comment"] == comment.pk
    response = post(client, ticket, file=upload(), comment=alien.pk)
    assert response.status_code == 400 and f"has no comment {alien.pk}" in response.json()["detail"]


@pytest.mark.parametrize(("data", "status", "says"), [
    ({}, 400, "multipart part named file"),
    ({"file": SimpleUploadedFile("empty.txt", b"", "text/plain")}, 400, "empty.txt is empty"),
    ({"file": SimpleUploadedFile("setup.exe", b"MZ", "application/octet-stream")}, 400, "zip file"),
    ({"file": SimpleUploadedFile("big.log", b"x" * 2048, "text/plain")}, 413, "at most"),
    ({"file": "not a file"}, 400, "multipart part named file"),
])
def test_a_refused_file_says_what_to_fix_and_nothing_is_written(cast, api, ticket, settings, data, status, says):
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 1024
    response = post(api(cast.agent1), ticket, **data)
    assert response.status_code == status and says in response.json()["detail"], response.json()
    assert not Attachment.objects.exists()


def test_a_requester_never_sees_an_internal_file_nor_marks_one_internal(cast, api, ticket):
    [internal] = services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload("raw.png")], internal=True)
    [public] = services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload("pub.png")])
    client = api(cast.requester)
    assert [f["name"] for f in client.get(f"/api/v1/tickets/{ticket.key}/attachments/").json()] == ["pub.png"]
    for url in (f"/api/v1/attachments/{internal.pk}/", f"/api/v1/attachments/{internal.pk}/content/"):
        assert client.get(url).status_code == 404, url
    assert client.delete(f"/api/v1/attachments/{internal.pk}/").status_code == 404
    assert post(client, ticket, file=upload(), internal="true").status_code == 403
    stranger = api(cast.other_requester)
    assert stranger.get(f"/api/v1/attachments/{public.pk}/").status_code == 404
    assert stranger.get(f"/api/v1/tickets/{ticket.key}/attachments/").status_code == 404


def test_removing_follows_the_same_rules(cast, api, ticket):
    [agents] = services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload("agent.png")])
    [theirs] = services.attachments_add(ticket=ticket, actor=cast.requester, files=[upload("mine.png")])
    client = api(cast.requester)
    assert client.delete(f"/api/v1/attachments/{agents.pk}/").status_code == 403
    assert client.delete(f"/api/v1/attachments/{theirs.pk}/").status_code == 204
    assert list(Attachment.objects.values_list("name", flat=True)) == ["agent.png"]


def test_the_attachment_endpoints_are_in_the_schema(cast, client):
    client.force_login(cast.agent1)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = schema["paths"]
    upload_body = paths["/api/v1/tickets/{key}/attachments/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_body
    assert {"get", "delete"} <= set(paths["/api/v1/attachments/{id}/"])
    assert "application/octet-stream" in paths["/api/v1/attachments/{id}/content/"]["get"]["responses"]["200"][
        "content"]
