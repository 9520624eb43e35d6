"""The shape of the code: imports point one way, the core's pages never name the apps, and what an app
registers through `tracker.extensions` shows on the ticket page and in the queue."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from tracker import extensions as ext
from tracker import services
from tracker.choices import Kind

ROOT = Path(__file__).resolve().parent.parent
APPS = ("itsm", "devflow", "sla")


def test_imports_point_one_way():
    """itsm, devflow -> sla -> tracker, and itsm and devflow never import each other (pyproject contract)."""
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_contract_names_every_app_in_its_layer():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'layers = ["itsm | devflow", "sla", "tracker"]' in text


def core_templates():
    folders = ("tracker", "registration")
    pages = [ROOT / "templates" / name for name in ("base.html", "403.html", "404.html", "500.html")]
    return [*pages, *sorted(p for f in folders for p in (ROOT / "templates" / f).glob("*.html"))]


@pytest.mark.parametrize("path", core_templates(), ids=lambda p: p.name)
def test_core_templates_name_no_app(path):
    text = path.read_text()
    named = re.findall(r"""['"](itsm|devflow|sla):[\w-]+['"]""", text)
    loads = [lib for line in re.findall(r"{%\s*load ([^%]+)%}", text) for lib in line.split() if lib in (
        "itsm_ui", "sla_ui", "devflow_ui")]
    includes = re.findall(r"""{%\s*include\s+['"](itsm|devflow|sla)/""", text)
    assert not (named or loads or includes), f"{path.name} names an app: {named + loads + includes}"


def test_core_python_imports_no_app():
    """The Python side of the same rule, without import-linter: no `import itsm|devflow|sla` in tracker/."""
    pattern = re.compile(r"^\s*(from|import)\s+(itsm|devflow|sla)\b", re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "tracker").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


@pytest.fixture
def extension(settings, tmp_path):
    """Register a panel, an action, a badge, a timeline renderer and a queue view of a pretend app."""
    (tmp_path / "pretend").mkdir()
    (tmp_path / "pretend" / "panel.html").write_text(
        '<section class="card"><h2>Pretend panel</h2><p>{{ panel.word }} for {{ ticket.key }}</p></section>'
    )
    (tmp_path / "pretend" / "action.html").write_text('<button type="button">Pretend action</button>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    before = (list(ext.registry.panels), list(ext.registry.actions), list(ext.registry.badges),
              dict(ext.registry.timeline), list(ext.registry.queue_views))
    ext.register(
        ext.Panel("pretend", "pretend/panel.html", lambda **kw: {"word": "hello"}, order=1),
        ext.Action("pretend", "pretend/action.html",
                   lambda *, request, ticket, now: {} if ticket.kind == Kind.INCIDENT else None),
        ext.Badge("pretend", "Pretend", lambda ticket, now: format_html("<i>pretend {}</i>", ticket.key)),
        ext.TimelineRenderer("created", lambda event: mark_safe("<b>pretend raised</b>")),
        ext.QueueView("pretend", "Pretend view", lambda qs, *, user, now: qs.filter(title__startswith="Pretend")),
    )
    yield
    (ext.registry.panels[:], ext.registry.actions[:], ext.registry.badges[:]) = before[:3]
    ext.registry.timeline.clear()
    ext.registry.timeline.update(before[3])
    ext.registry.queue_views[:] = before[4]


def test_what_an_app_registers_shows_on_the_ticket_page(cast, client_for, extension):
    incident = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Pretend outage")
    change = services.ticket_create(actor=cast.agent1, kind=Kind.CHANGE, title="Pretend change")
    page = client_for(cast.agent1).get(f"/tickets/{incident.key}/").content.decode()
    assert f"hello for {incident.key}" in page
    assert "Pretend action" in page
    assert f"<i>pretend {incident.key}</i>" in page
    assert "<b>pretend raised</b>" in page
    other = client_for(cast.agent1).get(f"/tickets/{change.key}/").content.decode()
    assert "Pretend action" not in other  # the action said None for a change


def test_what_an_app_registers_shows_in_the_queue(cast, client_for, extension):
    shown = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Pretend outage")
    hidden = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Real outage")
    page = client_for(cast.agent1).get("/queue/?view=pretend").content.decode()
    assert "Pretend view" in page and '<th scope="col">Pretend</th>' in page
    assert f"<i>pretend {shown.key}</i>" in page and hidden.key not in page


@pytest.fixture
def shortcut():
    """A pretend app's other way to raise a problem, registered for the new-ticket form."""
    before = list(ext.registry.create_shortcuts)
    ext.register(ext.CreateShortcut("pretend", Kind.PROBLEM, "Pretend problem from a checklist", "tracker:queue",
                                    hint="pretend hint", icon="layers"))
    yield
    ext.registry.create_shortcuts[:] = before


def test_a_create_shortcut_shows_on_the_new_ticket_form_for_its_kind_only(cast, client_for, shortcut):
    client = client_for(cast.agent1)
    problem = client.get("/tickets/new/?kind=problem").content.decode()
    assert 'href="/queue/">Pretend problem from a checklist</a> — pretend hint' in problem
    assert "Pretend problem from a checklist" not in client.get("/tickets/new/?kind=incident").content.decode()


def test_a_main_column_panel_and_a_dashboard_section_show_where_they_belong(cast, client_for, settings, tmp_path):
    """`Panel(column="main")` is a wide card under the ticket's details (not in the side column), and a
    `DashboardSection` renders on the manager dashboard with the period looked at."""
    (tmp_path / "pretend").mkdir()
    (tmp_path / "pretend" / "wide.html").write_text('<section class="card" id="wide">wide {{ panel.n }}</section>')
    (tmp_path / "pretend" / "section.html").write_text(
        '<section id="pretend-section">{{ section.days }} days</section>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    before = (list(ext.registry.panels), list(ext.registry.dashboard))
    ext.register(
        ext.Panel("pretend-wide", "pretend/wide.html", lambda **kw: {"n": 7}, column="main"),
        ext.DashboardSection("pretend", "pretend/section.html",
                             lambda *, request, period, now: {"days": period.days}),
    )
    try:
        incident = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Wide panel")
        page = client_for(cast.agent1).get(f"/tickets/{incident.key}/").content.decode()
        main, _, side = page.partition("<aside")
        assert '<section class="card" id="wide">wide 7</section>' in main and "wide 7" not in side
        dashboard = client_for(cast.manager).get("/dashboard/?days=7").content.decode()
        assert '<section id="pretend-section">7 days</section>' in dashboard
    finally:
        ext.registry.panels[:], ext.registry.dashboard[:] = before
