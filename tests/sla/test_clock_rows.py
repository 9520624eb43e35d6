"""The SLA clocks panel's rows are written by a tag in Python with the HTML of the template loop they replace, for
clocks in every state, tier and cycle."""
from datetime import UTC, datetime, timedelta

from django.template import Context, Template
from django.utils import timezone

from sla.models import Clock
from sla.templatetags.sla_ui import clock_rows
from sla.ui import clock_view

CLOCK_LOOP = """{% for r in panel.rows %}
    <li><span class="badge sla-{{ r.view.tone }}">{{ r.view.short }}</span> <span class="small">{{ r.view.text }}{% if r.clock.cycle > 1 %} · cycle {{ r.clock.cycle }}{% endif %}</span></li>{% endfor %}"""  # noqa: E501


def test_the_clock_rows_are_the_template_loops():
    now = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    clocks = [
        Clock(metric="response", state="running", goal_s=3600, due_at=now + timedelta(minutes=20), cycle=1),
        Clock(metric="resolution", state="running", goal_s=3600, due_at=now - timedelta(hours=2), breached=True,
              tier=2, cycle=2),
        Clock(metric="pick", state="running", goal_s=0, due_at=None, tier=3, cycle=3),
        Clock(metric="resolution", state="paused", goal_s=3600, cycle=1),
        Clock(metric="response", state="met", breached=True, cycle=12),
        Clock(metric="<odd>", state="cancelled", cycle=1),
    ]
    rows = [{"clock": c, "view": clock_view(c, now)} for c in clocks]
    for zone in ("UTC", "Pacific/Auckland"):
        with timezone.override(zone):
            for some in (rows, rows[:1], []):
                assert str(clock_rows(some)) == Template(CLOCK_LOOP).render(Context({"panel": {"rows": some}}))
