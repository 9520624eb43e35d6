"""What the ticket page reads often enough to be worth a shortcut: a choice field's label.

Django's `get_<field>_display()` rebuilds a dict of every choice and translates every label on each call; the
page shows ~40 of them (its header, details, links and the changes on its service). `display` gives the same
string from a table built once per field and language. And a form field's block without an include, and the
ticket's heading and the Details, Requester and Service cards without a template node per cell."""
import unicodedata
from functools import cache, lru_cache
from urllib.parse import quote

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix, reverse
from django.utils.dates import MONTHS_3
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.timezone import get_current_timezone_name, template_localtime
from django.utils.translation import get_language

from tracker.form_html import _var
from tracker.markdown import render_markdown

from .attachments import attachment_limits
from .crossline import _KEY_SLOT, markdown, priority_class, status_label, when_time
from .icons import icon

register = template.Library()


@lru_cache(maxsize=256)
def _labels(field, language: str | None) -> dict:
    return {make_hashable(value): force_str(label, strings_only=True) for value, label in field.flatchoices}


def choice_display(instance, name: str):
    """What `instance.get_<name>_display()` returns, without rebuilding the field's choices."""
    field = instance._meta.get_field(name)
    value = getattr(instance, field.attname)
    key = make_hashable(value)
    labels = _labels(field, get_language())
    return labels[key] if key in labels else force_str(value, strings_only=True)


def cut(text, length: int) -> str:
    """`{{ text|truncatechars:length }}`'s text (before escaping): a text that fits is only NFC-normalised, as the
    filter returns it, without the filter's walk over every character."""
    text = unicodedata.normalize("NFC", str(text))
    return text if len(text) <= length else Truncator(text).chars(length)


@lru_cache(maxsize=64)
def _month(language: str | None, month: int) -> str:
    return str(MONTHS_3[month]).title()


def day_month(value) -> str:
    """`{{ value|date:"d M" }}`'s text: the day and the month's short name in the viewer's zone and language."""
    local = template_localtime(value)
    return f"{local.day:02d} {_month(get_language(), local.month)}"


@lru_cache(maxsize=256)
def _shared_markdown(text: str) -> str:
    return render_markdown(text)


@register.filter
def shared_markdown(text):
    """`{{ text|markdown }}` for a text that many pages show alike (a release's notes on every ticket of its service):
    rendered once per process and text. Rendering is a function of the text alone (Python-Markdown, then nh3)."""
    if not isinstance(text, str) or len(text) > 20_000:  # the cache keeps short texts only
        return mark_safe(render_markdown(text))  # noqa: S308 - nh3 sanitised it
    return mark_safe(_shared_markdown(str(text)))  # noqa: S308 - nh3 sanitised it


@register.filter
def display(instance, name: str):
    """`{{ ticket|display:"status" }}` reads as `{{ ticket.get_status_display }}`."""
    return choice_display(instance, name)


@register.simple_tag
def field_block(f):
    """`{% field_block form.note %}` writes what `{% include "tracker/_field.html" with f=form.note %}` does (the
    label, the widget, its help and errors in a div), without an include per field. A form shared by every page
    (`share_blank`) is written once per field, language and time zone."""
    written = getattr(f.form, "written", None)
    if written is None or f.form.is_bound:
        return _field_block(f)
    key = (f.name, get_language(), get_current_timezone_name())
    html = written.get(key)
    if html is None:
        html = written[key] = _field_block(f)
    return html


def share_blank(form):
    """Marks an unbound form that the pages of a process share (built once, never bound, never given errors):
    `field_block` keeps what it writes of each field. Its fields show the same on every page for a language and
    a time zone, as an unbound form's initial values and help are fixed when it is built."""
    form.written = {}
    return form


def _field_block(f):
    help_text = f'<div class="help">{conditional_escape(f.help_text)}</div>' if f.help_text else ""
    return mark_safe(f'<div class="field">{conditional_escape(f.label_tag())}{conditional_escape(f)}{help_text}'
                     f"{conditional_escape(f.errors)}</div>\n")


_icon = cache(icon)  # the same markup every time for a name


