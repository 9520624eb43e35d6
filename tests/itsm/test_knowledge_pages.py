"""The knowledge base's pages: the editor and its refusals in place, the portal's suggestions and "This solved
it", the ticket page's panel (loaded after the page, within its query budget), insert and link, the dashboard."""

from datetime import timedelta

from django.utils import timezone

from itsm.choices import ArticleAudience, ArticleState, ArticleUseKind
from itsm.models import ArticleUse, Deflection, KnowledgeArticle
from itsm.services import knowledge as kb
from tracker import services
from tracker.choices import Kind, Status
from tracker.models import Ticket

from .test_knowledge import publish


def test_an_agent_writes_an_article_in_the_editor(cast, client_for):
    client = client_for(cast.agent1)
    assert b"kb-preview" in client.get("/kb/new/").content
    response = client.post("/kb/new/", {"title": "Printer jams", "body": "Open **tray 2**.", "audience": "public",
                                        "services": [cast.services["mail"].pk], "note": ""})
    article = KnowledgeArticle.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/kb/{article.pk}/"
    assert article.state == ArticleState.DRAFT and article.author == cast.agent1


def test_the_preview_renders_sanitised_markdown(cast, client_for):
    html = client_for(cast.agent1).post("/kb/preview/", {"body": "**bold** <script>x()</script>"}).content
    assert b"<strong>bold</strong>" in html and b"<script>" not in html


def test_a_stale_save_is_refused_in_place_and_keeps_the_text(cast, client_for):
    article = kb.article_create(actor=cast.agent1, title="Printer jams", body="Open tray 2.")
    kb.article_update(article=article, actor=cast.agent2, version=1, title="Printer jams", body="Open tray 3.",
                      audience="public")
    response = client_for(cast.agent1).post(f"/kb/{article.pk}/edit/", {
        "title": "Printer jams", "body": "My careful rewrite", "audience": "public", "version": 1})
    assert response.status_code == 412
    page = response.content.decode()
    assert "changed by someone else" in page and "My careful rewrite" in page


def test_publishing_an_unreviewed_draft_is_refused_in_place(cast, client_for):
    article = kb.article_create(actor=cast.agent1, title="Printer jams", body="Open tray 2.")
    response = client_for(cast.agent2).post(f"/kb/{article.pk}/publish/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409 and "send it for review first" in response.content.decode()
    assert KnowledgeArticle.objects.get(pk=article.pk).state == ArticleState.DRAFT


def test_the_history_shows_a_diff_of_two_versions(cast, client_for):
    article = kb.article_create(actor=cast.agent1, title="Printer jams", body="Open tray 2.")
    kb.article_update(article=article, actor=cast.agent1, version=1, title="Printer jams", body="Open tray 3.",
                      audience="public", note="New model")
    page = client_for(cast.agent2).get(f"/kb/{article.pk}/history/?a=1&b=2").content.decode()
    assert "New model" in page and 'class="removed"' in page and 'class="added"' in page


def test_requesters_cannot_open_the_editor(cast, client_for):
    assert client_for(cast.requester).get("/kb/new/").status_code == 302


def test_portal_suggestions_show_public_articles_only_with_snippets(cast, client_for):
    publish(cast)
    publish(cast, title="VPN gateway failover runbook", body="Fail over the VPN.", audience=ArticleAudience.INTERNAL)
    page = client_for(cast.requester).get("/kb/suggest/", {"title": "vpn keeps disconnecting"}).content.decode()
    assert "VPN disconnects every few minutes" in page and "<mark>VPN</mark>" in page
    assert "failover" not in page


def test_this_solved_it_records_a_deflection_and_raises_no_ticket(cast, client_for):
    article = publish(cast)
    client = client_for(cast.requester)
    page = client.get(f"/kb/{article.pk}/?q=vpn+drops&service={cast.services['mail'].pk}").content.decode()
    assert "This solved it" in page
    response = client.post(f"/kb/{article.pk}/solved/", {"q": "vpn drops", "service": cast.services["mail"].pk},
                           follow=True)
    assert "No ticket was raised" in response.content.decode()
    d = Deflection.objects.get()
    assert (d.user, d.service, d.query) == (cast.requester, cast.services["mail"], "vpn drops")
    assert not Ticket.objects.exists()
    assert KnowledgeArticle.objects.get(pk=article.pk).views == 1


def test_anonymous_readers_may_say_this_solved_it(cast, client):
    article = publish(cast)
    assert client.post(f"/kb/{article.pk}/solved/", {"q": ""}).status_code == 302
    assert Deflection.objects.get().user is None


def resolved_incident(cast):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN drops at the hotel",
                                    description="Every few minutes.", service=cast.services["payroll"])
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.RESOLVED, resolution_note="TCP mode fixed it.")
    return ticket


