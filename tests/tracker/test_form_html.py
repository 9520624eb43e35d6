"""The Python form renderer (tracker.form_html.FAST) writes what Django's templates write for the ticket page's
forms: every move form of every workflow, the Swarm panel's forms and the comment and link forms, unbound, with
a ticket's values, bound with odd input and with errors."""
import pytest
from django import forms
from django.forms.renderers import get_default_renderer

from devflow.views import DefectForm
from itsm.forms import AnalysisForm, RollbackForm, ScheduleForm, TaskForm, VoteForm
from tracker.form_html import FAST
from tracker.forms import CommentForm, HelpForm, InviteForm, LinkForm, WorkLogForm, humanize_blanks
from tracker.models import Ticket
from tracker.templatetags.ticket_page import field_block
from tracker.views import _move_form_class
from tracker.workflows import WORKFLOWS

pytestmark = pytest.mark.django_db
ODD = '<b>"Tom" & \'Jerry\'</b>\n  two lines  '


def _pieces(form) -> list[str]:
    out = [str(form), str(form.non_field_errors())]
    for bf in form:
        out += [str(bf), bf.label_tag(), str(bf.errors), str(bf.label_tag(attrs={"class": "x", "data-y": True}))]
    return out


def _same(form_class, *args, **kwargs):
    django_form = form_class(*args, renderer=get_default_renderer(), **kwargs)
    fast_form = form_class(*args, renderer=FAST, **kwargs)
    for f in (django_form, fast_form):
        humanize_blanks(f.fields)
    assert _pieces(fast_form) == _pieces(django_form)
    return fast_form


def _move_field_sets():
    return sorted({(*m.requires, *m.offers) for w in WORKFLOWS.values() for m in w.moves if m.requires or m.offers})


@pytest.mark.parametrize("names", _move_field_sets(), ids="-".join)
def test_move_forms_render_as_with_django_templates(names, cast):
    form_class = _move_form_class(names)
    ticket = Ticket(title="t", description=ODD, resolution_note=ODD)
    initial = {n: getattr(ticket, n, None) for n in names}
    _same(form_class, initial=initial, auto_id="id_x_%s")
    _same(form_class, auto_id="id_x_%s")
    _same(form_class, {n: ODD for n in names}, auto_id="id_x_%s")  # bound: odd values, choices refused
    _same(form_class, {}, auto_id="id_x_%s")  # bound: required fields missing


@pytest.mark.parametrize("form_class", [InviteForm, HelpForm, WorkLogForm, CommentForm, LinkForm, ScheduleForm,
                                        TaskForm, RollbackForm, VoteForm, AnalysisForm, DefectForm])
def test_the_pages_other_forms_render_as_with_django_templates(form_class, cast):
    auto_id = f"id_{form_class.__name__}_%s"
    _same(form_class, auto_id=auto_id)
    fields = form_class.base_fields
    _same(form_class, {n: ODD for n in fields}, auto_id=auto_id)
    _same(form_class, {n: "12" for n in fields}, auto_id=auto_id)
    _same(form_class, {}, auto_id=auto_id)
    _same(form_class, {}, auto_id=False)  # no ids: labels without a tag


def test_optgroups_and_other_widgets_render_as_with_django_templates():
    class Odd(forms.Form):
        grouped = forms.ChoiceField(choices=[("A & B", [("1", "<one>"), ("2", "two")]), ("3", "three")])
        many = forms.MultipleChoiceField(choices=[("1", "one"), ("2", "two")])
        flag = forms.BooleanField(required=False)
        when = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
        secret = forms.CharField(widget=forms.PasswordInput(render_value=True))
        hidden = forms.CharField(widget=forms.HiddenInput)
        number = forms.DecimalField()
        mail = forms.EmailField(help_text="<i>escaped</i>")

    _same(Odd)
    _same(Odd, {"grouped": "1", "many": ["2"], "flag": "on", "when": "2026-01-02", "secret": ODD, "hidden": ODD,
                "number": "1.5", "mail": ODD})
    _same(Odd, {})


def test_field_block_writes_what_the_field_include_writes(cast):
    from django.template.loader import render_to_string
    for data in (None, {}, {"note": ODD, "minutes": "x"}):
        form = WorkLogForm(data, auto_id="id_work_%s", renderer=FAST)
        for bf in form:
            assert field_block(bf) == render_to_string("tracker/_field.html", {"f": bf})