@lru_cache(maxsize=256)
def _field_url(prefix: str, name: str) -> str:
    """`{% url 'tracker:ticket-field' key name %}` with the key left as a slot: resolved once per field name."""
    return reverse("tracker:ticket-field", args=[_KEY_SLOT, name])


@register.simple_tag
def ticket_heading(ticket, editable: bool):
    """The ticket card's first rows, as its template wrote them: the key, kind, age and version, the title (with
    its pencil button when the viewer may edit it), and the status and priority badges."""
    title = _var(ticket.title)
    if editable:
        url = conditional_escape(_field_url(get_script_prefix(), "title").replace(_KEY_SLOT, quote(str(ticket.key))))
        title = (f'<h1 id="ticket-title" class="ticket-title editable" data-edit-button="edit-title">{title}</h1>\n'
                 f'        <button type="button" id="edit-title" class="edit-hint" hx-get="{url}" hx-target="#f-title" '
                 f'hx-swap="innerHTML" aria-label="Edit title" title="Edit title">{_icon("pencil")}</button>')
    else:
        title = f'<h1 id="ticket-title" class="ticket-title">{title}</h1>\n        '
    return mark_safe(  # noqa: S308 - every value is escaped or safe HTML
        f'<div class="row small muted"><span class="key">{_var(ticket.key)}</span> · '
        f'{_var(choice_display(ticket, "kind"))} · opened {_var(naturaltime(ticket.created_at))} · '
        f'version {_var(ticket.version)}</div>\n      <div class="row" id="f-title">{title}</div>\n'
        f'      <div class="row">\n        <span class="badge status">{_var(choice_display(ticket, "status"))}</span>\n'
        f'        <span class="badge {_var(priority_class(ticket.priority))}">'
        f'{_var(choice_display(ticket, "priority"))}</span>')


@register.simple_tag
def detail_rows(fields, ticket):
    """The Details card's `<dt>`/`<dd>` pairs (`fields` from the view's `_display_fields`), as the template loop
    wrote them: the value as Markdown, a `<time>` or text ("—" when empty), and the pencil button of an editable
    one. A dozen rows on every ticket page, each with ~10 template nodes, cost more than the rest of the card."""
    key = quote(str(ticket.key))
    prefix = get_script_prefix()
    out = []
    for f in fields:
        name, label, value = _var(f["name"]), _var(f["label"]), f["value"]
        editable = f["editable"]
        if f["long"]:
            shown = markdown(value)
        elif f["moment"] and value:
            shown = when_time(value)
        else:
            shown = _var(value if value is not None and value else "—")
        span = f'{"md " if f["long"] else ""}{"editable" if editable else ""}'
        edit = f' data-edit-button="edit-{name}"' if editable else ""
        button = ""
        if editable:
            url = conditional_escape(_field_url(prefix, f["name"]).replace(_KEY_SLOT, key))
            button = (f'<button type="button" id="edit-{name}" class="edit-hint" hx-get="{url}" hx-target="#f-{name}" '
                      f'hx-swap="innerHTML" aria-label="Edit {label}" title="Edit {_var(f["label"].lower())}">'
                      f'{_icon("pencil")}</button>')
        out.append(f'\n        <dt>{label}</dt>\n        <dd id="f-{name}"><span class="{span}"{edit}>{shown}</span>'
                   f'\n          {button}</dd>\n        ')
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped or safe HTML


@lru_cache(maxsize=16)
def _queue_url(prefix: str) -> str:
    return conditional_escape(reverse("tracker:queue"))


@register.simple_tag
def requester_card(ticket, requester_open: str, user):
    """The Requester card's body, as its template wrote it: the requester's name, email and site, the owner
    accountable to them (and whether that is the viewer), and a link to the requester's open tickets."""
    requester, owner = ticket.requester, ticket.owner
    email = requester.email
    mail = f'<br><a href="mailto:{_var(email)}">{_var(email)}</a>' if email else ""
    site = f'<br><span class="muted">{_var(requester.site)}</span>' if requester.site else ""
    accountable = ""
    if owner:
        you = " — that is you: reply publicly below to reach them" if ticket.owner_id == user.pk else ""
        accountable = (f'<p class="small">Accountable to them: <strong>{_var(owner.display_name)}</strong> '
                       f"(owner){you}.</p>")
    plural = "s" if requester_open != "1" else ""
    return mark_safe(  # noqa: S308 - every value is escaped
        f"\n      <p><strong>{_var(requester.display_name)}</strong>{mail}\n      {site}</p>\n      {accountable}\n"
        f'      <p class="small"><a href="{_queue_url(get_script_prefix())}?view=open&requester='
        f'{_var(ticket.requester_id)}">{_var(requester_open)} open ticket{plural}</a></p>')


