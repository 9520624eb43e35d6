"""The VCS webhook: signed deliveries of GitHub and GitLab become code links, timeline rows and fixes, once."""
import json

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from devflow.models import CodeLink, Repository, VcsDelivery
from devflow.services import vcs
from tests.vcs_helpers import github_pull_request, github_push, github_signature, signed_github_post
from tests.workers import at_once
from tracker import services
from tracker.choices import EventKind, Kind, Status
from tracker.models import TicketEvent

GITLAB_PUSH = {
    "object_kind": "push", "ref": "refs/heads/main", "user_username": "devon",
    "project": {"path_with_namespace": "acme/hr-portal", "web_url": "https://gitlab.example.com/acme/hr-portal"},
    "commits": [{
        "id": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
        "message": "Trim the employee search before querying (INC-{inc})\n\nSearch with trailing spaces found nobody.",
        "timestamp": "2026-12-01T09:12:00+00:00",
        "url": "https://gitlab.example.com/acme/hr-portal/-/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
        "author": {"name": "Devon Reed", "email": "devon@example.com"},
    }],
    "total_commits_count": 1,
}
GITLAB_MERGE = {
    "object_kind": "merge_request", "user": {"name": "Devon Reed", "username": "devon"},
    "project": {"path_with_namespace": "acme/hr-portal"},
    "object_attributes": {
        "iid": 31, "title": "Payslip PDF shows the right month", "description": "Closes {defect}.",
        "state": "merged", "action": "merge", "url": "https://gitlab.example.com/acme/hr-portal/-/merge_requests/31",
        "source_branch": "fix/payslip-month", "target_branch": "main",
    },
}


@pytest.fixture
def repo(db):
    return Repository.objects.create(name="acme/payroll", provider="github", secret="s3cret-gh",
                                     url="https://github.com/acme/payroll")


@pytest.fixture
def gitlab_repo(db):
    return Repository.objects.create(name="acme/hr-portal", provider="gitlab", secret="s3cret-gl")


def _defect(cast, status=Status.IN_PROGRESS):
    defect = services.ticket_create(actor=cast.engineer, kind=Kind.DEFECT, title="Payslip shows last month",
                                    group=cast.l3, severity="s2")
    path = {Status.TRIAGED: [Status.TRIAGED], Status.IN_PROGRESS: [Status.TRIAGED, Status.IN_PROGRESS],
            Status.IN_REVIEW: [Status.TRIAGED, Status.IN_PROGRESS, Status.IN_REVIEW], Status.NEW: []}[status]
    for to in path:
        services.ticket_transition(ticket=defect, to=to, actor=cast.engineer, values={"severity": "s2"})
    return defect


def _counts():
    """Rows in every table of the project (the apps', the users', the sessions')."""
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def _post_gitlab(client, repository, event, payload, *, token=None, uuid="d1"):
    return client.generic("POST", f"/api/v1/vcs/{repository.name}/webhook/", json.dumps(payload),
                          content_type="application/json",
                          headers={"X-Gitlab-Token": token or repository.secret, "X-Gitlab-Event": event,
                                   "X-Gitlab-Event-UUID": uuid})


def test_a_push_links_each_commit_to_the_tickets_it_names(cast, repo):
    defect = _defect(cast)
    incident = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payslips wrong")
    payload = github_push(("a1b2c3d4e5f6", f"Use the pay period's month on payslips ({defect.key.lower()}, "
                                           f"{incident.key})"), ("ffee00112233", "Unrelated tidy-up; XDEF-1"))
    response = signed_github_post(APIClient(), repo, "push", payload, "del-1")
    assert response.status_code == 200, response.content
    assert response.json()["tickets"] == [defect.key, incident.key]
    link = CodeLink.objects.get(ticket=defect)
    assert (link.kind, link.ref, link.author, link.state) == ("commit", "a1b2c3d4e5f6", "dana", "pushed")
    row = TicketEvent.objects.get(ticket=defect, kind=EventKind.CODE)
    assert row.note.startswith("Commit a1b2c3d by dana: Use the pay period's month")
    assert CodeLink.objects.count() == 2


