"""Browser journey: an administrator registers a repository (a duplicate name refused in place, what was typed
kept), copies its secret shown once, and a signed push then shows on the defect's Code panel and timeline."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from devflow.models import CodeLink, Repository
from tests.e2e.test_accessibility import audit
from tests.vcs_helpers import github_pull_request, signed_github_post
from tracker import services
from tracker.choices import Kind, Status


@pytest.fixture
def defect(cast):
    ticket = services.ticket_create(actor=cast.engineer, kind=Kind.DEFECT, title="Payslip shows last month",
                                    group=cast.l3, severity="s2")
    services.ticket_transition(ticket=ticket, to=Status.TRIAGED, actor=cast.engineer, values={"severity": "s2"})
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.engineer)
    return ticket


def test_an_admin_registers_a_repository_and_its_merged_fix_moves_the_defect(cast, defect, signed_in, shot,
                                                                               live_server):
    Repository.objects.create(name="acme/payroll", provider="github", secret="existing")
    page = signed_in(cast.admin)
    page.goto("/dev/repositories/")
    expect(page.get_by_role("heading", name="Repositories")).to_be_visible()
    page.get_by_text("Add a repository").click()
    form = page.locator("#repository-form")
    form.get_by_label("Name").fill("ACME/payroll")
    form.get_by_label("Web address").fill("https://github.com/acme/payroll")
    form.get_by_role("button", name="Add the repository").click()

    form = page.locator("#repository-form")
    expect(form.get_by_role("alert").first).to_contain_text("already registered")
    expect(form.get_by_label("Web address")).to_have_value("https://github.com/acme/payroll")
    shot(page, "repositories-refused")

    form.get_by_label("Name").fill("acme/payroll-api")
    form.get_by_label("Provider").select_option("github")
    form.get_by_role("button", name="Add the repository").click()
    secret_box = page.locator("#new-secret")
    expect(secret_box).to_contain_text("Webhook secret of acme/payroll-api")
    repo = Repository.objects.get(name="acme/payroll-api")
    expect(secret_box.locator("[data-secret]")).to_have_text(repo.secret)
    shot(page, "repositories")

    page.goto("/dev/repositories/")
    expect(page.get_by_role("table", name="Repositories")).to_contain_text("acme/payroll-api")
    expect(page.locator("#new-secret")).to_have_count(0)

    status, body = signed_github_post(live_server.url, repo, "pull_request",
                                      github_pull_request(7, "Payslip shows the pay period's month",
                                                          f"Fixes {defect.key}"), "e2e-1")
    assert status == 200 and body["fixed"] == [defect.key]
    page.goto(f"/tickets/{defect.key}/")
    code = page.get_by_role("region", name="Code")
    expect(code).to_contain_text("PR merged")
    expect(code).to_contain_text("#7")
    expect(page.locator(".timeline")).to_contain_text("Pull request #7 merged: Payslip shows the pay period's month")
    shot(page, "defect-code-panel")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_repositories_page_and_the_code_panel_pass_the_accessibility_audit(cast, defect, signed_in, scheme):
    repo = Repository.objects.create(name="acme/payroll", provider="github", secret="s", active=False,
                                     url="https://github.com/acme/payroll")
    now = timezone.now()
    CodeLink.objects.create(ticket=defect, repository=repo, kind="pull_request", ref="7", title="Payslip month",
                            state="open", fixes=True, author="dana", created_at=now, updated_at=now)
    page = signed_in(cast.admin, scheme=scheme)
    page.goto("/dev/repositories/")
    page.get_by_text("Add a repository").click()
    problems = audit(page, "/dev/repositories/") + audit(page, f"/dev/repositories/{repo.pk}/")
    problems += audit(page, f"/tickets/{defect.key}/")
    assert problems == [], "\n".join(problems)