@register.simple_tag
def service_card(ticket):
    """The Service card's body, as its template wrote it: the service's name, its lifecycle unless operational,
    its description cut to 160 characters and the team that takes its new tickets directly."""
    service = ticket.service
    if not service:
        return mark_safe('\n      <p class="muted">No service set.</p>')
    state = ""
    if not service.is_operational:
        state = f' <span class="badge sla-warn">{_var(choice_display(service, "lifecycle").lower())}</span>'
    intake = ""
    if service.intake_group:
        intake = (f'<p class="small">{_icon("users")}Supported directly by <strong>{_var(service.intake_group.name)}'
                  "</strong>: its new tickets go straight to that team.</p>")
    return mark_safe(  # noqa: S308 - every value is escaped or safe HTML
        f"\n      <p><strong>{_var(service.name)}</strong>{state}</p>\n"
        f'      <p class="small muted">{_var(cut(service.description, 160))}</p>\n      {intake}')


@register.simple_tag
def macro_options(macros, macro):
    """The comment form's macro picker's options, as the template loop wrote them: each macro by name (with its
    team's name in brackets), the one being used selected."""
    chosen = getattr(macro, "pk", None)
    return mark_safe("".join(  # noqa: S308 - every value is escaped
        f'<option value="{_var(m.pk)}"{" selected" if chosen == m.pk else ""}>{_var(m.name)}'
        f'{f" ({_var(m.group.name)})" if m.group else ""}</option>' for m in macros))


@register.simple_tag
def choice_options(field):
    """A bound choice field's `<option>`s, as the link form's template loop wrote them (`value="v" selected` on
    the field's value, a space in its place on the others); a shared empty form's (`share_blank`) once per language."""
    written = getattr(field.form, "written", None)
    if written is None or field.form.is_bound:
        return _choice_options(field)
    key = ("options", field.name, get_language())
    html = written.get(key)
    if html is None:
        html = written[key] = _choice_options(field)
    return html


def _choice_options(field):
    value = field.value()
    return mark_safe("".join(  # noqa: S308 - every value is escaped
        f'<option value="{_var(v)}" {"selected" if value == v else ""}>{_var(label)}</option>'
        for v, label in field.field.choices))


@lru_cache(maxsize=64)
def _key_url(prefix: str, name: str) -> str:
    """`{% url name key %}` of a ticket page's form with the key left as a slot: resolved once per name."""
    return reverse(name, args=[_KEY_SLOT])


def key_url(name: str, key) -> str:
    """The escaped URL of the ticket form `name` for this key, as `{% url name ticket.key %}` writes it."""
    return conditional_escape(_key_url(get_script_prefix(), name).replace(_KEY_SLOT, quote(str(key))))


@lru_cache(maxsize=16)
def _preview_url(prefix: str) -> str:
    return conditional_escape(reverse("markdown-preview"))


def _csrf_input(context) -> str:
    """`{% csrf_token %}`: the hidden input with the request's token (nothing without one)."""
    return CsrfTokenNode().render(context)


def _error_list(errors) -> str:
    """`{{ errors|join:" " }}` in an autoescaping template."""
    return " ".join(conditional_escape(e) for e in errors)