def test_a_bad_signature_is_refused_and_nothing_is_stored(cast, repo):
    defect = _defect(cast)
    before = _counts()
    payload = json.dumps(github_push(("a1b2c3", f"fixes {defect.key}"))).encode()
    client = APIClient()
    for signature in ("", "sha256=" + "0" * 64, github_signature("wrong", payload)):
        response = client.generic("POST", f"/api/v1/vcs/{repo.pk}/webhook/", payload,
                                  content_type="application/json",
                                  headers={"X-Hub-Signature-256": signature, "X-GitHub-Event": "push",
                                           "X-GitHub-Delivery": "x1"})
        assert response.status_code == 401
        assert "signature" in response.json()["detail"]
    assert _counts() == before


def test_an_unknown_repository_answers_as_a_bad_signature(db):
    response = APIClient().post("/api/v1/vcs/nobody/nothing/webhook/", {}, format="json")
    assert response.status_code == 401


def test_an_inactive_repository_is_refused(cast, repo):
    repo.active = False
    repo.save()
    response = signed_github_post(APIClient(), repo, "push", github_push(("a1", "x")), "d")
    assert response.status_code == 403 and not VcsDelivery.objects.exists()


def test_a_replayed_delivery_has_no_second_effect(cast, repo):
    defect = _defect(cast)
    payload = github_push(("a1b2c3d4", f"Payslip month ({defect.key})"))
    assert signed_github_post(APIClient(), repo, "push", payload, "same-id").json()["status"] == "processed"
    events = TicketEvent.objects.count()
    again = signed_github_post(APIClient(), repo, "push", payload, "same-id")
    assert again.status_code == 200 and again.json()["status"] == "already processed"
    assert TicketEvent.objects.count() == events
    assert VcsDelivery.objects.count() == 1 and CodeLink.objects.count() == 1


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not valid JSON"),
    (json.dumps({"ref": "refs/heads/main"}).encode(), "commits"),
    (json.dumps({"commits": [{"id": "a1"}]}).encode(), "commits[0].message"),
    (json.dumps([1, 2]).encode(), "JSON object"),
])
def test_a_malformed_payload_is_refused_with_a_message(cast, repo, body, message):
    response = APIClient().generic("POST", f"/api/v1/vcs/{repo.pk}/webhook/", body, content_type="application/json",
                                   headers={"X-Hub-Signature-256": github_signature(repo.secret, body),
                                            "X-GitHub-Event": "push", "X-GitHub-Delivery": "m1"})
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not VcsDelivery.objects.exists()


def test_a_ping_is_ignored(cast, repo):
    response = signed_github_post(APIClient(), repo, "ping", {"zen": "Keep it logically awesome."}, "p1")
    assert response.status_code == 202 and response.json()["status"] == "ignored"
    assert not VcsDelivery.objects.exists()


@pytest.mark.parametrize("status", [Status.IN_PROGRESS, Status.IN_REVIEW])
def test_a_merged_pull_request_that_fixes_a_defect_moves_it_to_fixed(cast, repo, status):
    defect = _defect(cast, status)
    payload = github_pull_request(7, "Payslip shows the pay period's month", f"Fixes {defect.key}.")
    response = signed_github_post(APIClient(), repo, "pull_request", payload, "pr-7")
    assert response.json()["fixed"] == [defect.key]
    defect.refresh_from_db()
    assert defect.status == Status.FIXED
    assert defect.resolution_note == "Fixed by pull request #7 (Payslip shows the pay period's month)"
    link = CodeLink.objects.get(ticket=defect)
    assert (link.kind, link.ref, link.state, link.fixes) == ("pull_request", "7", "merged", True)
    assert TicketEvent.objects.filter(ticket=defect, kind=EventKind.CODE,
                                      note__startswith="Pull request #7 merged").exists()


def test_a_fix_of_a_defect_not_in_progress_only_links_it_with_a_note(cast, repo):
    defect = _defect(cast, Status.TRIAGED)
    signed_github_post(APIClient(), repo, "pull_request", github_pull_request(8, f"closes {defect.key}"), "pr-8")
    defect.refresh_from_db()
    assert defect.status == Status.TRIAGED and CodeLink.objects.filter(ticket=defect).exists()
    assert TicketEvent.objects.filter(ticket=defect, field="fix", note__contains="not moved").exists()


