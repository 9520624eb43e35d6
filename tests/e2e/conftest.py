"""Real-browser journeys: headless Chromium from Debian's packages, driven by Playwright on live_server.

Screenshots of every main page land in test-artifacts/ (kept by CI) so the look can be reviewed.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls in fixtures are still sync.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CROSSLINE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAPTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CROSSLINE_SKIP_E2E") == "1":
            pytest.skip("CROSSLINE_SKIP_E2E=1: browser journeys skipped")
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium: apt-get install chromium chromium-driver",
            pytrace=False,
        )
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do (10 s): CI runs three suites on two cores, and a page that answers
    # in 6 s there is slow, not wrong. What they assert is unchanged.
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def signed_in(browser, live_server, transactional_db):
    """signed_in(user) -> a Playwright page of a fresh browser context, signed in through the login form;
    `scheme` (light/dark, as the system would say) and `density` set the look."""
    contexts = []

    def make(user, *, viewport=LAPTOP, scheme="light", density="comfortable"):
        context = browser.new_context(viewport=viewport, base_url=live_server.url, accept_downloads=True,
                                      color_scheme=scheme)
        context.set_default_timeout(10_000)
        if density == "compact":  # the viewer's density is kept in this browser (static/js/theme.js)
            context.add_init_script("localStorage.setItem('crossline-density', 'compact')")
        contexts.append(context)
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill("pw")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def eager_tasks():
    """The workers' tasks run in the web process as soon as they are queued (after the commit that queues them)."""
    from tracker.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture
def p1_policy(db):
    """A P1 policy in 24x7 hours with a 30-minute L3 pick target: scenario 4's clocks."""
    from sla.models import Calendar, Policy, TierTarget
    from tracker.choices import Tier

    always = Calendar.objects.create(name="24x7", time_zone="UTC", always_open=True)
    policy = Policy.objects.create(name="P1", order=1, calendar=always, priorities=[1], response_s=900,
                                   resolution_s=4 * 3600)
    TierTarget.objects.create(policy=policy, tier=Tier.L3, goal_s=1800)
    return policy