@register.simple_tag(takes_context=True)
def comment_form(context):
    """The "Add a comment" form, as its template wrote it: its errors, the Write and Preview tabs, the macro picker
    (with what the chosen macro will do), the text, the files and the internal-note box. On every ticket page, and
    alone when a comment is refused or a macro chosen."""
    ticket, form = context.get("ticket"), context.get("comment_form")
    macros, macro, can = context.get("macros"), context.get("macro"), context.get("can") or {}
    key = ticket.key
    errors = ""
    body_errors = form["body"].errors if form else ()
    if form:
        errors = "".join(f'<div class="alert error" role="alert">{_var(e)}</div>' for e in form.non_field_errors())
        if not errors and body_errors:
            errors = f'<div class="alert error" role="alert">{_error_list(body_errors)}</div>'
    picker = ""
    if macros:
        picker = (f'<span class="spacer"></span>\n        <label for="macro-picker" class="small">{_icon("zap")}'
                  'Reply with</label>\n        <select id="macro-picker" name="macro" '
                  f'hx-get="{key_url("tracker:ticket-macro", key)}" hx-include="#id_body" hx-trigger="change" '
                  'hx-target="#comment-form" hx-swap="outerHTML">\n'
                  '          <option value="">a macro…</option>\n'
                  f"          {macro_options(macros, macro)}\n        </select>")
    effects = ""
    if macro:
        group = f", hands the ticket to {_var(macro.to_group.name)}" if macro.to_group else ""
        status = f", and moves it to {_var(status_label(macro.to_status))}" if macro.to_status else ""
        internal = " (internal note)" if macro.internal else ""
        effects = (f'<p class="small muted macro-effects">{_icon("zap")}Sending uses “{_var(macro.name)}”'
                   f"{group}{status}{internal}.</p>")
    value = form["body"].value() if form else None
    invalid = ' aria-invalid="true"' if body_errors else ""
    files = ""
    if not macro:
        files = (f'<label for="id_comment_files" class="small">{_icon("file-text")}Attach</label>\n'
                 '          <input type="file" name="files" id="id_comment_files" multiple '
                 'aria-describedby="comment-files-help">\n'
                 f'          <span id="comment-files-help" class="sr-only">{_var(attachment_limits())}</span>')
    internal_box = ""
    if can.get("internal_note") and not macro:
        checked = " checked" if form and form["internal"].value() else ""
        internal_box = (f'<label class="check"><input type="checkbox" name="internal"{checked}> Internal note (hidden '
                        "from the requester)</label>")
    url = key_url("tracker:ticket-comment", key)
    return mark_safe(  # noqa: S308 - every value is escaped or safe HTML
        f'<form id="comment-form" method="post" enctype="multipart/form-data" action="{url}" hx-post="{url}" '
        'hx-target="this" hx-swap="outerHTML" data-tabs>\n'
        f"        {_csrf_input(context)}\n"
        f"        {errors}\n"
        '        <div class="row tight">\n'
        '        <div class="tabs" role="tablist">\n'
        '          <button type="button" role="tab" data-tab aria-selected="true" aria-controls="write-pane">Write'
        "</button>\n"
        '          <button type="button" role="tab" data-tab aria-selected="false" aria-controls="preview-pane"\n'
        f'                  hx-post="{_preview_url(get_script_prefix())}" hx-include="#id_body" '
        'hx-target="#preview-pane" hx-swap="innerHTML">Preview</button>\n'
        "        </div>\n"
        f"        {picker}\n"
        "        </div>\n"
        f"        {effects}\n"
        '        <div id="write-pane" role="tabpanel">\n'
        '          <label for="id_body" class="sr-only">Comment</label>\n'
        f'          <textarea name="body" id="id_body" rows="4" data-comment aria-describedby="body-help"{invalid}>'
        f"{_var(value if value else '')}</textarea>\n"
        '          <div id="body-help" class="help small muted">Markdown: **bold**, `code`, lists, links.</div>\n'
        "        </div>\n"
        '        <div id="preview-pane" role="tabpanel" class="preview md" hidden></div>\n'
        '        <div class="row comment-actions">\n'
        f"          {files}\n"
        f"          {internal_box}\n"
        '          <span class="spacer"></span><button class="primary" type="submit">'
        f'{_icon("message-square")}Add comment</button>\n'
        "        </div>\n"
        "      </form>")


