"""Major incidents: who may declare one and on what, who is told (once), the children it may take, and resolving
it with exactly the children chosen, one note to each of their requesters (rules in `itsm.services.major`)."""
import pytest

from itsm import services as itsm
from itsm.models import MajorIncident
from sla.models import Notification
from tests.factories import UserFactory
from tracker import services
from tracker.choices import EventKind, Kind, LinkType, Role, Status
from tracker.errors import AccessDenied, Conflict, TransitionRefused, ValidationFailed
from tracker.models import Comment, Link, TicketEvent


@pytest.fixture
def iris(db):
    return UserFactory(username="iris", role=Role.INCIDENT_MANAGER, first_name="Iris")


@pytest.fixture
def p1(cast, iris):
    """A P1 incident on Mail, whose owner is olga."""
    mail = cast.services["mail"]
    mail.owners.add(UserFactory(username="olga", role=Role.MANAGER, first_name="Olga"))
    return services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Email down for all of Berlin",
                                  requester=cast.requester, service=mail, impact=1, urgency=1)


def incident(cast, title="Outlook cannot connect", requester=None, **values):
    return services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title=title,
                                  requester=requester or cast.requester, **values)


def test_a_p3_cannot_be_declared_major(cast, iris):
    p3 = incident(cast, impact=2, urgency=2)
    with pytest.raises(ValidationFailed, match="must be P1. Raise its impact and urgency"):
        itsm.major_declare(ticket=p3, actor=cast.agent1, reason="Half the office cannot mail")
    assert not MajorIncident.objects.exists()


def test_declaring_tells_every_incident_manager_and_the_service_owners_exactly_once(cast, p1, iris):
    UserFactory(username="ivan", role=Role.INCIDENT_MANAGER)
    UserFactory(username="gone", role=Role.INCIDENT_MANAGER, is_active=False)
    p1.service.owners.add(iris)  # an owner who is also an incident manager hears once
    major = itsm.major_declare(ticket=p1, actor=cast.agent1, reason="No mail in Berlin since 08:10")
    assert major.declared_by == cast.agent1 and major.ended_at is None
    told = sorted(Notification.objects.filter(kind="major").values_list("recipient__username", flat=True))
    assert told == ["iris", "ivan", "olga"]
    event = TicketEvent.objects.get(ticket=p1, kind=EventKind.MAJOR)
    assert "Told:" in event.note and "Olga" in event.note and "Iris" in event.note


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(cast, p1, reason):
    with pytest.raises(ValidationFailed, match="Say why"):
        itsm.major_declare(ticket=p1, actor=cast.agent1, reason=reason)


def test_a_major_incident_is_declared_once_on_an_open_incident_only(cast, p1):
    itsm.major_declare(ticket=p1, actor=cast.agent1, reason="Berlin has no mail")
    with pytest.raises(Conflict, match="already been declared"):
        itsm.major_declare(ticket=p1, actor=cast.agent2, reason="again")
    change = services.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Swap the mail relay")
    with pytest.raises(ValidationFailed, match="not an incident"):
        itsm.major_declare(ticket=change, actor=cast.agent1, reason="x")
    closed = incident(cast, impact=1, urgency=1)
    services.ticket_transition(ticket=closed, to=Status.CANCELLED, actor=cast.agent1,
                               values={"resolution_note": "raised twice"})
    with pytest.raises(TransitionRefused, match="reopen it"):
        itsm.major_declare(ticket=closed, actor=cast.agent1, reason="x")


def test_requesters_may_not_declare_and_incident_managers_may(cast, p1, iris):
    with pytest.raises(AccessDenied):
        itsm.major_declare(ticket=p1, actor=cast.requester, reason="My mail is gone")
    assert itsm.major_declare(ticket=p1, actor=iris, reason="Berlin has no mail").declared_by == iris


@pytest.fixture
def major(cast, p1):
    itsm.major_declare(ticket=p1, actor=cast.agent1, reason="No mail in Berlin")
    return p1


def test_children_are_linked_as_sub_tasks_of_the_major(cast, major):
    kids = [incident(cast, f"No mail on floor {n}") for n in range(3)]
    itsm.major_link_children(major_ticket=major, children=kids, actor=cast.agent1)
    assert Link.objects.filter(source=major, type=LinkType.PARENT_OF).count() == 3
    assert [c.key for c in itsm.major_children(major)] == [k.key for k in kids]
    assert itsm.major_parent_of(kids) == {k.pk: major for k in kids}


