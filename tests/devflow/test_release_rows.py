"""The ticket page's "Changed on this service" rows are written by a tag in Python with the HTML of the template
loop they replace: shipped and coming releases, planned or not, with published notes or not, with the desk's
article or not, in two zones and languages."""
from datetime import UTC, date, datetime

from django.template import Context, Template
from django.utils import timezone, translation

from devflow.models import Release
from devflow.templatetags.devflow_ui import release_rows

RELEASE_LOOP = """{% load crossline links ticket_page %}{% for r in panel.releases %}<li><details><summary><span class="badge {% if r.shipped_at %}sla-ok{% else %}warn{% endif %}">{% if r.shipped_at %}shipped{% else %}coming{% endif %}</span> <strong>{{ r.version }}</strong> {{ r.name }}
      <span class="small muted">{% if r.shipped_at %}shipped <time datetime="{{ r.shipped_at.isoformat }}">{{ r.shipped_at|when }}</time>{% elif r.planned_for %}planned for {{ r.planned_for|date:"j M" }}{% endif %}</span></summary>
      {% if r.published_at %}<div class="md small">{{ r.notes|shared_markdown }}</div>{% else %}<p class="muted small">Its notes are not published yet.</p>{% endif %}
      <p class="small"><a href="{% url 'devflow:release' r.pk %}">The release</a>{% if r.desk_article_url %} · <a href="{{ r.desk_article_url }}">the desk's article</a>{% endif %}</p></details></li>{% endfor %}"""  # noqa: E501


def test_the_release_rows_are_the_template_loops():
    shipped = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    releases = [
        Release(pk=3, version="4.8", name="Payroll <go-live> & more", shipped_at=shipped, published_at=shipped,
                notes="### Fixes\n- **DEF-1** <script>x</script>", desk_article_url="/kb/12/?a=1&b=<2>"),
        Release(pk=12, version="5.0", name="", planned_for=date(2026, 12, 24), notes="Not yet."),
        Release(pk=140, version="5.1", name="Someday", published_at=shipped, notes=""),
    ]
    for zone, language in (("UTC", "en"), ("Pacific/Auckland", "de")):
        with timezone.override(zone), translation.override(language):
            for some in (releases, releases[1:], []):
                expected = Template(RELEASE_LOOP).render(Context({"panel": {"releases": some}}))
                assert str(release_rows(some)) == expected
