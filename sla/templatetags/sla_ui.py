"""The notifications bell's number, for the top bar item SLA registers; the dashboard's table rows."""
from django import template
from django.template.base import render_value_in_context
from django.utils.safestring import SafeString, mark_safe

from sla.selectors import unread_count
from tracker.form_html import _var
from tracker.templatetags.crossline import key_url

register = template.Library()

NUM = 'class="num"'


@register.simple_tag
def clock_rows(rows):
    """The SLA clocks panel's rows (`rows` from `sla.ui.clocks_panel`), as its template loop wrote them: each clock's
    badge in its tone, its sentence and, past the first cycle, the cycle."""
    out = []
    for row in rows:
        view, cycle = row["view"], row["clock"].cycle
        again = f" · cycle {_var(cycle)}" if cycle > 1 else ""
        out.append(f'\n    <li><span class="badge sla-{_var(view["tone"])}">{_var(view["short"])}</span> '
                   f'<span class="small">{_var(view["text"])}{again}</span></li>')
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped


@register.simple_tag
def unread_notifications(user) -> int:
    return unread_count(user)


@register.simple_tag(takes_context=True)
def table_rows(context, table):
    """The `<tr>`s of a dashboard table (`sla.dashboard.Table`), built here rather than by template tags per cell:
    the trend table has a row per day. Cells read as `{{ cell }}` reads them (localised, escaped); the
    breaches table's second column is a ticket key, linked."""
    link = table.slug == "breaches"
    out = []
    for row in table.rows:
        cells = []
        for i, cell in enumerate(row):
            text = render_value_in_context(cell, context)
            if link and i == 1:
                text = f'<a class="key" href="{key_url("tracker:ticket", cell)}">{text}</a>'
            cells.append(f'<td {NUM if i else ""}>{text}</td>')
        out.append(f"<tr>{''.join(cells)}</tr>")
    return SafeString("".join(out))