@register.simple_tag(takes_context=True)
def link_form(context):
    """The Related tickets card's "Link" form, as its template wrote it: its errors, the link types, the other
    ticket's key. On every ticket page of an agent who may link, and alone when a link is refused."""
    form = context.get("link_form")
    errors = "".join(f'<div class="alert error small" role="alert">{_var(e)}</div>' for e in form.non_field_errors())
    if not errors and form["key"].errors:
        errors = f'<div class="alert error small" role="alert">{_error_list(form["key"].errors)}</div>'
    value = form["key"].value()
    invalid = ' aria-invalid="true"' if form.errors else ""
    url = key_url("tracker:ticket-link", context.get("ticket").key)
    return mark_safe(  # noqa: S308 - every value is escaped or safe HTML
        f'<form id="link-form" method="post" action="{url}" hx-post="{url}" hx-target="this" hx-swap="outerHTML" '
        'class="link-form">\n'
        f"        {_csrf_input(context)}\n"
        f"        {errors}\n"
        '        <div class="row">\n'
        '        <label class="sr-only" for="id_link_type">Link type</label>\n'
        f'        <select name="type" id="id_link_type">{choice_options(form["type"])}</select>\n'
        '        <label class="sr-only" for="id_link_key">Ticket key</label>\n'
        '        <input type="text" name="key" id="id_link_key" size="9" placeholder="PRB-12" '
        f'value="{_var(value if value else "")}" required{invalid}>\n'
        f'        <button type="submit">{_icon("link")}Link</button>\n'
        "        </div>\n"
        "      </form>")


def move_html(context, m) -> str:
    """`{% include "tracker/ticket.html#move" %}` for the move `m` (from the view's `move_forms`): its button, or
    its "Move…" menu with the form of the fields it needs (and the message of a refused try)."""
    ticket, move, form = context.get("ticket"), m["move"], m.get("form")
    url = key_url("tracker:ticket-transition", ticket.key)
    label, target = _var(move.label), _var(move.target)
    preview = '<input type="hidden" name="preview" value="1">' if context.get("preview") else ""
    version = f'<input type="hidden" name="version" value="{_var(ticket.version)}">'
    if not form:
        primary = ' class="primary"' if m.get("primary") else ""
        return (f'\n          \n          <form method="post" action="{url}" hx-post="{url}">\n'
                f"            {_csrf_input(context)}{version}{preview}\n"
                f'            <button type="submit" name="to" value="{target}"{primary}>{label}</button>\n'
                "          </form>\n          \n")
    error = f'<div class="alert error" role="alert">{_var(m["error"])}</div>' if m.get("error") else ""
    fields = "".join(f'<div class="field">{_var(f.label_tag())}{_var(f)}{_var(f.errors)}</div>' for f in form)
    return (f'\n          \n          <details{" open" if m.get("open") else ""}><summary class="btn'
            f'{" primary" if m.get("primary") else ""}">{label}…</summary>\n            \n'
            f'            <form class="card" data-move="{target}" method="post" action="{url}"\n'
            f'                  hx-post="{url}" hx-target="this" hx-swap="outerHTML">\n'
            f'              {_csrf_input(context)}<input type="hidden" name="to" value="{target}">{version}{preview}\n'
            f"              {error}\n"
            f"              {fields}\n"
            f'              <button class="primary" type="submit">{label}</button>\n'
            "            </form></details>\n          \n")


@register.simple_tag(takes_context=True)
def transitions(context):
    """The ticket card's Workflow row before the apps' actions, as its template wrote it: the primary move, the
    other moves in the "More" menu, "Assign to me" and the Escalate form (the next tier and the other groups)."""
    ticket, moves, can = context.get("ticket"), context.get("moves") or [], context.get("can") or {}
    primary = "".join(move_html(context, m) for m in moves if m.get("primary"))
    more = ""
    if len(moves) > 1 or (moves and not moves[0].get("primary")):
        opened = "".join(" open" for m in moves if m.get("open") and not m.get("primary"))
        others = "".join(move_html(context, m) for m in moves if not m.get("primary"))
        more = (f'\n        <details class="menu"{opened}>\n'
                f'          <summary class="btn" aria-label="More moves">More {_icon("chevron-down")}</summary>\n'
                '          <div class="menu-items" role="group" aria-label="More moves">\n'
                f"            {others}\n"
                "          </div>\n        </details>")
    version = f'<input type="hidden" name="version" value="{_var(ticket.version)}">'
    assign = ""
    user = context.get("user")
    if can.get("assign") and ticket.assignee_id != user.pk:
        url = key_url("tracker:ticket-assign-me", ticket.key)
        assign = (f'\n        <form method="post" action="{url}" hx-post="{url}">{_csrf_input(context)}{version}\n'
                  f'          <button type="submit" data-key="a" title="a">{_icon("user-check")}Assign to me</button>'
                  "</form>")
    escalate = ""
    if can.get("escalate") and ticket.is_open:
        url = key_url("tracker:ticket-escalate", ticket.key)
        target = context.get("escalation_target")
        groups = context.get("escalation_groups")
        if callable(groups):
            groups = groups()
        options = "".join(f'<option value="{_var(g.pk)}">{_var(g)}</option>' for g in groups or ())
        escalate = (f'\n        <details><summary class="btn" title="e">{_icon("arrow-up-right")}Escalate…</summary>\n'
                    f'          <form class="card" method="post" action="{url}" hx-post="{url}">\n'
                    f"            {_csrf_input(context)}{version}\n"
                    '            <div class="field"><label for="esc-group">To group</label>\n'
                    '              <select name="group" id="esc-group"><option value="">Next tier'
                    f'{f": {_var(target)}" if target else ""}</option>\n'
                    f"              {options}</select></div>\n"
                    '            <div class="field"><label for="esc-note">Why</label><input type="text" id="esc-note" '
                    'name="note" size="40"></div>\n'
                    '            <button class="primary" type="submit" data-key="e">Escalate</button>\n'
                    "          </form></details>")
    return mark_safe(f"\n        {primary}\n        {more}\n        {assign}\n        {escalate}")  # noqa: S308