def test_create_article_from_a_resolved_ticket_opens_the_editor(cast, client_for):
    ticket = resolved_incident(cast)
    client = client_for(cast.agent1)
    assert "Create article from this ticket" in client.get(f"/tickets/{ticket.key}/").content.decode()
    response = client.post(f"/tickets/{ticket.key}/article/", {"audience": "public"})
    article = KnowledgeArticle.objects.get()
    assert response["Location"] == f"/kb/{article.pk}/edit/" and article.source_ticket_id == ticket.pk
    assert "TCP mode fixed it." in client.get(response["Location"]).content.decode()


def test_the_suggestions_panel_costs_the_ticket_page_no_query(cast, client_for, django_assert_max_num_queries):
    publish(cast)
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN keeps disconnecting")
    client = client_for(cast.agent1)
    client.get(f"/tickets/{ticket.key}/")
    with django_assert_max_num_queries(14):  # README: workspace 14
        page = client.get(f"/tickets/{ticket.key}/").content.decode()
    assert "Suggested articles" in page and "VPN disconnects every few minutes" not in page  # loaded afterwards
    panel = client.get(f"/tickets/{ticket.key}/articles/").content.decode()
    assert "VPN disconnects every few minutes" in panel and "Insert as reply" in panel


def test_insert_as_reply_fills_the_comment_box_and_sending_records_the_use(cast, client_for):
    article = publish(cast)
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN keeps disconnecting")
    client = client_for(cast.agent1)
    form = client.get(f"/tickets/{ticket.key}/articles/{article.pk}/insert/", {"body": "Hi Alice,"}).content.decode()
    assert "Hi Alice," in form and "TCP mode" in form and f"/kb/{article.pk}/" in form
    client.post(f"/tickets/{ticket.key}/comment/", {"body": f"Hi Alice, see http://testserver/kb/{article.pk}/"})
    assert ArticleUse.objects.filter(ticket=ticket, article=article, how=ArticleUseKind.REPLIED).exists()


def test_an_internal_article_is_never_inserted_into_a_reply(cast, client_for):
    internal = publish(cast, audience=ArticleAudience.INTERNAL)
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN keeps disconnecting")
    assert client_for(cast.agent1).get(f"/tickets/{ticket.key}/articles/{internal.pk}/insert/").status_code == 400


def test_link_as_answer_records_the_use_and_the_article_shows_the_ticket(cast, client_for):
    article = publish(cast)
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN keeps disconnecting")
    client = client_for(cast.agent1)
    assert "Linked as answer" in client.post(f"/tickets/{ticket.key}/articles/{article.pk}/link/").content.decode()
    assert ArticleUse.objects.filter(ticket=ticket, how=ArticleUseKind.LINKED).count() == 1
    assert ticket.key in client.get(f"/kb/{article.pk}/").content.decode()
    assert ticket.key not in client_for(cast.requester).get(f"/kb/{article.pk}/").content.decode()


def test_the_dashboard_shows_deflection_per_service_and_article(cast, client_for):
    article = publish(cast, services=[cast.services["mail"]])
    KnowledgeArticle.objects.filter(pk=article.pk).update(views=4)
    kb.deflection_record(article=article, user=cast.requester, service=cast.services["mail"],
                         now=timezone.now() - timedelta(days=1))
    page = client_for(cast.manager).get("/dashboard/?days=30").content.decode()
    assert "Self-service deflection" in page and "Deflection by service" in page
    assert "25 %" in page and "100 %" in page
