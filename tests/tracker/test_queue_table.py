"""The queue's rows and filter fields, built in Python (`tracker.templatetags.queue_table`), say what the page
said with a template per cell: every column, the messages after an action, the chosen filters, the viewer's
time zone."""
from datetime import UTC, datetime

from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import TicketFactory
from tracker import selectors
from tracker.errors import DomainError
from tracker.filtersets import TicketFilterSet
from tracker.forms import BulkForm
from tracker.models import Ticket

ROW = Template("{% load queue_table %}{% queue_row t %}")


def _row(ticket, columns, **extra) -> str:
    columns = [c for c in selectors.queue_columns() if c.slug in columns]
    row = selectors.queue_row(user=ticket.assignee, pk=ticket.pk, related=selectors.columns_related(columns))
    return ROW.render(Context({"t": row, "columns": columns, "now": timezone.now(), **extra}))


def test_a_row_shows_every_column_escaped_and_in_the_viewers_zone(cast):
    ticket = TicketFactory(title="<b>VPN</b> & mail", group=cast.l1, assignee=cast.agent1, requester=cast.requester,
                           service=cast.services["payroll"], priority=2)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=datetime(2026, 3, 5, 23, 30, tzinfo=UTC))
    all_columns = {c.slug for c in selectors.queue_columns()}
    with timezone.override("Asia/Kolkata"):
        html = _row(ticket, all_columns)
    assert f'<tr id="row-{ticket.key}" data-row data-href="/tickets/{ticket.key}/"' in html
    assert f'data-preview="/tickets/{ticket.key}/preview/"' in html
    escaped = "&lt;b&gt;VPN&lt;/b&gt; &amp; mail"
    assert f'<span class="title-text" title="{escaped}">{escaped}</span>' in html
    assert '<td><span class="badge p2">P2</span></td>' in html
    assert '<td class="hide-sm nowrap">Service Desk</td>' in html
    assert '<td class="hide-sm nowrap">—</td>' in html  # no owner, no category
    assert '<td class="hide-sm small nowrap" title="2026-03-06 05:00">06 Mar 05:00</td>' in html
    assert 'data-action="escalate"' in html
    assert f"hx-vals='{{\"version\": \"{ticket.version}\"}}'" in html


def test_a_row_after_a_refused_action_says_why_beside_the_title_or_the_actions(cast):
    ticket = TicketFactory(group=cast.l1, assignee=cast.agent1, requester=cast.requester)
    error = DomainError("Held by <someone>")
    html = _row(ticket, {"title", "status"}, row_error=error, row_take_over=True)
    assert '<div class="alert error small" role="alert">Held by &lt;someone&gt;' in html
    assert 'hx-vals=\'{"version": "' in html and '"take_over": "1"}' in html and ">Take over</button>" in html
    html = _row(ticket, {"status"}, row_error=error)
    assert html.count('role="alert"') == 1 and "Take over" not in html
    assert '<td class="actions">\n          <div class="alert error small" role="alert">' in html
    assert 'role="status">Taken</div>' in _row(ticket, {"title"}, row_notice="Taken")


def test_the_filter_fields_show_the_chosen_options(cast):
    request = RequestFactory().get("/queue/", {"status": ["new", "pending"], "group": str(cast.l2.pk)})
    request.user = cast.agent1
    form = TicketFilterSet(request.GET, queryset=Ticket.objects.all(), request=request).form
    html = Template('{% load queue_table %}{% multi_field f.status "Status" %}|{% multi_field f.kind "Kind" %}|'
                    "{% select_field f.group %}|{% select_field b.to %}").render(Context({"f": form, "b": BulkForm()}))
    status, kind, group, to = html.split("|")
    assert '<summary aria-describedby="lbl-status"><span class="chosen">New</span>' in status
    assert '<span class="any" hidden>Any status</span>' in status
    assert '<input type="checkbox" name="status" value="pending" checked> ' in status
    assert 'placeholder="Find…"' in status and 'placeholder="Find…"' not in kind  # a search box past six
    assert '<span class="any">Any kind</span>' in kind and "checked" not in kind
    assert group.startswith('<select name="group" id="id_group">')
    assert f'<option value="{cast.l2.pk}" selected>' in group and '<option value="">Any group</option>' in group
    assert to.startswith('<select name="to" id="bulk-to">') and '<option value="" selected>—</option>' in to


def test_a_tickets_links_show_only_the_other_tickets_the_viewer_may_see(cast):
    from tracker.choices import LinkType
    from tracker.models import Link

    mine = TicketFactory(requester=cast.requester)
    theirs = TicketFactory(requester=cast.other_requester)
    also_mine = TicketFactory(requester=cast.requester)
    Link.objects.create(source=mine, target=theirs, type=LinkType.RELATES_TO, created_at=timezone.now())
    Link.objects.create(source=also_mine, target=mine, type=LinkType.RELATES_TO, created_at=timezone.now())

    def others(user):
        return {(row["direction"], row["other"].key) for row in selectors.ticket_links(ticket=mine, user=user)}

    assert others(cast.agent1) == {("out", theirs.key), ("in", also_mine.key)}
    assert others(cast.requester) == {("in", also_mine.key)}


