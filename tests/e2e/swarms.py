"""The steps of a swarm that several browser journeys share, each done on the ticket page's Swarm panel the way
its role does it: an agent of a swarming team invites an expert, the expert opens the ticket from their Swarming
view and records their help."""

from playwright.sync_api import expect


def invite(page, *, who: str, why: str) -> None:
    """Invite a person by login from the open ticket's Swarm panel; they are listed as a contributor."""
    panel = page.locator("#swarm-panel")
    panel.get_by_text("Invite…").click()
    panel.get_by_label("Person").fill(who)
    panel.get_by_label("Why").fill(why)
    panel.get_by_role("button", name="Invite").click()
    expect(page.locator("#swarm-panel .contributors")).to_contain_text(who)


def open_from_swarming_view(page, ticket) -> None:
    page.goto("/queue/?view=swarming")
    page.get_by_role("link", name=ticket.key).first.click()
    expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()


def record_help(page, *, what: str, minutes: int) -> None:
    """Record what the contributor did (with the minutes it took) on the open ticket; it is on the timeline."""
    panel = page.locator("#swarm-panel")
    panel.get_by_text("Record help…").click()
    panel.get_by_label("What you did").fill(what)
    panel.locator("#id_help_minutes").fill(str(minutes))
    panel.get_by_role("button", name="Record help").click()
    expect(page.locator(".timeline")).to_contain_text(what)