@pytest.mark.parametrize("action, merged", [("opened", False), ("closed", False)])
def test_a_pull_request_not_merged_only_links(cast, repo, action, merged):
    defect = _defect(cast)
    payload = github_pull_request(9, f"Fixes {defect.key}", action=action, merged=merged)
    response = signed_github_post(APIClient(), repo, "pull_request", payload, f"pr-9-{action}")
    assert response.json() == {"status": "processed", "tickets": [defect.key], "fixed": []}
    defect.refresh_from_db()
    assert defect.status == Status.IN_PROGRESS
    assert CodeLink.objects.get(ticket=defect).state == ("open" if action == "opened" else "closed")


def test_a_pull_request_opened_then_merged_updates_one_link(cast, repo):
    defect = _defect(cast)
    client = APIClient()
    signed_github_post(client, repo, "pull_request", github_pull_request(
        10, "Payslip month", f"fixes {defect.key}", action="opened", merged=False), "a")
    signed_github_post(client, repo, "pull_request", github_pull_request(10, "Payslip month", f"fixes {defect.key}"),
                       "b")
    assert CodeLink.objects.get(ticket=defect).state == "merged"
    assert TicketEvent.objects.filter(ticket=defect, kind=EventKind.CODE, field="pull_request").count() == 2


def test_gitlab_push_and_merge_request(cast, gitlab_repo):
    defect = _defect(cast, Status.IN_REVIEW)
    incident = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="HR search finds nobody")
    client = APIClient()
    push = json.loads(json.dumps(GITLAB_PUSH).replace("{inc}", str(incident.number)))
    response = _post_gitlab(client, gitlab_repo, "Push Hook", push, uuid="gl-1")
    assert response.status_code == 200 and response.json()["tickets"] == [incident.key]
    assert CodeLink.objects.get(ticket=incident).author == "Devon Reed"
    merge = json.loads(json.dumps(GITLAB_MERGE).replace("{defect}", defect.key))
    response = _post_gitlab(client, gitlab_repo, "Merge Request Hook", merge, uuid="gl-2")
    assert response.json()["fixed"] == [defect.key]
    defect.refresh_from_db()
    assert defect.status == Status.FIXED and defect.resolution_note.startswith("Fixed by pull request #31")


def test_gitlab_with_a_wrong_token_stores_nothing(cast, gitlab_repo):
    before = _counts()
    response = _post_gitlab(APIClient(), gitlab_repo, "Push Hook", GITLAB_PUSH, token="guess")
    assert response.status_code == 401 and _counts() == before


def test_gitlab_without_a_delivery_id_is_refused(cast, gitlab_repo):
    response = _post_gitlab(APIClient(), gitlab_repo, "Push Hook", GITLAB_PUSH, uuid="")
    assert response.status_code == 400 and "delivery id" in response.json()["detail"]


def test_keys_are_found_case_insensitive_and_word_bounded():
    assert vcs.keys_in("def-12 and INC-040, not XDEF-3 nor DEF-4a; PRB-5.") == ["DEF-12", "INC-40", "PRB-5"]
    assert vcs.fixed_keys_in("Fixes DEF-1, closes: inc-2, resolved PRB-3, fixing DEF-4, prefix DEF-5") == {
        "DEF-1", "INC-2", "PRB-3"}


def test_code_links_of_a_ticket_in_the_api(cast, repo, api):
    defect = _defect(cast)
    signed_github_post(APIClient(), repo, "push", github_push(("abcdef123456", f"{defect.key}: month")), "c1")
    rows = api(cast.engineer).get(f"/api/v1/tickets/{defect.key}/code/").json()
    assert [(r["kind"], r["ref"], r["repository"]) for r in rows] == [("commit", "abcdef123456", "acme/payroll")]
    assert api(cast.requester).get(f"/api/v1/tickets/{defect.key}/code/").status_code in (403, 404)


# --- the repositories page and the ticket page ----------------------------------------------------------------