def test_children_refuse_other_kinds_itself_closed_ones_and_those_under_another_major(cast, major):
    request = services.ticket_create(actor=cast.agent1, kind=Kind.REQUEST, title="New laptop")
    done = incident(cast)
    services.ticket_transition(ticket=done, to=Status.CANCELLED, actor=cast.agent1, values={"resolution_note": "x"})
    other = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="VPN down", impact=1, urgency=1)
    itsm.major_declare(ticket=other, actor=cast.agent1, reason="VPN down for all")
    taken = incident(cast, "VPN drops")
    itsm.major_link_children(major_ticket=other, children=[taken], actor=cast.agent1)
    fine = incident(cast, "No mail")
    with pytest.raises(ValidationFailed) as refused:
        itsm.major_link_children(major_ticket=major, children=[fine, request, major, done, taken, other],
                                 actor=cast.agent1)
    message = refused.value.message
    for text in (f"{request.key} is not an incident", f"{major.key} is the major incident itself",
                 f"{done.key} is cancelled", f"{taken.key} is already a child of {other.key}",
                 f"{other.key} is a major incident itself"):
        assert text in message
    assert not Link.objects.filter(source=major).exists()  # all or none


def test_children_go_only_under_an_open_major_and_only_staff_link_them(cast, p1):
    kid = incident(cast)
    with pytest.raises(TransitionRefused, match="declare it major first"):
        itsm.major_link_children(major_ticket=p1, children=[kid], actor=cast.agent1)
    itsm.major_declare(ticket=p1, actor=cast.agent1, reason="No mail")
    with pytest.raises(AccessDenied):
        itsm.major_link_children(major_ticket=p1, children=[kid], actor=cast.requester)


def test_resolving_resolves_exactly_the_chosen_children_with_one_note_to_each_requester(cast, major):
    alice, bob = UserFactory(username="carol", role=Role.REQUESTER), cast.other_requester  # not the major's
    kids = [incident(cast, "No mail on floor 1", requester=alice), incident(cast, "No mail on floor 2",
                                                                              requester=bob),
            incident(cast, "No mail on floor 3", requester=bob)]
    services.ticket_transition(ticket=kids[1], to=Status.IN_PROGRESS, actor=cast.agent1)
    itsm.major_link_children(major_ticket=major, children=kids, actor=cast.agent1)
    before = {u.pk: Notification.objects.filter(recipient=u).count() for u in (alice, bob)}
    note = "The Berlin mail relay was restarted; mail flows again. Queued mail arrives within the hour."
    resolved = itsm.major_resolve(major_ticket=major, actor=cast.agent1, note=note, children=kids[:2])
    assert [t.key for t in resolved] == [k.key for k in kids[:2]]
    for kid in kids:
        kid.refresh_from_db()
    assert [k.status for k in kids] == [Status.RESOLVED, Status.RESOLVED, Status.NEW]
    assert kids[0].resolution_note == note and kids[1].resolution_note == note
    for kid in kids[:2]:
        reply = Comment.objects.get(ticket=kid)
        assert reply.body == note and not reply.internal
    assert not Comment.objects.filter(ticket=kids[2]).exists()
    # carol's one child and bob's one resolved child: one update each, carrying the note
    for user, n in ((alice, 1), (bob, 1)):
        new = Notification.objects.filter(recipient=user).order_by("id")[before[user.pk]:]
        assert len(new) == n and note in new[0].body
    major.refresh_from_db()
    assert major.status == Status.RESOLVED and major.resolution_note == note
    assert MajorIncident.objects.get(ticket=major).ended_at is not None


def test_resolving_needs_a_note_and_children_of_this_major(cast, major):
    stranger = incident(cast)
    with pytest.raises(ValidationFailed, match="resolution note"):
        itsm.major_resolve(major_ticket=major, actor=cast.agent1, note=" ", children=[])
    with pytest.raises(ValidationFailed, match="not a child of"):
        itsm.major_resolve(major_ticket=major, actor=cast.agent1, note="Fixed", children=[stranger])
    with pytest.raises(AccessDenied):
        itsm.major_resolve(major_ticket=major, actor=cast.requester, note="Fixed", children=[])
    itsm.major_resolve(major_ticket=major, actor=cast.agent1, note="Fixed", children=[])
    with pytest.raises(TransitionRefused, match="has ended"):
        itsm.major_resolve(major_ticket=major, actor=cast.agent1, note="Fixed", children=[])


def test_the_plain_resolve_leaves_the_children_alone(cast, major):
    kid = incident(cast)
    itsm.major_link_children(major_ticket=major, children=[kid], actor=cast.agent1)
    services.ticket_transition(ticket=major, to=Status.IN_PROGRESS, actor=cast.agent1)
    services.ticket_transition(ticket=major, to=Status.RESOLVED, actor=cast.agent1,
                               values={"resolution_note": "Relay back"})
    kid.refresh_from_db()
    assert kid.status == Status.NEW


def test_keys_name_visible_tickets_only(cast, major):
    kid = incident(cast)
    assert itsm.major_children_by_keys(user=cast.agent1, keys=f"{kid.key.lower()}, {kid.key}") == [kid]
    with pytest.raises(ValidationFailed, match="No ticket INC-999"):
        itsm.major_children_by_keys(user=cast.agent1, keys="INC-999")