@register.simple_tag(takes_context=True)
def attach_form(context):
    """The Attachments panel's upload form, as its template wrote it: a refused upload's message, the file input,
    the internal box for those who may write internal notes and the limits. On every ticket page, and alone when
    an upload is refused."""
    error, panel = context.get("attach_error"), context.get("panel") or {}
    url = key_url("tracker:ticket-attach", context.get("ticket").key)
    message = (f'<div class="alert error small" role="alert">{_icon("circle-alert")}<span>{_var(error)}</span></div>'
               if error else "")
    invalid = ' aria-invalid="true"' if error else ""
    internal = ""
    if panel.get("can_internal"):
        checked = " checked" if context.get("attach_internal") else ""
        internal = (f'<label class="check"><input type="checkbox" name="internal"{checked}> Internal (hidden from the '
                    "requester)</label>")
    return mark_safe(  # noqa: S308 - every value is escaped or safe HTML
        f'<form id="attach-form" method="post" enctype="multipart/form-data" action="{url}" hx-post="{url}" '
        'hx-target="this" hx-swap="outerHTML" class="attach-form">\n'
        f"    {_csrf_input(context)}\n"
        f"    {message}\n"
        '    <div class="row">\n'
        '      <label for="id_attach_files" class="sr-only">Files to attach</label>\n'
        '      <input type="file" name="files" id="id_attach_files" multiple required aria-describedby="attach-help"'
        f"{invalid}>\n"
        f"      {internal}\n"
        f'      <span class="spacer"></span><button type="submit">{_icon("plus")}Attach</button>\n'
        "    </div>\n"
        f'    <div id="attach-help" class="help small muted">{_var(attachment_limits())}</div>\n'
        "  </form>")


@register.simple_tag(takes_context=True)
def work_log_form(context):
    """The Swarm panel's "Log work" form, as its template wrote it: a refused try's messages above the time spent,
    when and the note (the page's shared empty form, or the refused one in `work_form`). On every ticket page, and
    alone when a work log is refused."""
    form = context.get("work_form") or (context.get("panel") or {}).get("work_form")
    url = key_url("tracker:ticket-worklog", context.get("ticket").key)
    errors = "".join(f'<div class="alert error small" role="alert">{_icon("circle-alert")}<span>{_var(e)}</span></div>'
                     for e in form.non_field_errors())
    return mark_safe(  # noqa: S308 - every value is escaped or safe HTML
        f'<form id="work-form" class="card" method="post" action="{url}" hx-post="{url}" hx-target="this" '
        f'hx-swap="outerHTML">{_csrf_input(context)}\n'
        f"      {errors}\n"
        f"      {field_block(form['minutes'])}\n"
        f"      {field_block(form['worked_at'])}\n"
        f"      {field_block(form['note'])}\n"
        f'      <button type="submit" class="primary small">{_icon("clock")}Log work</button>\n'
        "    </form>")