def test_times_read_as_djangos_date_formats_wrote_them_in_every_zone_and_style():
    from django.utils.formats import date_format

    from tracker.templatetags.crossline import WHEN_FORMATS, when

    moments = [datetime(2026, m, d, h, 7, tzinfo=UTC) for m, d, h in ((1, 1, 0), (3, 29, 1), (10, 25, 23), (12, 31, 9))]
    for zone in ("UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns"):
        with timezone.override(zone):
            for moment in moments:
                local = timezone.localtime(moment)
                for style, fmt in WHEN_FORMATS.items():
                    text = date_format(local, fmt)
                    assert when(moment, style) == (text if style == "date" else f"{text} {local.tzname()}")


def test_a_rows_short_month_follows_the_active_language():
    from django.utils import translation

    from tracker.templatetags.queue_table import _stamp

    moment = datetime(2026, 12, 6, 20, 10, tzinfo=UTC)
    with timezone.override("UTC"):
        with translation.override("de"):
            assert _stamp(moment) == ("2026-12-06 20:10", "06 Dez 20:10")
        with translation.override("en"):
            assert _stamp(moment) == ("2026-12-06 20:10", "06 Dec 20:10")


def test_the_rows_escape_writes_what_djangos_escape_writes():
    from django.utils.html import escape as django_escape
    from django.utils.translation import gettext_lazy

    from tracker.templatetags.queue_table import escape

    for value in ('<a href="x">O\'Neil & co</a>', 42, None, gettext_lazy("Open"), django_escape("<b>")):
        assert escape(value) == str(django_escape(value))


def test_a_rows_time_ago_reads_as_naturaltime_wrote_it_in_every_language():
    from datetime import timedelta

    import time_machine
    from django.contrib.humanize.templatetags.humanize import naturaltime
    from django.utils import translation

    from tracker.templatetags.queue_table import _ago

    now = datetime(2026, 12, 6, 20, 10, 30, 250000, tzinfo=UTC)
    seconds = [0, 1, 59, 60, 61, 119, 3599, 3600, 3601, 7199, 86399, 86400, 86401, 90061]
    days = [1, 2, 6, 7, 13, 14, 29, 30, 31, 58, 59, 60, 89, 180, 364, 365, 366, 400, 731, 1500]
    deltas = [timedelta(seconds=s) for s in seconds] + [timedelta(days=d, hours=h, minutes=7)
                                                        for d in days for h in (0, 5, 23)]
    with time_machine.travel(now, tick=False):
        for language in ("en", "de", "fr", "ja"):
            with translation.override(language):
                for delta in deltas:
                    assert _ago(now - delta, now) == naturaltime(now - delta), (language, delta)
                assert _ago(now + timedelta(minutes=5), now) == naturaltime(now + timedelta(minutes=5))


def test_the_queue_page_rows_are_what_a_row_per_ticket_of_the_whole_ticket_wrote(cast):
    """The page's rows (`queue_rows`, the queue's narrowed read of the ticket) say what one `queue_row` per ticket
    said of the ticket read whole, with every column."""
    from datetime import timedelta

    import time_machine

    from tracker import extensions

    now = datetime(2026, 12, 6, 20, 10, tzinfo=UTC)
    for i, hours in enumerate((0.1, 3, 30, 24 * 40, 24 * 400)):
        ticket = TicketFactory(title=f"<i>row</i> {i}", group=cast.l1, assignee=cast.agent1, requester=cast.requester,
                               service=cast.services["payroll"], priority=1 + i % 4)
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now - timedelta(hours=hours),
                                                   created_at=now - timedelta(hours=hours + 1))
    columns = selectors.queue_columns()
    related = selectors.columns_related(columns)
    view = selectors.saved_view("open")
    narrowed = selectors.with_config_rows(
        list(selectors.queue(user=cast.agent1, view=view, now=now, related=related).order_by("id")))
    whole = list(extensions.prefetch(Ticket.objects.filter(pk__in=[t.pk for t in narrowed])
                                     .select_related(*selectors.LIST_RELATED)).order_by("id"))
    assert [t.pk for t in narrowed] == [t.pk for t in whole] and len(whole) == 5
    assert "description" in narrowed[0].get_deferred_fields()
    with time_machine.travel(now, tick=False), timezone.override("Europe/Berlin"):
        ctx = {"columns": columns, "now": now}
        with CaptureQueriesContext(connection) as reads:  # every cell from the page's read and the config cache
            page = Template("{% load queue_table %}{% queue_rows rows %}").render(Context({**ctx, "rows": narrowed}))
        assert not reads.captured_queries, [q["sql"] for q in reads.captured_queries]
        reference = Template("{% load queue_table %}{% for t in rows %}{% queue_row t %}\n    {% endfor %}").render(
            Context({**ctx, "rows": whole}))
    assert page == reference
    assert page.count("<tr ") == 5 and all(ago in page for ago in ("minutes ago", "hours ago", "day", "month", "year"))


