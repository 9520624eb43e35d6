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


# A ticket page's links carry its key (and a field name, a link's or contributor's id): these are filled into a
# pattern resolved once per name; any value that pattern cannot stand for is resolved as the built-in tag does.
VALUES = ["INC-42", "CHG-7", "a_b", "-", "42", "", "INC 4", "INC/4", "INC.4", "..", "é", "Slot0x7340w", 0, 17,
          7_340_000_000_001, -3, True]
SLOTTED = [
    "{% url 'tracker:ticket' v %}",
    "{% url 'tracker:ticket-field' v 'title' %}",
    "{% url 'tracker:ticket-field' 'INC-1' v %}",
    "{% url 'tracker:ticket-unlink' 'INC-1' v %}",
    "{% url 'tracker:ticket-unlink' key=v link_id=5 %}",
    "{% url 'tracker:ticket-leave' v v %}",
    "{% url 'tracker:attachment' v 'report.pdf' %}",
    "{% url 'tracker:attachment' 3 v %}",
    "{% url 'tracker:attachment-remove' v %}",
]


@pytest.mark.parametrize("body", SLOTTED)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_url_filled_into_its_pattern_is_the_built_in_tags(body, value):
    outcomes = []
    for loaded in ("{% load links %}", ""):
        try:
            outcomes.append(Template(loaded + body).render(Context({"v": value})))
        except NoReverseMatch:
            outcomes.append(NoReverseMatch)
    assert outcomes[0] == outcomes[1]


def test_ticket_keys_are_filled_into_one_pattern_per_name():
    from tracker.templatetags import links

    links._pattern.cache_clear()
    links._reverse.cache_clear()
    template = Template("{% load links %}{% url 'tracker:ticket-field' key 'status' %}")
    pages = [template.render(Context({"key": f"INC-{n}"})) for n in range(1, 51)]
    assert pages == [f"/tickets/INC-{n}/fields/status/" for n in range(1, 51)]
    assert links._pattern.cache_info().currsize == 1
    assert links._reverse.cache_info().currsize == 0


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
