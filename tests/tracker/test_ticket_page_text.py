"""The ticket page's Python-written rows cut titles and write dates exactly as the template filters they replace
(`truncatechars`, `date:"d M"`), in every language and zone."""
from datetime import UTC, datetime

import pytest
from django.template.defaultfilters import date, truncatechars
from django.utils import timezone, translation
from django.utils.timezone import template_localtime

from tracker.templatetags.ticket_page import cut, day_month

TITLES = ["", "Short", "x" * 49, "y" * 50, "z" * 51, "é" * 60, "e\u0301" * 30 + "tail", "e\u0301" * 55,
          "Café – payroll ✓ " * 4, "<b>&amp;</b>" * 6, "a\u0300\u0301" * 52]


@pytest.mark.parametrize("title", TITLES)
@pytest.mark.parametrize("length", [1, 40, 50])
def test_a_cut_title_is_the_truncatechars_filters(title, length):
    assert cut(title, length) == truncatechars(title, length)


@pytest.mark.parametrize("language", ["en", "de", "fr"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Pacific/Auckland", "America/Los_Angeles"])
def test_a_day_and_month_is_the_date_filters(language, zone):
    moments = [datetime(2026, month, day, hour, 30, tzinfo=UTC)
               for month in range(1, 13) for day in (1, 28) for hour in (0, 11, 23)]
    with translation.override(language), timezone.override(zone):
        for moment in moments:
            assert day_month(moment) == date(template_localtime(moment), "d M")


@pytest.mark.parametrize("text", [None, "", "Plain prose.",
                                  "### Fixes\n- **DEF-1** <script>x</script> [a](javascript:x)",
                                  "| a | b |\n|---|---|\n| 1 | 2 |", "x" * 20_001])
def test_shared_markdown_is_the_markdown_filters_every_time(text):
    from tracker.templatetags.crossline import markdown
    from tracker.templatetags.ticket_page import shared_markdown

    assert shared_markdown(text) == markdown(text)
    assert shared_markdown(text) == markdown(text)  # from the cache


# The Details card's loop as the template wrote it before `detail_rows` replaced it.
DETAILS_LOOP = """{% load crossline icons links %}{% for f in fields %}
        <dt>{{ f.label }}</dt>
        <dd id="f-{{ f.name }}"><span class="{% if f.long %}md {% endif %}{% if f.editable %}editable{% endif %}"{% if f.editable %} data-edit-button="edit-{{ f.name }}"{% endif %}>{% if f.long %}{{ f.value|markdown }}{% elif f.moment and f.value %}{{ f.value|when_time }}{% else %}{{ f.value|default_if_none:"—"|default:"—" }}{% endif %}</span>
          {% if f.editable %}<button type="button" id="edit-{{ f.name }}" class="edit-hint" hx-get="{% url 'tracker:ticket-field' ticket.key f.name %}" hx-target="#f-{{ f.name }}" hx-swap="innerHTML" aria-label="Edit {{ f.label }}" title="Edit {{ f.label|lower }}">{% icon "pencil" %}</button>{% endif %}</dd>
        {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("editable", [False, True])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_the_details_rows_are_the_template_loops(editable, zone):
    from django.template import Context, Template

    from tracker.models import AssignmentGroup, Ticket
    from tracker.templatetags.ticket_page import detail_rows

    values = ["", None, 0, 3, 1234567, "Plain", "<b>&amp; \"quoted\" 'x'</b>",
              AssignmentGroup(name="Ops & <L2>", tier=2), datetime(2026, 3, 29, 0, 30, tzinfo=UTC)]
    fields = [{"name": f"f{i}", "label": f"Label {i} <&>", "value": v, "editable": editable, "long": False,
               "moment": isinstance(v, datetime)} for i, v in enumerate(values)]
    fields += [{"name": "notes", "label": "Notes", "value": text, "editable": editable, "long": True, "moment": False}
               for text in ("", "Some *markdown* & <script>x</script>", "Plain prose.")]
    fields += [{"name": "due", "label": "Due", "value": None, "editable": editable, "long": False, "moment": True}]
    ticket = Ticket(key="INC-42")
    with timezone.override(zone):
        expected = Template(DETAILS_LOOP).render(Context({"fields": fields, "ticket": ticket}))
        assert str(detail_rows(fields, ticket)) == expected


# The comment form's macro options and the link form's type options as the template wrote them before
# `macro_options` and `choice_options` replaced the loops.
MACRO_LOOP = """{% for m in macros %}<option value="{{ m.pk }}"{% if macro.pk == m.pk %} selected{% endif %}>{{ m.name }}{% if m.group %} ({{ m.group.name }}){% endif %}</option>{% endfor %}"""  # noqa: E501
TYPE_LOOP = """{% for v, l in link_form.fields.type.choices %}<option value="{{ v }}" {% if link_form.type.value == v %}selected{% endif %}>{{ l }}</option>{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("chosen", [None, 0, 1, 2])
def test_the_macro_options_are_the_template_loops(chosen):
    from django.template import Context, Template

    from tracker.models import AssignmentGroup, Macro
    from tracker.templatetags.ticket_page import macro_options

    macros = [Macro(pk=7, name="Reset <password> & \"unlock\""), Macro(pk=1234, name="Plain",
                                                                       group=AssignmentGroup(name="Ops & <L2>")),
              Macro(pk=12, name="")]
    for macro in (macros[chosen] if chosen is not None else None, Macro(pk=99, name="Elsewhere")):
        context = {"macros": macros} if macro is None else {"macros": macros, "macro": macro}
        expected = Template(MACRO_LOOP).render(Context(context))
        assert str(macro_options(macros, macro if macro is not None else "")) == expected
    assert str(macro_options([], None)) == ""


@pytest.mark.parametrize("data", [None, {"type": "caused_by"}, {"type": "duplicate_of", "key": "x"},
                                  {"type": "<nonsense>"}, {"key": "PRB-1"}])
@pytest.mark.parametrize("language", ["en", "de"])
def test_the_link_type_options_are_the_template_loops(data, language):
    from django.template import Context, Template

    from tracker.forms import LinkForm
    from tracker.templatetags.ticket_page import choice_options

    form = LinkForm(data)
    with translation.override(language):
        expected = Template(TYPE_LOOP).render(Context({"link_form": form}))
        assert str(choice_options(form["type"])) == expected
    assert ("selected>" in expected) == (data is not None and data.get("type") in ("caused_by", "duplicate_of"))


# The top bar's links as base.html wrote them before `nav_anchors` replaced the loop.
NAV_LOOP = """{% load icons links %}{% for link in nav_links %}<a href="{% url link.url_name %}{{ link.query }}" {% if nav == link.nav %}aria-current="page"{% endif %}>{% if link.icon %}{% icon link.icon %}{% endif %}{{ link.label }}</a>
    {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("nav", [None, "queue", "changes", "nowhere"])
def test_the_top_bars_links_are_the_template_loops(nav):
    from django.template import Context, Template

    from tracker import extensions
    from tracker.context_processors import CORE_NAV
    from tracker.templatetags.links import nav_anchors

    links = [*CORE_NAV, *extensions.registry.nav,
             extensions.NavLink("odd", "A <b>&amp;</b> \"label\"", "tracker:queue", query="?view=open&kind=<x>")]
    context = Context({"nav_links": links} if nav is None else {"nav_links": links, "nav": nav})
    expected = Template(NAV_LOOP).render(context)
    assert str(nav_anchors(Context({}), links, nav if nav is not None else "")) == expected
    assert expected.count("<a ") == len(links) and ('aria-current="page"' in expected) == (nav in ("queue", "changes"))


# The Requester and Service cards' bodies as ticket.html wrote them before `requester_card` and `service_card`.
REQUESTER_CARD = """{% load links %}
      <p><strong>{{ ticket.requester.display_name }}</strong>{% if ticket.requester.email %}<br><a href="mailto:{{ ticket.requester.email }}">{{ ticket.requester.email }}</a>{% endif %}
      {% if ticket.requester.site %}<br><span class="muted">{{ ticket.requester.site }}</span>{% endif %}</p>
      {% if ticket.owner %}<p class="small">Accountable to them: <strong>{{ ticket.owner.display_name }}</strong> (owner){% if ticket.owner_id == user.pk %} — that is you: reply publicly below to reach them{% endif %}.</p>{% endif %}
      <p class="small"><a href="{% url 'tracker:queue' %}?view=open&requester={{ ticket.requester_id }}">{{ requester_open }} open ticket{% if requester_open != "1" %}s{% endif %}</a></p>"""  # noqa: E501
SERVICE_CARD = """{% load icons %}
      {% if ticket.service %}<p><strong>{{ ticket.service.name }}</strong>{% if not ticket.service.is_operational %} <span class="badge sla-warn">{{ ticket.service.get_lifecycle_display|lower }}</span>{% endif %}</p>
      <p class="small muted">{{ ticket.service.description|truncatechars:160 }}</p>
      {% if ticket.service.intake_group %}<p class="small">{% icon "users" %}Supported directly by <strong>{{ ticket.service.intake_group.name }}</strong>: its new tickets go straight to that team.</p>{% endif %}{% else %}<p class="muted">No service set.</p>{% endif %}"""  # noqa: E501


@pytest.mark.parametrize("owner", [None, "other", "viewer"])
@pytest.mark.parametrize("requester_open", ["0", "1", "2", "1,234", "100+"])
def test_the_requester_card_is_the_templates(owner, requester_open):
    from django.template import Context, Template

    from tracker.models import Ticket, User
    from tracker.templatetags.ticket_page import requester_card

    viewer = User(pk=5, username="lena", first_name="Lena")
    requesters = [User(pk=7, username="sam"),
                  User(pk=8, username="x", first_name="Ann <&>", last_name="O'Neil", email="ann+1@example.com",
                       site="Berlin \"HQ\" & <lab>")]
    for requester in requesters:
        ticket = Ticket(key="INC-42", requester=requester)
        if owner:
            ticket.owner = viewer if owner == "viewer" else User(pk=9, username="o&wner")
        context = {"ticket": ticket, "requester_open": requester_open, "user": viewer}
        expected = Template(REQUESTER_CARD).render(Context(context))
        assert str(requester_card(ticket, requester_open, viewer)) == expected


@pytest.mark.parametrize("lifecycle", ["planned", "in_transition", "operational", "retired"])
@pytest.mark.parametrize("language", ["en", "de"])
def test_the_service_card_is_the_templates(lifecycle, language):
    from django.template import Context, Template

    from tracker.models import AssignmentGroup, Service, Ticket
    from tracker.templatetags.ticket_page import service_card

    services = [None, Service(name="Mail <&>", lifecycle=lifecycle),
                Service(name="VPN", lifecycle=lifecycle, description="Remote access & \"more\" " * 20,
                        intake_group=AssignmentGroup(name="Net <ops>", tier=2))]
    with translation.override(language):
        for service in services:
            ticket = Ticket(key="INC-42", service=service)
            expected = Template(SERVICE_CARD).render(Context({"ticket": ticket}))
            assert str(service_card(ticket)) == expected


# The ticket card's first rows as ticket.html wrote them before `ticket_heading`.
TICKET_HEADING = """{% load humanize icons links crossline ticket_page %}<div class="row small muted"><span class="key">{{ ticket.key }}</span> · {{ ticket|display:"kind" }} · opened {{ ticket.created_at|naturaltime }} · version {{ ticket.version }}</div>
      <div class="row" id="f-title"><h1 id="ticket-title" class="ticket-title{% if can.edit %} editable" data-edit-button="edit-title{% endif %}">{{ ticket.title }}</h1>
        {% if can.edit %}<button type="button" id="edit-title" class="edit-hint" hx-get="{% url 'tracker:ticket-field' ticket.key 'title' %}" hx-target="#f-title" hx-swap="innerHTML" aria-label="Edit title" title="Edit title">{% icon "pencil" %}</button>{% endif %}</div>
      <div class="row">
        <span class="badge status">{{ ticket|display:"status" }}</span>
        <span class="badge {{ ticket.priority|priority_class }}">{{ ticket|display:"priority" }}</span>"""  # noqa: E501


@pytest.mark.parametrize("editable", [False, True])
@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_the_ticket_heading_is_the_templates(editable, language, zone):
    from datetime import timedelta

    from django.template import Context, Template

    from tracker.models import Ticket
    from tracker.templatetags.ticket_page import ticket_heading

    now = timezone.now()
    tickets = [Ticket(key="INC-42", kind="incident", status="new", priority=1, version=1,
                      title="Printer <on> fire & \"x\"", created_at=now - timedelta(days=3, hours=5, minutes=30)),
               Ticket(key="CHG-1234", kind="change", status="in_progress", priority=5, version=12345, title="Plain",
                      created_at=now - timedelta(hours=2, minutes=30)),
               Ticket(key="REQ-7", kind="request", status="resolved", priority=3, version=2, title="",
                      created_at=now - timedelta(minutes=5, seconds=30)),
               Ticket(key="DEF-9", kind="defect", status="closed", priority=2, version=3, title="Crash",
                      created_at=now - timedelta(days=400))]
    with timezone.override(zone), translation.override(language):
        for ticket in tickets:
            expected = Template(TICKET_HEADING).render(Context({"ticket": ticket, "can": {"edit": editable}}))
            assert str(ticket_heading(ticket, editable)) == expected


# The comment form as ticket.html's partial wrote it before `comment_form` replaced it.
COMMENT_FORM = """{% load crossline icons attachments links ticket_page %}
      <form id="comment-form" method="post" enctype="multipart/form-data" action="{% url 'tracker:ticket-comment' ticket.key %}" hx-post="{% url 'tracker:ticket-comment' ticket.key %}" hx-target="this" hx-swap="outerHTML" data-tabs>
        {% csrf_token %}
        {% for err in comment_form.non_field_errors %}<div class="alert error" role="alert">{{ err }}</div>{% empty %}{% if comment_form.body.errors %}<div class="alert error" role="alert">{{ comment_form.body.errors|join:" " }}</div>{% endif %}{% endfor %}
        <div class="row tight">
        <div class="tabs" role="tablist">
          <button type="button" role="tab" data-tab aria-selected="true" aria-controls="write-pane">Write</button>
          <button type="button" role="tab" data-tab aria-selected="false" aria-controls="preview-pane"
                  hx-post="{% url 'markdown-preview' %}" hx-include="#id_body" hx-target="#preview-pane" hx-swap="innerHTML">Preview</button>
        </div>
        {% if macros %}<span class="spacer"></span>
        <label for="macro-picker" class="small">{% icon "zap" %}Reply with</label>
        <select id="macro-picker" name="macro" hx-get="{% url 'tracker:ticket-macro' ticket.key %}" hx-include="#id_body" hx-trigger="change" hx-target="#comment-form" hx-swap="outerHTML">
          <option value="">a macro…</option>
          {% macro_options macros macro %}
        </select>{% endif %}
        </div>
        {% if macro %}<p class="small muted macro-effects">{% icon "zap" %}Sending uses “{{ macro.name }}”{% if macro.to_group %}, hands the ticket to {{ macro.to_group.name }}{% endif %}{% if macro.to_status %}, and moves it to {{ macro.to_status|status_label }}{% endif %}{% if macro.internal %} (internal note){% endif %}.</p>{% endif %}
        <div id="write-pane" role="tabpanel">
          <label for="id_body" class="sr-only">Comment</label>
          <textarea name="body" id="id_body" rows="4" data-comment aria-describedby="body-help"{% if comment_form.body.errors %} aria-invalid="true"{% endif %}>{{ comment_form.body.value|default:'' }}</textarea>
          <div id="body-help" class="help small muted">Markdown: **bold**, `code`, lists, links.</div>
        </div>
        <div id="preview-pane" role="tabpanel" class="preview md" hidden></div>
        <div class="row comment-actions">
          {% if not macro %}<label for="id_comment_files" class="small">{% icon "file-text" %}Attach</label>
          <input type="file" name="files" id="id_comment_files" multiple aria-describedby="comment-files-help">
          <span id="comment-files-help" class="sr-only">{% attachment_limits %}</span>{% endif %}
          {% if can.internal_note and not macro %}<label class="check"><input type="checkbox" name="internal"{% if comment_form.internal.value %} checked{% endif %}> Internal note (hidden from the requester)</label>{% endif %}
          <span class="spacer"></span><button class="primary" type="submit">{% icon "message-square" %}Add comment</button>
        </div>
      </form>"""  # noqa: E501, RUF001


@pytest.mark.parametrize("data", [None, {"body": ""}, {"body": "Hello <b>&amp;</b> “there”", "internal": "on"},
                                  {"body": "x", "internal": ""}])
@pytest.mark.parametrize("can_internal", [True, False, None])
@pytest.mark.parametrize("macro", [None, "plain", "moving"])
def test_the_comment_form_is_the_templates(data, can_internal, macro):
    from django.template import Context, Template
    from django.test import RequestFactory

    from tracker.forms import CommentForm
    from tracker.models import AssignmentGroup, Macro, Ticket
    from tracker.templatetags.ticket_page import comment_form

    ops = AssignmentGroup(name="Ops & <L2>")
    macros = [Macro(pk=7, name="Reset <password>"), Macro(pk=12, name="Hand over", group=ops)]
    chosen = {None: None, "plain": Macro(pk=3, name="Thanks \"quoted\""),
              "moving": Macro(pk=4, name="Close & hand", to_group=ops, to_status="resolved", internal=True)}[macro]
    forms = [CommentForm(data)]
    if data is not None:
        forms[0].is_valid()
        refused = CommentForm(data)
        refused.is_valid()
        refused.add_error(None, "Refused: the ticket moved <on>.")
        forms.append(refused)
    ticket = Ticket(key="INC-42")
    for form in forms:
        for macro_list in (macros, []):
            values = {"ticket": ticket, "comment_form": form, "macros": macro_list, "macro": chosen,
                      "csrf_token": "t0ken", "request": RequestFactory().get("/")}
            if can_internal is not None:
                values["can"] = {"internal_note": can_internal}
            expected = Template(COMMENT_FORM).render(Context(values))
            assert str(comment_form(Context(values))) == expected.removeprefix("\n      ")
    values = {"ticket": ticket, "csrf_token": "NOTPROVIDED"}  # a refused form's partial without the page's names
    assert str(comment_form(Context(values))) == Template(COMMENT_FORM).render(Context(values)).removeprefix("\n      ")


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
@pytest.mark.parametrize("language", ["en", "de"])
def test_a_shared_blank_forms_fields_are_written_as_a_fresh_forms(zone, language):
    from tracker.form_html import FAST
    from tracker.forms import WorkLogForm
    from tracker.templatetags.ticket_page import field_block, share_blank

    with timezone.override(zone), translation.override(language):
        shared = share_blank(WorkLogForm(auto_id="id_work_%s", renderer=FAST))
        for _ in range(2):  # written, then from what was kept
            for name in ("minutes", "worked_at", "note"):
                fresh = WorkLogForm(auto_id="id_work_%s", renderer=FAST)
                assert field_block(shared[name]) == field_block(fresh[name])
        assert len(shared.written) == 3
        bound = share_blank(WorkLogForm({"minutes": "x"}, auto_id="id_work_%s", renderer=FAST))
        assert "error" in field_block(bound["minutes"]) and bound.written == {}  # a bound form is never kept


# The link form as ticket.html's partial wrote it before `link_form` replaced it.
LINK_FORM = """{% load crossline icons links ticket_page %}
      <form id="link-form" method="post" action="{% url 'tracker:ticket-link' ticket.key %}" hx-post="{% url 'tracker:ticket-link' ticket.key %}" hx-target="this" hx-swap="outerHTML" class="link-form">
        {% csrf_token %}
        {% for err in link_form.non_field_errors %}<div class="alert error small" role="alert">{{ err }}</div>{% empty %}{% if link_form.key.errors %}<div class="alert error small" role="alert">{{ link_form.key.errors|join:" " }}</div>{% endif %}{% endfor %}
        <div class="row">
        <label class="sr-only" for="id_link_type">Link type</label>
        <select name="type" id="id_link_type">{% choice_options link_form.type %}</select>
        <label class="sr-only" for="id_link_key">Ticket key</label>
        <input type="text" name="key" id="id_link_key" size="9" placeholder="PRB-12" value="{{ link_form.key.value|default:'' }}" required{% if link_form.errors %} aria-invalid="true"{% endif %}>
        <button type="submit">{% icon "link" %}Link</button>
        </div>
      </form>"""  # noqa: E501


@pytest.mark.parametrize("data", [None, {"type": "caused_by", "key": "PRB-1"}, {"type": "duplicate_of", "key": ""},
                                  {"type": "<nonsense>", "key": "<x> & y"}, {"key": "PRB-1"}])
@pytest.mark.parametrize("language", ["en", "de"])
def test_the_link_form_is_the_templates(data, language):
    from django.template import Context, Template

    from tracker.forms import LinkForm
    from tracker.models import Ticket
    from tracker.templatetags.ticket_page import link_form

    with translation.override(language):
        forms = [LinkForm(data)]
        if data is not None:
            refused = LinkForm(data)
            refused.is_valid()
            refused.add_error(None, "No ticket <PRB-1> that you can see.")
            forms.append(refused)
        for form in forms:
            for token in ("t0ken", "NOTPROVIDED", None):
                values = {"ticket": Ticket(key="INC-42"), "link_form": form, "csrf_token": token}
                expected = Template(LINK_FORM).render(Context(values)).removeprefix("\n      ")
                assert str(link_form(Context(values))) == expected


# The ticket card's Workflow row (before the apps' actions) as ticket.html wrote it before `transitions`.
TRANSITIONS = """{% load crossline icons links ticket_page %}
        {% for m in moves %}{% if m.primary %}{% include "tracker/ticket.html#move" %}{% endif %}{% endfor %}
        {% if moves|length > 1 or moves and not moves.0.primary %}
        <details class="menu"{% for m in moves %}{% if m.open and not m.primary %} open{% endif %}{% endfor %}>
          <summary class="btn" aria-label="More moves">More {% icon "chevron-down" %}</summary>
          <div class="menu-items" role="group" aria-label="More moves">
            {% for m in moves %}{% if not m.primary %}{% include "tracker/ticket.html#move" %}{% endif %}{% endfor %}
          </div>
        </details>{% endif %}
        {% if can.assign and ticket.assignee_id != user.pk %}
        <form method="post" action="{% url 'tracker:ticket-assign-me' ticket.key %}" hx-post="{% url 'tracker:ticket-assign-me' ticket.key %}">{% csrf_token %}<input type="hidden" name="version" value="{{ ticket.version }}">
          <button type="submit" data-key="a" title="a">{% icon "user-check" %}Assign to me</button></form>{% endif %}
        {% if can.escalate and ticket.is_open %}
        <details><summary class="btn" title="e">{% icon "arrow-up-right" %}Escalate…</summary>
          <form class="card" method="post" action="{% url 'tracker:ticket-escalate' ticket.key %}" hx-post="{% url 'tracker:ticket-escalate' ticket.key %}">
            {% csrf_token %}<input type="hidden" name="version" value="{{ ticket.version }}">
            <div class="field"><label for="esc-group">To group</label>
              <select name="group" id="esc-group"><option value="">Next tier{% if escalation_target %}: {{ escalation_target }}{% endif %}</option>
              {% for g in escalation_groups %}<option value="{{ g.pk }}">{{ g }}</option>{% endfor %}</select></div>
            <div class="field"><label for="esc-note">Why</label><input type="text" id="esc-note" name="note" size="40"></div>
            <button class="primary" type="submit" data-key="e">Escalate</button>
          </form></details>{% endif %}"""  # noqa: E501, RUF001


@pytest.mark.parametrize("kind", ["incident", "change", "problem"])
@pytest.mark.parametrize("status", ["new", "in_progress", "resolved"])
def test_the_workflow_row_is_the_templates(cast, kind, status):
    from django.template import Context, Template
    from django.test import RequestFactory

    from tests.factories import TicketFactory
    from tracker import views
    from tracker.models import Ticket

    ticket = TicketFactory(kind=kind, status=status, requester=cast.requester, service=cast.services["payroll"],
                           group=cast.l1, title="A <b>title</b> & more")
    seen = set()
    for viewer in (cast.agent1, cast.manager, cast.change_manager):
        request = RequestFactory().get("/")
        request.user, request.htmx = viewer, False
        page = Ticket.objects.get(pk=ticket.pk)
        context = views.workspace_context(request, page)
        for moves in (context["moves"], context["moves"][:1], []):
            for extra in ({}, {"preview": True}, {"escalation_target": None}, {"can": {}}):
                values = {**context, "moves": moves, "user": viewer, "csrf_token": "t0ken", **extra}
                expected = Template(TRANSITIONS).render(Context(values))
                assert str(views_tag(Context(values))) == expected
                seen.update(w for w in FEATURES if w in expected)
        with_form = [m for m in context["moves"] if m["form"]]
        if with_form:
            m = with_form[0]
            form = views._move_form(m["move"], page, {"to": m["move"].target})
            form.is_valid()
            refused = {"target": m["move"].target, "form": form, "error": "Refused <because> & so."}
            moves = views.move_forms(page, viewer, refused)
            values = {**context, "moves": moves, "user": viewer, "csrf_token": "t0ken"}
            assert str(views_tag(Context(values))) == Template(TRANSITIONS).render(Context(values))
    assert {"<details", "preview"} <= seen
    if status == "in_progress":
        assert "data-move" in seen  # a move with fields (resolving needs a note)
    if status != "resolved":
        assert {"Escalate", "Assign to me", "Next tier: "} <= seen


FEATURES = ("Escalate", "<details", "Assign to me", "data-move", "preview", "Next tier: ")


def views_tag(context):
    from tracker.templatetags.ticket_page import transitions

    return transitions(context)


# The Attachments panel's upload form as its template wrote it before `attach_form` replaced it.
ATTACH_FORM = """{% load crossline icons attachments links %}<form id="attach-form" method="post" enctype="multipart/form-data" action="{% url 'tracker:ticket-attach' ticket.key %}" hx-post="{% url 'tracker:ticket-attach' ticket.key %}" hx-target="this" hx-swap="outerHTML" class="attach-form">
    {% csrf_token %}
    {% if attach_error %}<div class="alert error small" role="alert">{% icon "circle-alert" %}<span>{{ attach_error }}</span></div>{% endif %}
    <div class="row">
      <label for="id_attach_files" class="sr-only">Files to attach</label>
      <input type="file" name="files" id="id_attach_files" multiple required aria-describedby="attach-help"{% if attach_error %} aria-invalid="true"{% endif %}>
      {% if panel.can_internal %}<label class="check"><input type="checkbox" name="internal"{% if attach_internal %} checked{% endif %}> Internal (hidden from the requester)</label>{% endif %}
      <span class="spacer"></span><button type="submit">{% icon "plus" %}Attach</button>
    </div>
    <div id="attach-help" class="help small muted">{% attachment_limits %}</div>
  </form>"""  # noqa: E501


@pytest.mark.parametrize("error", [None, "", "Too large: <big.exe> & more."])
@pytest.mark.parametrize("panel", [None, {"can_internal": True}, {"can_internal": False}])
@pytest.mark.parametrize("internal", [None, True, False])
def test_the_attach_form_is_the_templates(error, panel, internal, settings):
    from django.template import Context, Template
    from django.template.defaultfilters import filesizeformat

    from tracker.models import Ticket
    from tracker.templatetags.attachments import attachment_limits
    from tracker.templatetags.ticket_page import attach_form

    for limit, language in ((10 * 1024 * 1024, "en"), (1536, "de")):
        settings.CROSSLINE_ATTACHMENT_MAX_BYTES = limit
        with translation.override(language):
            assert attachment_limits() == (f"Up to {filesizeformat(limit)} a file; programs and scripts are not "
                                           "accepted.")  # kept per language and limit, as written fresh
            for token in ("t0ken", None):
                values = {"ticket": Ticket(key="REQ-7"), "attach_error": error, "panel": panel,
                          "attach_internal": internal, "csrf_token": token}
                assert str(attach_form(Context(values))) == Template(ATTACH_FORM).render(Context(values))


# The Swarm panel's "Log work" form as its template wrote it before `work_log_form` replaced it.
WORK_LOG_FORM = """{% load crossline icons links ticket_page %}{% with form=work_form|default:panel.work_form %}
    <form id="work-form" class="card" method="post" action="{% url 'tracker:ticket-worklog' ticket.key %}" hx-post="{% url 'tracker:ticket-worklog' ticket.key %}" hx-target="this" hx-swap="outerHTML">{% csrf_token %}
      {% for err in form.non_field_errors %}<div class="alert error small" role="alert">{% icon "circle-alert" %}<span>{{ err }}</span></div>{% endfor %}
      {% field_block form.minutes %}
      {% field_block form.worked_at %}
      {% field_block form.note %}
      <button type="submit" class="primary small">{% icon "clock" %}Log work</button>
    </form>{% endwith %}"""  # noqa: E501


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_the_work_log_form_is_the_templates(zone):
    from django.template import Context, Template

    from tracker.form_html import FAST
    from tracker.forms import WorkLogForm
    from tracker.models import Ticket
    from tracker.templatetags.ticket_page import share_blank, work_log_form

    with timezone.override(zone):
        blank = share_blank(WorkLogForm(auto_id="id_work_%s", renderer=FAST))
        refused = WorkLogForm({"minutes": "1h <x>", "note": "a & b", "worked_at": "2026-12-01T10:00"},
                              auto_id="id_work_%s", renderer=FAST)
        refused.is_valid()
        refused.add_error(None, "Refused: the ticket is <closed>.")
        for values in ({"panel": {"work_form": blank}}, {"panel": {"work_form": blank}, "work_form": refused},
                       {"panel": {"work_form": blank}, "work_form": None}):
            for token in ("t0ken", None):
                context = {"ticket": Ticket(key="INC-42"), "csrf_token": token, **values}
                expected = Template(WORK_LOG_FORM).render(Context(context)).removeprefix("\n    ")
                assert str(work_log_form(Context(context))) == expected


# The signed-in top bar as base.html wrote it before `topbar_start` and `topbar_end` (the apps' items between).
TOPBAR_START = """{% load icons crossline links %}
  <nav aria-label="Main">
    {% nav_anchors nav_links nav %}{% if user.is_staff %}<a href="{% url 'admin:index' %}">{% icon "settings" %}Admin</a>{% endif %}
  </nav>
  {% if show_pins %}<div id="pins" class="pins"{% if not pins_by_queue %} hx-get="{% url 'tracker:queue-pins' %}" hx-trigger="load, every 60s [document.visibilityState=='visible']" hx-swap="outerHTML"{% endif %}></div>{% endif %}
  <div class="who">
    <button type="button" class="tool" data-palette aria-label="Search everything (Ctrl+K)" title="Search (Ctrl+K)">{% icon "search" %}<span class="hide-sm">Search</span></button>"""  # noqa: E501
TOPBAR_END = """{% load icons crossline links %}
    <button type="button" class="tool" data-theme-toggle aria-label="Theme: follows the system (change)" title="Theme"><span class="t-system">{% icon "monitor" %}</span><span class="t-light">{% icon "sun" %}</span><span class="t-dark">{% icon "moon" %}</span></button>
    <button type="button" class="tool" data-density-toggle aria-label="Density: comfortable (change)" title="Density"><span class="d-comfortable">{% icon "layout-list" %}</span><span class="d-compact">{% icon "rows-3" %}</span></button>
    <span title="{{ user.role|role_label }}">{{ user.display_name }} <span class="small role">({{ user.role|role_label }})</span></span>
    <form method="post" action="{% url 'logout' %}">{% csrf_token %}<button class="linkish" type="submit">{% icon "log-out" %}Sign out</button></form>
  </div>"""  # noqa: E501


@pytest.mark.parametrize("role", ["agent_l1", "requester", "manager", "admin"])
@pytest.mark.parametrize("nav", [None, "queue", "new"])
def test_the_top_bar_is_the_templates(role, nav):
    from django.template import Context, Template
    from django.test import RequestFactory

    from tracker.context_processors import top_bar
    from tracker.models import User
    from tracker.templatetags.links import topbar_end, topbar_start

    for staff in (False, True):
        user = User(pk=3, username="lena", first_name="Lena <&>", last_name="O'Neil", role=role, is_staff=staff)
        request = RequestFactory().get("/")
        request.user = user
        for pins_by_queue in (None, True):
            for token in ("t0ken", None):
                values = {**top_bar(request), "user": user, "csrf_token": token, "request": request}
                if nav is not None:
                    values["nav"] = nav
                if pins_by_queue:
                    values["pins_by_queue"] = True
                assert str(topbar_start(Context(values))) == Template(TOPBAR_START).render(Context(values))
                assert str(topbar_end(Context(values))) == Template(TOPBAR_END).render(Context(values))


def test_a_shared_blank_forms_options_are_written_as_a_fresh_forms():
    from tracker.forms import LinkForm
    from tracker.templatetags.ticket_page import choice_options, share_blank

    shared = share_blank(LinkForm())
    for language in ("en", "de", "en"):  # written, then kept per language
        with translation.override(language):
            assert choice_options(shared["type"]) == choice_options(LinkForm()["type"])
    assert len(shared.written) == 2
