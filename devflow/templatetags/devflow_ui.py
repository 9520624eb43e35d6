"""The ticket page's "Changed on this service" rows (the releases of the ticket's service), written in Python."""
import html

from django import template
from django.template.defaultfilters import date
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

from tracker.form_html import _var
from tracker.templatetags.crossline import when
from tracker.templatetags.ticket_page import shared_markdown

register = template.Library()


@register.simple_tag
def release_rows(releases):
    """Each release as the panel's template loop wrote it: shipped or coming, its version and name, when it shipped
    or is planned for, its published notes and its links. On most ticket pages of a service with releases."""
    out = []
    for r in releases:
        shipped = r.shipped_at
        badge = '<span class="badge sla-ok">shipped</span>' if shipped else '<span class="badge warn">coming</span>'
        moment = ""
        if shipped:
            moment = f'shipped <time datetime="{_var(shipped.isoformat())}">{_var(when(shipped))}</time>'
        elif r.planned_for:
            moment = f"planned for {_var(date(template_localtime(r.planned_for), 'j M'))}"
        notes = (f'<div class="md small">{shared_markdown(r.notes)}</div>' if r.published_at
                 else '<p class="muted small">Its notes are not published yet.</p>')
        article = f' · <a href="{_var(r.desk_article_url)}">the desk\'s article</a>' if r.desk_article_url else ""
        url = html.escape(reverse("devflow:release", args=[r.pk]))
        out.append(f"<li><details><summary>{badge} <strong>{_var(r.version)}</strong> {_var(r.name)}\n"
                   f'      <span class="small muted">{moment}</span></summary>\n'
                   f"      {notes}\n"
                   f'      <p class="small"><a href="{url}">The release</a>{article}</p></details></li>')
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped or sanitised Markdown
