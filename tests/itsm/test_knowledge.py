"""Knowledge management's rules: versions, review by someone other than the author, the optimistic lock, audiences,
retirement, drafting from a ticket, uses on tickets, deflections and their rates."""

from datetime import timedelta

import pytest
from django.utils import timezone

from itsm import selectors as q
from itsm.choices import ArticleAudience, ArticleState, ArticleUseKind
from itsm.models import ArticleUse, ArticleVersion, Deflection, KnowledgeArticle
from itsm.search import search
from itsm.services import knowledge as kb
from tracker import services
from tracker.choices import Kind, Status
from tracker.errors import AccessDenied, StaleVersion, TransitionRefused, ValidationFailed
from tracker.models import Ticket

VPN_BODY = "Update the VPN client, then restart.\n\nOn hotel Wi-Fi switch the client to **TCP mode**."


def publish(cast, *, title="VPN disconnects every few minutes", body=VPN_BODY, audience=ArticleAudience.PUBLIC,
            author=None, reviewer=None, services=()):
    """An article written by lena (or `author`), sent for review by its author and published by liam."""
    article = kb.article_create(actor=author or cast.agent1, title=title, body=body, audience=audience,
                                services=services)
    kb.article_submit(article=article, actor=author or cast.agent1)
    return kb.article_publish(article=article, actor=reviewer or cast.agent2)


def test_a_new_article_is_a_draft_with_its_first_version(cast):
    article = kb.article_create(actor=cast.agent1, title="Reset a password", body="Use **Forgot password**.",
                                services=[cast.services["mail"]])
    assert article.state == ArticleState.DRAFT and article.version == 1 and article.author == cast.agent1
    assert list(article.versions.values_list("number", "title")) == [(1, "Reset a password")]
    assert list(article.services.all()) == [cast.services["mail"]]


def test_requesters_may_not_write_articles(cast):
    with pytest.raises(AccessDenied):
        kb.article_create(actor=cast.requester, title="Mine", body="Text")


def test_an_article_without_title_or_text_is_refused_naming_the_fields(cast):
    with pytest.raises(ValidationFailed) as exc:
        kb.article_create(actor=cast.agent1, title=" ", body="")
    assert set(exc.value.fields) == {"title", "body"}


def test_publishing_a_draft_that_skipped_review_is_refused(cast):
    article = kb.article_create(actor=cast.agent1, title="Printer jams", body="Open tray 2.")
    with pytest.raises(TransitionRefused, match="send it for review first"):
        kb.article_publish(article=article, actor=cast.agent2)
    article.refresh_from_db()
    assert article.state == ArticleState.DRAFT and article.published_at is None


def test_the_author_may_not_publish_their_own_text(cast):
    article = kb.article_create(actor=cast.agent1, title="Printer jams", body="Open tray 2.")
    kb.article_submit(article=article, actor=cast.agent1)
    with pytest.raises(AccessDenied, match="another agent"):
        kb.article_publish(article=article, actor=cast.agent1)
    assert KnowledgeArticle.objects.get(pk=article.pk).state == ArticleState.REVIEW


def test_whoever_edited_the_text_under_review_may_not_publish_it_either(cast):
    article = kb.article_create(actor=cast.agent1, title="Printer jams", body="Open tray 2.")
    kb.article_update(article=article, actor=cast.agent2, version=1, title="Printer jams", body="Open tray 3.",
                      audience=ArticleAudience.PUBLIC, note="Tray 3 on the new model")
    kb.article_submit(article=article, actor=cast.agent1)
    with pytest.raises(AccessDenied):
        kb.article_publish(article=article, actor=cast.agent2)
    published = kb.article_publish(article=article, actor=cast.engineer)
    assert published.state == ArticleState.PUBLISHED and published.reviewed_by == cast.engineer
    assert published.body == "Open tray 3." and published.version == 2


def test_another_agent_publishes_after_review(cast):
    article = publish(cast)
    assert article.state == ArticleState.PUBLISHED and article.reviewed_by == cast.agent2
    assert article.submitted_by == cast.agent1 and article.published_at is not None


