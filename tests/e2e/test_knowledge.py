"""Scenario 6 of DOMAIN.md, end to end: a requester types her question in "Report a problem", sees the article
suggested, opens it, clicks "This solved it", and no ticket is raised; the deflection shows on the manager's
dashboard. And the article's own life: an agent writes it, publishing her own text is refused in place, another
agent reviews and publishes it."""

from playwright.sync_api import expect

from itsm.choices import ArticleState
from itsm.models import Deflection, KnowledgeArticle
from tests.itsm.test_knowledge import publish
from tracker.models import Ticket


def test_a_requester_finds_the_answer_and_raises_no_ticket(cast, signed_in, shot):
    article = publish(cast, services=[cast.services["mail"]])
    page = signed_in(cast.requester)
    page.goto("/portal/new/?kind=incident")
    page.get_by_label("Summary").fill("vpn keeps disconnecting")
    suggestions = page.get_by_role("list", name="Suggested answers")
    expect(suggestions).to_contain_text("VPN disconnects every few minutes")
    shot(page, "kb-suggested-while-typing")
    suggestions.get_by_role("link", name="VPN disconnects every few minutes").click()
    expect(page.get_by_role("heading", name="VPN disconnects every few minutes")).to_be_visible()
    expect(page.get_by_text("TCP mode")).to_be_visible()
    shot(page, "kb-article-for-requester")
    page.get_by_role("button", name="This solved it").click()
    expect(page.get_by_text("No ticket was raised")).to_be_visible()
    shot(page, "kb-deflected-thank-you")
    assert not Ticket.objects.exists()
    deflection = Deflection.objects.get()
    assert deflection.article == article and deflection.user == cast.requester
    assert deflection.query == "vpn keeps disconnecting"

    manager = signed_in(cast.manager)
    manager.goto("/dashboard/?days=7")
    section = manager.get_by_role("region", name="Self-service deflection")
    expect(section.get_by_role("table", name="Deflection by article")).to_contain_text(
        "VPN disconnects every few minutes")
    expect(section).to_contain_text("100 %")
    shot(manager, "kb-deflection-dashboard")


def test_an_agent_writes_an_article_cannot_publish_it_herself_and_another_agent_publishes_it(cast, signed_in, shot):
    lena = signed_in(cast.agent1)
    lena.goto("/kb/")
    lena.get_by_role("link", name="New article").click()
    lena.get_by_label("Title").fill("Printer shows 'paper jam' with no paper inside")
    lena.get_by_label("Text").fill("Open the **rear door** and remove the torn scrap behind the roller.")
    expect(lena.locator("#kb-preview strong")).to_have_text("rear door")  # the live preview
    shot(lena, "kb-editor-preview")
    lena.get_by_role("button", name="Save draft").click()
    expect(lena.get_by_text("Saved “Printer shows 'paper jam' with no paper inside” as a draft")).to_be_visible()

    lena.get_by_role("button", name="Publish").click()  # a draft skipped review: refused in place
    expect(lena.get_by_role("alert")).to_contain_text("send it for review first")
    shot(lena, "kb-publish-refused-without-review")
    lena.get_by_role("button", name="Send for review").click()
    expect(lena.get_by_text("another agent reviews and publishes it").first).to_be_visible()
    lena.get_by_role("button", name="Publish").click()  # her own text: refused in place
    expect(lena.get_by_role("alert")).to_contain_text("You wrote this text")
    shot(lena, "kb-publish-refused-own-text")
    article = KnowledgeArticle.objects.get()
    assert article.state == ArticleState.REVIEW

    liam = signed_in(cast.agent2)
    liam.goto(f"/kb/{article.pk}/")
    liam.get_by_role("button", name="Publish").click()
    expect(liam.get_by_text("Published “Printer shows 'paper jam' with no paper inside”")).to_be_visible()
    shot(liam, "kb-published-by-reviewer")
    article.refresh_from_db()
    assert article.state == ArticleState.PUBLISHED and article.reviewed_by == cast.agent2

    alice = signed_in(cast.requester)
    alice.goto("/kb/?q=printer+paper+jam")
    expect(alice.get_by_role("link", name="Printer shows 'paper jam' with no paper inside")).to_be_visible()
    shot(alice, "kb-search-finds-published")


def test_an_agent_inserts_a_suggested_article_as_a_reply_and_the_use_is_recorded(cast, signed_in, shot):
    from itsm.models import ArticleUse
    from tracker import services
    from tracker.choices import Kind

    article = publish(cast)
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN keeps disconnecting",
                                    description="Every few minutes at the hotel.")
    page = signed_in(cast.agent1)
    page.goto(f"/tickets/{ticket.key}/")
    panel = page.get_by_role("region", name="Suggested articles")
    expect(panel).to_contain_text("VPN disconnects every few minutes")
    expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()  # the page stays the ticket's
    page.locator("#id_body").fill("Hi Alice,")
    panel.get_by_role("button", name="Insert as reply").click()
    expect(page.locator("#id_body")).to_have_value(f"Hi Alice,\n\n{article.body}\n\nFrom our knowledge base: "
                                                   f"[{article.title}](http://{page.url.split('/')[2]}/kb/{article.pk}/)")
    shot(page, "kb-inserted-as-reply")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator(".timeline")).to_contain_text("From our knowledge base")
    assert ArticleUse.objects.filter(article=article, ticket=ticket, how="replied").exists()
    panel.get_by_role("button", name="Link as answer").click()
    expect(panel).to_contain_text("Linked as answer")
    shot(page, "kb-linked-as-answer")
