"""`{% load links %}` replaces `{% url %}` with a tag that resolves each name and arguments once per process:
its output is the built-in tag's in every form, and a changed script prefix is seen at once."""
import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, get_script_prefix, set_script_prefix

FORMS = [
    "{% url 'home' %}",
    "{% url 'tracker:queue' %}?view=open",
    "{% url 'tracker:ticket' key %}",
    "{% url 'tracker:ticket' key=key %}",
    "{% url 'tracker:ticket' 'INC-<7>' %}",
    "{% url name key %}",
    "{% url 'tracker:ticket' key as link %}[{{ link }}]",
    "{% url 'no-such-page' as link %}[{{ link }}]",
    "{% autoescape off %}{% url 'tracker:ticket' key %}{% endautoescape %}",
]


def _both(body: str, **ctx) -> tuple[str, str]:
    context = {"key": "INC-42", "name": "tracker:ticket-preview", **ctx}
    return (Template("{% load links %}" + body).render(Context(context)),
            Template(body).render(Context(context)))


@pytest.mark.parametrize("body", FORMS)
def test_the_cached_tag_writes_what_the_built_in_tag_writes(body):
    cached, builtin = _both(body)
    assert cached == builtin
    assert _both(body) == (cached, builtin)  # and again, from the cache


def test_an_unknown_name_fails_as_with_the_built_in_tag():
    with pytest.raises(NoReverseMatch):
        Template("{% load links %}{% url 'no-such-page' %}").render(Context({}))


def test_a_changed_script_prefix_is_seen_by_the_next_render():
    template = Template("{% load links %}{% url 'tracker:ticket' 'INC-1' %}")
    before = get_script_prefix()
    assert template.render(Context({})) == "/tickets/INC-1/"
    set_script_prefix("/desk/")
    try:
        assert template.render(Context({})) == "/desk/tickets/INC-1/"
    finally:
        set_script_prefix(before)
    assert template.render(Context({})) == "/tickets/INC-1/"


def test_a_model_argument_goes_to_reverse_every_time(cast):
    from tracker.models import AssignmentGroup

    group = AssignmentGroup.objects.first()
    cached, builtin = _both("{% url 'tracker:ticket' group.pk %}|{% url 'tracker:ticket' group %}", group=group)
    assert cached == builtin
