"""A form renderer that writes Django's stock form templates in Python: the same HTML, without a template render
per widget, label and error list.

The ticket page shows a dozen small forms (its moves, the Swarm panel's invite, help and work forms); rendering
each field through Django's templates (the widget, its attrs, the label, an empty error list) cost more CPU than
the rest of the page's forms. `FAST` keeps Django's own work that decides *what* is shown (the widget's
context: value formatting, attributes, options; the label's suffix and `for`; which errors) and only replaces
the step that turns that context into text, for the stock templates listed below. Any other template (a custom
widget, an overridden template name) goes to Django's renderer unchanged.

    FormClass(..., renderer=FAST)    or    class F(forms.Form): default_renderer = FAST

tests/tracker/test_form_html.py renders the page's forms (unbound, bound, with errors, odd values) through both
renderers and compares the output.
"""

import html

from django.forms.renderers import DjangoTemplates
from django.template.defaultfilters import stringformat
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.timezone import template_localtime

_INPUT_TEMPLATES = frozenset(f"django/forms/widgets/{name}.html" for name in (
    "text", "number", "email", "url", "password", "hidden", "date", "datetime", "time", "search", "tel", "checkbox"))


def _var(value) -> str:
    """`{{ value }}` in an autoescaping template (as django.template.base.render_value_in_context)."""
    if type(value) is str:  # most values: localizing leaves a plain string as it is, and escape() is html.escape
        return html.escape(value)
    value = localize(template_localtime(value))
    if not issubclass(type(value), str):
        value = str(value)
    return conditional_escape(value)


def _s(value) -> str:
    """`{{ value|stringformat:'s' }}` in an autoescaping template."""
    text = stringformat(value, "s")
    if isinstance(value, SafeData):
        text = mark_safe(text)
    return conditional_escape(text)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html and django/forms/attrs.html."""
    out = []
    for name, value in (attrs or {}).items():  # a label of a widget without an id for it has None
        if value is not False:
            out.append(f" {_var(name)}" if value is True else f' {_var(name)}="{_s(value)}"')
    return "".join(out)


def _input(widget: dict) -> str:
    value = widget["value"]
    shown = f' value="{_s(value)}"' if value is not None else ""
    return f'<input type="{_var(widget["type"])}" name="{_var(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'


def _textarea(widget: dict) -> str:
    value = widget["value"]
    return (f'<textarea name="{_var(widget["name"])}"{_attrs(widget["attrs"])}>\n'
            f'{_var(value) if value else ""}</textarea>')


def _select(widget: dict) -> str | None:
    out = [f'<select name="{_var(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_var(group_name)}">')
        for option in group_choices:
            if option["template_name"] != "django/forms/widgets/select_option.html":
                return None
            out.append(f'\n  <option value="{_s(option["value"])}"{_attrs(option["attrs"])}>'
                       f'{_var(option["label"])}</option>\n')  # the included file's own newline
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _label(context: dict) -> str:
    if not context["use_tag"]:
        return _var(context["label"])
    tag = _var(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{_var(context['label'])}</{tag}>"


def _errors(context: dict) -> str:
    errors = context["errors"]
    if not errors:
        return ""
    field_id = errors.field_id
    shown_id = f' id="{_var(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{_var(error)}</li>" for error in errors)
    return f'<ul class="{_var(context["error_class"])}"{shown_id}>{items}</ul>'


class PythonFormRenderer(DjangoTemplates):
    """Django's default renderer, writing its stock widget, label and error-list templates in Python."""

    def render(self, template_name, context, request=None):
        html = None
        if template_name in _INPUT_TEMPLATES:
            html = _input(context["widget"])
        elif template_name == "django/forms/widgets/textarea.html":
            html = _textarea(context["widget"])
        elif template_name == "django/forms/widgets/select.html":
            html = _select(context["widget"])
        elif template_name == "django/forms/label.html":
            html = _label(context)
        elif template_name == "django/forms/errors/list/default.html":
            html = _errors(context)
        if html is None:
            return super().render(template_name, context, request=request)
        return html.strip()


FAST = PythonFormRenderer()