def test_a_stale_version_is_refused_and_nothing_is_written(cast):
    article = kb.article_create(actor=cast.agent1, title="Printer jams", body="Open tray 2.")
    kb.article_update(article=article, actor=cast.agent2, version=1, title="Printer jams", body="Open tray 3.",
                      audience=ArticleAudience.PUBLIC)
    with pytest.raises(StaleVersion) as exc:
        kb.article_update(article=article, actor=cast.agent1, version=1, title="Printer jams",
                          body="Open tray 1.", audience=ArticleAudience.PUBLIC)
    assert exc.value.status == 412
    assert ArticleVersion.objects.filter(article=article).count() == 2
    assert KnowledgeArticle.objects.get(pk=article.pk).body == "Open tray 3."


def test_editing_a_published_article_keeps_the_published_text_live_until_the_edit_is_reviewed(cast):
    article = publish(cast)
    kb.article_update(article=article, actor=cast.agent1, version=1, title="VPN drops every few minutes",
                      body="Install client 5.2.", audience=ArticleAudience.PUBLIC, note="Client 5.2 fixes it")
    article.refresh_from_db()
    assert article.state == ArticleState.DRAFT and kb.is_live(article)
    assert article.title == "VPN disconnects every few minutes" and article.version == 1
    assert kb.pending_version(article).number == 2
    assert [h.article.pk for h in search(text="vpn disconnects", user=cast.requester)] == [article.pk]
    kb.article_submit(article=article, actor=cast.agent1)
    kb.article_publish(article=article, actor=cast.engineer)
    article.refresh_from_db()
    assert article.title == "VPN drops every few minutes" and article.version == 2
    assert kb.pending_version(article) is None


def test_internal_articles_are_hidden_from_requesters_and_anonymous_readers(cast, client):
    internal = publish(cast, title="VPN gateway failover runbook", body="Fail over the VPN gateway.",
                       audience=ArticleAudience.INTERNAL)
    assert search(text="vpn gateway", user=cast.requester) == []
    assert search(text="vpn gateway", user=None) == []
    assert [h.article for h in search(text="vpn gateway", user=cast.agent1)] == [internal]
    assert client.get(f"/kb/{internal.pk}/").status_code == 404


def test_retired_articles_are_hidden_from_search_but_kept(cast, client_for):
    article = publish(cast)
    kb.article_retire(article=article, actor=cast.agent2)
    assert search(text="vpn", user=cast.requester) == [] and search(text="vpn", user=cast.agent1) == []
    assert client_for(cast.requester).get(f"/kb/{article.pk}/").status_code == 404
    assert client_for(cast.agent1).get(f"/kb/{article.pk}/").status_code == 200
    assert ArticleVersion.objects.filter(article=article).exists()


def test_drafts_are_not_found_by_readers(cast):
    kb.article_create(actor=cast.agent1, title="VPN disconnects", body="Draft text")
    assert search(text="vpn", user=cast.requester) == [] and search(text="vpn", user=cast.agent1) == []


def resolved_problem(cast):
    problem = services.ticket_create(actor=cast.agent2, kind=Kind.PROBLEM, title="Payslips blank after upgrade",
                                     description="Payslips show zero.", service=cast.services["payroll"])
    Ticket.objects.filter(pk=problem.pk).update(status=Status.RESOLVED, root_cause="Cache not warmed",
                                                workaround="Reload the page after 06:00",
                                                resolution_note="Warm the cache in the upgrade script.")
    problem.refresh_from_db()
    return problem


def test_an_article_is_drafted_from_a_resolved_ticket(cast):
    problem = resolved_problem(cast)
    article = kb.article_from_ticket(ticket=problem, actor=cast.agent1)
    assert article.title == problem.title and article.source_ticket == problem
    assert article.audience == ArticleAudience.INTERNAL and article.state == ArticleState.DRAFT
    assert "Payslips show zero." in article.body and "Reload the page after 06:00" in article.body
    assert "Warm the cache" in article.body and "Cache not warmed" in article.body
    assert list(article.services.all()) == [cast.services["payroll"]]
    assert ArticleUse.objects.filter(article=article, ticket=problem, how=ArticleUseKind.DRAFTED).exists()