def test_the_column_pickers_items_are_what_its_template_loop_wrote(cast):
    loop = Template(
        '{% load icons %}{% for ch in column_choices %}<li draggable="true" data-column="{{ ch.column.slug }}">\n'
        '            <span class="grip" aria-hidden="true">{% icon "grip-vertical" %}</span>\n'
        '            <input type="hidden" name="order" value="{{ ch.column.slug }}">\n'
        '            <label class="check"><input type="checkbox" name="columns" value="{{ ch.column.slug }}"'
        '{% if ch.shown %} checked{% endif %}> {{ ch.column.label }}</label>\n'
        '            <span class="spacer"></span>\n'
        '            <button type="submit" class="small ghost" name="move" value="{{ ch.column.slug }}:up" '
        'data-column-move="up" aria-label="Move {{ ch.column.label }} up" title="Move up">'
        '{% icon "arrow-up" %}</button>\n'
        '            <button type="submit" class="small ghost" name="move" value="{{ ch.column.slug }}:down" '
        'data-column-move="down" aria-label="Move {{ ch.column.label }} down" title="Move down">'
        '{% icon "arrow-down" %}</button>\n'
        "          </li>{% endfor %}")
    tag = Template("{% load queue_table %}{% column_items column_choices %}")
    every = selectors.queue_columns()
    for shown in (every[:4], every[::-1], [c for c in every if c.slug in {"priority", "requester", "sla"}]):
        choices = selectors.column_choices(shown)
        ctx = Context({"column_choices": choices})
        assert tag.render(ctx) == loop.render(ctx)
    assert tag.render(ctx).count("<li ") == len(every) and tag.render(ctx).count(" checked>") == 3


def test_the_views_pills_are_what_their_template_loops_wrote(cast):
    from tracker.models import QueueView

    loops = Template(
        "{% load crossline icons %}"
        '{% for v in views %}<a href="{% url \'tracker:queue\' %}?view={{ v.slug }}" '
        '{% if v.slug == view.slug and not saved %}aria-current="true"{% endif %}>{{ v.label }}'
        '{% if counts %} <span class="count">{{ counts|count_for:v }}</span>{% endif %}</a>{% endfor %}\n  '
        '{% for q in my_views %}<a href="{% url \'tracker:queue\' %}?{{ q.query }}&amp;saved={{ q.pk }}" '
        '{% if saved.pk == q.pk %}aria-current="true"{% endif %} title="{% if q.group %}Shared with {{ q.group.name }}'
        '{% else %}Only you see this view{% endif %}">{% if q.group %}{% icon "users" %}{% else %}{% icon "star" %}'
        '{% endif %}{{ q.name }}{% if counts %} <span class="count">{{ counts|count_for:q }}</span>{% endif %}</a>'
        "{% endfor %}")
    tag = Template("{% load queue_table %}{% view_links views my_views view saved counts %}")
    mine = QueueView.objects.create(name="P1 <&> mine", query="view=open&priority=1", owner=cast.agent1)
    team = QueueView.objects.create(name="Team's", query='view=all&q="vpn"', group=cast.l1)
    views, my_views = selectors.saved_views(), selectors.queue_views_for(cast.agent1)
    assert {q.pk for q in my_views} >= {mine.pk, team.pk}
    counts = {"open": "1,000+", "mine": "3", f"saved-{mine.pk}": "12", f"saved-{team.pk}": "0"}
    for view, saved, shown in ((views[0], None, None), (views[1], mine, counts), (views[2], team, {}),
                               (views[0], None, counts)):
        ctx = Context({"views": views, "my_views": my_views, "view": view, "saved": saved, "counts": shown})
        assert tag.render(ctx) == loops.render(ctx)
    assert "P1 &lt;&amp;&gt; mine" in tag.render(ctx) and 'aria-current="true"' in tag.render(ctx)


def test_a_rows_links_are_escaped_whole_under_any_script_prefix(cast):
    from django.urls import set_script_prefix

    ticket = TicketFactory(group=cast.l1, assignee=cast.agent1, requester=cast.requester)
    set_script_prefix("/desk&co/")
    try:
        html = _row(ticket, {"title"})
    finally:
        set_script_prefix("/")
    assert f'data-href="/desk&amp;co/tickets/{ticket.key}/"' in html
    assert f'data-preview="/desk&amp;co/tickets/{ticket.key}/preview/"' in html
    assert f'hx-post="/desk&amp;co/tickets/{ticket.key}/assign-me/"' in html
    assert "&co/" not in html.replace("&amp;co/", "")
