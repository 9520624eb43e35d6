"""The knowledge API: audiences, the optimistic lock, review by another agent, versions and diffs."""

from itsm.choices import ArticleAudience, ArticleState
from itsm.models import ArticleVersion, KnowledgeArticle

from .test_knowledge import publish


def test_anonymous_callers_search_public_articles_with_snippets_and_never_internal_ones(cast, api):
    public = publish(cast)
    publish(cast, title="VPN gateway failover runbook", body="Fail the VPN over.", audience=ArticleAudience.INTERNAL)
    rows = api().get("/api/v1/articles/", {"q": "vpn keeps disconnecting"}).json()
    assert [r["id"] for r in rows] == [public.pk]
    assert "<mark>VPN</mark>" in rows[0]["snippet"] and "**" not in rows[0]["snippet"]
    staff_rows = api(cast.agent1).get("/api/v1/articles/", {"q": "vpn"}).json()
    assert len(staff_rows) == 2


def test_internal_and_draft_articles_are_not_there_for_requesters(cast, api):
    internal = publish(cast, audience=ArticleAudience.INTERNAL)
    assert api(cast.requester).get(f"/api/v1/articles/{internal.pk}/").status_code == 404
    assert api().get(f"/api/v1/articles/{internal.pk}/").status_code == 404
    assert api(cast.agent1).get(f"/api/v1/articles/{internal.pk}/").status_code == 200


def test_an_agent_writes_another_publishes_and_the_author_is_refused(cast, api):
    lena, liam = api(cast.agent1), api(cast.agent2)
    created = lena.post("/api/v1/articles/", {"title": "Printer jams", "body": "Open tray 2.",
                                              "services": [cast.services["mail"].pk]}, format="json")
    assert created.status_code == 201 and created["ETag"] == '"1"'
    pk = created.json()["id"]
    refused = liam.post(f"/api/v1/articles/{pk}/publish/")
    assert refused.status_code == 409 and "review" in refused.json()["detail"]
    assert lena.post(f"/api/v1/articles/{pk}/submit/").json()["state"] == ArticleState.REVIEW
    own = lena.post(f"/api/v1/articles/{pk}/publish/")
    assert own.status_code == 403
    assert liam.post(f"/api/v1/articles/{pk}/publish/").json()["state"] == ArticleState.PUBLISHED


def test_an_edit_needs_the_version_and_a_stale_one_answers_412(cast, api):
    lena = api(cast.agent1)
    pk = lena.post("/api/v1/articles/", {"title": "Printer jams", "body": "Open tray 2."}, format="json").json()["id"]
    edit = {"title": "Printer jams", "body": "Open tray 3.", "note": "New model"}
    assert lena.put(f"/api/v1/articles/{pk}/", edit, format="json").status_code == 400  # no version
    saved = lena.put(f"/api/v1/articles/{pk}/", edit, format="json", HTTP_IF_MATCH='"1"')
    assert saved.status_code == 200 and saved["ETag"] == '"2"'
    stale = lena.put(f"/api/v1/articles/{pk}/", {**edit, "body": "Open tray 1."}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert ArticleVersion.objects.filter(article_id=pk).count() == 2
    versions = lena.get(f"/api/v1/articles/{pk}/versions/").json()
    assert [v["number"] for v in versions] == [2, 1] and versions[0]["note"] == "New model"
    diff = lena.get(f"/api/v1/articles/{pk}/diff/", {"a": 1, "b": 2}).json()
    assert [(d["tone"], d["text"]) for d in diff if d["tone"] != "same"] == [
        ("removed", "Open tray 2."), ("added", "Open tray 3.")]


def test_requesters_may_not_write_or_read_versions(cast, api):
    article = publish(cast)
    alice = api(cast.requester)
    assert alice.post("/api/v1/articles/", {"title": "x", "body": "y"}, format="json").status_code == 403
    assert alice.get(f"/api/v1/articles/{article.pk}/versions/").status_code == 404
    assert alice.post(f"/api/v1/articles/{article.pk}/retire/").status_code == 403
    assert KnowledgeArticle.objects.get(pk=article.pk).state == ArticleState.PUBLISHED


def test_retired_articles_leave_the_api_search(cast, api):
    article = publish(cast)
    assert api(cast.agent2).post(f"/api/v1/articles/{article.pk}/retire/").status_code == 200
    assert api().get("/api/v1/articles/", {"q": "vpn"}).json() == []