def test_an_admin_registers_a_repository_and_sees_its_secret_once(cast, client_for):
    client = client_for(cast.admin)
    response = client.post("/dev/repositories/", {"name": "acme/web-shop", "provider": "gitlab", "url": ""})
    assert response.status_code == 201
    repo = Repository.objects.get(name="acme/web-shop")
    assert repo.secret and repo.secret in response.content.decode()
    assert repo.secret not in client.get("/dev/repositories/").content.decode()
    response = client.post(f"/dev/repositories/{repo.pk}/secret/")
    old = repo.secret
    repo.refresh_from_db()
    assert repo.secret != old and repo.secret in response.content.decode()


def test_a_duplicate_name_is_refused_in_place_keeping_what_was_typed(cast, client_for, repo):
    response = client_for(cast.admin).post("/dev/repositories/", {"name": "ACME/payroll", "provider": "github",
                                                                  "url": "https://example.com/x"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "already registered" in page and 'value="https://example.com/x"' in page
    assert Repository.objects.count() == 1


def test_only_admins_manage_repositories(cast, client_for, repo):
    engineer = client_for(cast.engineer)
    assert "acme/payroll" in engineer.get("/dev/repositories/").content.decode()
    engineer.post("/dev/repositories/", {"name": "acme/other", "provider": "github"})
    engineer.post(f"/dev/repositories/{repo.pk}/secret/")
    assert Repository.objects.count() == 1 and Repository.objects.get().secret == "s3cret-gh"


def test_an_admin_turns_a_repository_off(cast, client_for, repo):
    response = client_for(cast.admin).post(f"/dev/repositories/{repo.pk}/", {
        "name": repo.name, "provider": "github", "url": repo.url})
    assert response.status_code == 302
    repo.refresh_from_db()
    assert repo.active is False


def test_the_defect_page_shows_its_code_and_timeline(cast, client_for, repo):
    defect = _defect(cast)
    signed_github_post(APIClient(), repo, "pull_request",
                       github_pull_request(12, "Payslip month", f"fixes {defect.key}"), "pg-1")
    page = client_for(cast.engineer).get(f"/tickets/{defect.key}/").content.decode()
    assert "PR merged" in page and "#12" in page
    assert "Pull request #12 merged: Payslip month" in page


def test_the_repositories_api_never_returns_a_secret_after_creation(cast, api, repo):
    admin = api(cast.admin)
    created = admin.post("/api/v1/repositories/", {"name": "acme/hr", "provider": "gitlab"}, format="json")
    assert created.status_code == 201 and created.json()["secret"]
    listed = admin.get("/api/v1/repositories/").json()
    assert all("secret" not in r for r in listed)
    assert api(cast.engineer).post("/api/v1/repositories/", {"name": "a/b", "provider": "github"},
                                   format="json").status_code == 403
    dup = admin.post("/api/v1/repositories/", {"name": "acme/payroll", "provider": "github"}, format="json")
    assert dup.status_code == 400 and "already registered" in dup.json()["detail"]
    again = admin.post(f"/api/v1/repositories/{repo.pk}/regenerate-secret/")
    assert again.status_code == 200 and again.json()["secret"] != "s3cret-gh"
    patched = admin.patch(f"/api/v1/repositories/{repo.pk}/", {"active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["active"] is False


# --- concurrency (PostgreSQL, threads) -----------------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_delivery_arriving_twice_at_once_has_one_effect(cast):
    repo = Repository.objects.create(name="acme/payroll", provider="github", secret="s3cret-gh")
    defect = _defect(cast)
    payload = github_pull_request(21, "Payslip month", f"Fixes {defect.key}")
    answers = at_once(lambda: vcs.vcs_delivery_receive(repository=repo, delivery_id="race-1", event="pull_request",
                                                     payload=payload)["status"])
    assert sorted(answers) == ["already processed"] * 3 + ["processed"]
    defect.refresh_from_db()
    assert defect.status == Status.FIXED
    assert VcsDelivery.objects.count() == 1 and CodeLink.objects.count() == 1
    assert TicketEvent.objects.filter(ticket=defect, kind=EventKind.CODE).count() == 1
    assert TicketEvent.objects.filter(ticket=defect, field="status", new="fixed").count() == 1