def test_an_open_ticket_cannot_be_drafted_from(cast):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Printer jams")
    with pytest.raises(TransitionRefused):
        kb.article_from_ticket(ticket=ticket, actor=cast.agent1)
    assert not KnowledgeArticle.objects.exists()


def test_a_public_reply_carrying_an_article_link_records_the_use(cast):
    article = publish(cast)
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN drops")
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body=f"See [the article](http://x/kb/{article.pk}/)")
    assert ArticleUse.objects.filter(article=article, ticket=ticket, how=ArticleUseKind.REPLIED,
                                     actor=cast.agent1).count() == 1
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body=f"Again: /kb/{article.pk}/")
    assert ArticleUse.objects.filter(how=ArticleUseKind.REPLIED).count() == 1  # once per ticket


def test_linking_an_article_as_the_answer_is_recorded_once(cast):
    article = publish(cast)
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN drops")
    kb.article_use(article=article, ticket=ticket, actor=cast.agent1, how=ArticleUseKind.LINKED)
    kb.article_use(article=article, ticket=ticket, actor=cast.agent2, how=ArticleUseKind.LINKED)
    assert ArticleUse.objects.filter(how=ArticleUseKind.LINKED).count() == 1


def test_a_deflection_records_the_article_service_user_and_query_and_no_ticket(cast):
    article = publish(cast)
    before = Ticket.objects.count()
    kb.deflection_record(article=article, user=cast.requester, service=cast.services["mail"], query="vpn drops")
    d = Deflection.objects.get()
    assert (d.article, d.service, d.user, d.query) == (article, cast.services["mail"], cast.requester, "vpn drops")
    assert Ticket.objects.count() == before


def test_an_internal_article_cannot_deflect(cast):
    internal = publish(cast, audience=ArticleAudience.INTERNAL)
    with pytest.raises(TransitionRefused):
        kb.deflection_record(article=internal, user=cast.requester)
    assert not Deflection.objects.exists()


def test_deflection_rates_per_service_and_article_in_three_queries(cast, django_assert_num_queries):
    vpn = publish(cast, services=[cast.services["mail"]])
    payslip = publish(cast, title="Payslip blank", body="Wait for the 25th.")
    KnowledgeArticle.objects.filter(pk=vpn.pk).update(views=10)
    KnowledgeArticle.objects.filter(pk=payslip.pk).update(views=4)
    mail, payroll = cast.services["mail"], cast.services["payroll"]
    for _ in range(3):
        kb.deflection_record(article=vpn, user=cast.requester, service=mail)
    kb.deflection_record(article=payslip, user=None, service=payroll)
    services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Mail down", service=mail)
    services.ticket_create(actor=cast.agent1, requester=cast.requester, kind=Kind.INCIDENT, title="By the desk",
                           service=mail)  # raised by the desk for her: not a portal ticket
    now = timezone.now()
    with django_assert_num_queries(3):
        rates = q.deflection_rates(start=now - timedelta(days=1), end=now + timedelta(minutes=1))
    by_service = {r["label"]: r for r in rates.by_service}
    assert (by_service["Mail"]["deflected"], by_service["Mail"]["raised"], by_service["Mail"]["rate"]) == (3, 1, "75")
    assert (by_service["Payroll"]["deflected"], by_service["Payroll"]["rate"]) == (1, "100")
    by_article = {r["label"]: r for r in rates.by_article}
    assert by_article[vpn.title]["rate"] == "30" and by_article["Payslip blank"]["rate"] == "25"
    assert rates.total == 4


def test_the_version_diff_shows_added_and_removed_lines(cast):
    article = kb.article_create(actor=cast.agent1, title="Printer", body="Line one\nOpen tray 2.\nLine three")
    kb.article_update(article=article, actor=cast.agent1, version=1, title="Printer", audience="public",
                      body="Line one\nOpen tray 3.\nLine three")
    v1, v2 = article.versions.order_by("number")
    lines = q.article_diff(v1, v2)
    assert [(line.tone, line.text) for line in lines if line.tone != "same"] == [
        ("removed", "Open tray 2."), ("added", "Open tray 3.")]
