"""A queue to work from: columns each person chooses (or a saved view keeps), the split view's preview, and
views pinned to the top bar with their counts."""

import re

import pytest
from django.http import QueryDict

from tests.factories import CategoryFactory, TicketFactory
from tracker import selectors, services
from tracker.choices import Kind, Status
from tracker.errors import AccessDenied, Conflict, ValidationFailed
from tracker.models import QueueView, User

HX = {"HTTP_HX_REQUEST": "true"}


def header(page: str) -> list[str]:
    """The queue table's column headings, in order (without the tick box and the actions)."""
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    cells = re.findall(r"<th[^>]*>(.*?)</th>", head, flags=re.S)
    return [re.sub(r"<[^>]+>|[↑↓]", "", c).strip() for c in cells][1:-1]


# --- columns ----------------------------------------------------------------------------------------------


def test_the_default_columns_include_the_registered_badges(cast, client_for):
    TicketFactory(requester=cast.requester)
    page = client_for(cast.agent1).get("/queue/").content.decode()
    assert header(page) == ["Key", "Title", "Status", "Priority", "SLA", "Group", "Responsible", "Created", "Updated"]


def test_an_agent_chooses_and_orders_columns_and_keeps_them(cast, client_for):
    TicketFactory(requester=cast.requester, title="Mouse squeaks", category=CategoryFactory(name="Hardware"))
    client = client_for(cast.agent1)
    response = client.post("/queue/columns/", {"order": ["category", "title", "sla", "status"],
                                               "columns": ["title", "sla", "category"]}, **HX)
    assert response.status_code == 200 and response["HX-Trigger"] == "refresh"  # the list reloads itself
    assert User.objects.get(pk=cast.agent1.pk).queue_columns == ["category", "title", "sla"]
    page = client.get("/queue/").content.decode()
    assert header(page) == ["Key", "Category", "Title", "SLA"]
    assert ">Hardware</td>" in page and "Responsible" not in header(page)
    # back to the defaults
    client.post("/queue/columns/", {"reset": "1", "columns": ["title"]}, **HX)
    assert User.objects.get(pk=cast.agent1.pk).queue_columns == []
    assert "Responsible" in header(client.get("/queue/").content.decode())


@pytest.mark.parametrize(("columns", "message"), [
    (["title", "salary"], "The queue has no column “salary”; choose from title, status, priority, sla"),
    (["title", "title"], "Title is listed twice"),
    ([], "Show at least one column besides the key."),
])
def test_unknown_twice_or_no_columns_are_refused_with_what_to_fix(cast, client_for, columns, message):
    client = client_for(cast.agent1)
    response = client.post("/queue/columns/", {"columns": columns}, **HX)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert User.objects.get(pk=cast.agent1.pk).queue_columns == []
    with pytest.raises(ValidationFailed, match=message.split(";")[0]):
        services.queue_columns_save(actor=cast.agent1, columns=columns)


def test_without_javascript_the_arrows_move_a_column_and_save(cast, client_for):
    client = client_for(cast.agent1)
    response = client.post("/queue/columns/", {"order": ["title", "status", "priority"], "move": "status:up",
                                               "columns": ["title", "status", "priority"], "next": "/queue/?view=mine"})
    assert response.status_code == 302 and response["Location"] == "/queue/?view=mine"
    assert User.objects.get(pk=cast.agent1.pk).queue_columns == ["status", "title", "priority"]
    response = client.post("/queue/columns/", {"columns": ["nope"], "next": "https://evil.example/"})
    assert response["Location"] == "/queue/"  # never off the site; the refusal waits on the queue page
    assert "The queue has no column “nope”" in client.get("/queue/").content.decode()


def test_a_saved_view_keeps_its_columns_for_everyone_who_opens_it(cast, client_for):
    cast.l1.members.add(cast.agent2)
    TicketFactory(requester=cast.requester, group=cast.l1, service=cast.services["payroll"], priority=1)
    lena, liam = client_for(cast.agent1), client_for(cast.agent2)
    lena.post("/queue/columns/", {"columns": ["title", "service", "priority"]}, **HX)
    lena.post("/queue/views/", {"name": "Desk P1", "share": cast.l1.pk, "with_columns": "1",
                                "query": "view=open&priority=1"}, **HX)
    view = QueueView.objects.get(name="Desk P1")
    assert view.columns == ["title", "service", "priority"]
    # liam keeps his own columns elsewhere, and sees the view's in the view
    assert "Service" not in header(liam.get("/queue/").content.decode())
    page = liam.get(f"/queue/?view=open&priority=1&saved={view.pk}").content.decode()
    assert header(page) == ["Key", "Title", "Service", "Priority"] and ">Payroll</td>" in page
    # a teammate changes the view's columns for everyone; "me" would have kept them for himself
    liam.post("/queue/columns/", {"columns": ["title", "status"], "target": "view", "view": view.pk}, **HX)
    view.refresh_from_db()
    assert view.columns == ["title", "status"]
    assert User.objects.get(pk=cast.agent2.pk).queue_columns == []
    liam.post("/queue/columns/", {"reset": "1", "target": "view", "view": view.pk}, **HX)
    view.refresh_from_db()
    assert view.columns == []  # each person's own columns again


def test_only_the_owner_or_team_changes_a_views_columns(cast):
    mine = services.queue_view_save(actor=cast.agent1, name="Mine", query=QueryDict(""), columns=["title"])
    with pytest.raises(AccessDenied):
        services.queue_columns_save(actor=cast.agent2, columns=["status"], view=mine)
    with pytest.raises(ValidationFailed):
        services.queue_view_save(actor=cast.agent1, name="Odd", query=QueryDict(""), columns=["salary"])


def test_a_view_saved_without_columns_shows_each_viewer_their_own(cast, client_for):
    client = client_for(cast.agent1)
    client.post("/queue/views/", {"name": "Plain", "query": "view=open"}, **HX)
    assert QueueView.objects.get(name="Plain").columns == []


def test_a_row_action_renders_the_row_with_the_chosen_columns(cast, client_for):
    ticket = TicketFactory(requester=cast.requester, group=cast.l1, service=cast.services["mail"])
    client = client_for(cast.agent1)
    client.post("/queue/columns/", {"columns": ["service", "title"]}, **HX)
    response = client.post(f"/tickets/{ticket.key}/assign-me/", {"version": ticket.version},
                           HTTP_HX_TARGET=f"row-{ticket.key}", HTTP_HX_CURRENT_URL="http://testserver/queue/", **HX)
    row = response.content.decode()
    assert response.status_code == 200 and "is now assigned to you" in row
    assert row.index(">Mail</td>") < row.index(ticket.title)
    assert response["HX-Trigger"] == "queue-refreshed"  # the views' counts follow


# --- split view and its preview ---------------------------------------------------------------------------


def test_the_split_view_is_kept_per_person(cast, client_for):
    client = client_for(cast.agent1)
    assert 'class="queue-panes">' in client.get("/queue/").content.decode()
    response = client.post("/queue/layout/", {"split": "1"}, **HX)
    assert 'aria-pressed="true"' in response.content.decode()
    assert User.objects.get(pk=cast.agent1.pk).queue_split is True
    page = client.get("/queue/").content.decode()
    assert 'class="queue-panes" data-split>' in page
    assert client.post("/queue/layout/", {"split": "0", "next": "/queue/?view=mine"})["Location"] == "/queue/?view=mine"
    assert User.objects.get(pk=cast.agent1.pk).queue_split is False


def test_the_preview_shows_the_header_properties_latest_entries_and_the_next_step(cast, client_for):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                    service=cast.services["payroll"], description="All of **finance**.")
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Looking at the export.")
    client = client_for(cast.agent1)
    page = client.get(f"/tickets/{ticket.key}/preview/", **HX).content.decode()
    assert ticket.key in page and "Payslips are blank" in page and "<strong>finance</strong>" in page
    assert "Payroll" in page and "Looking at the export." in page
    assert '<button type="submit" name="to" value="in_progress" class="primary">Start work</button>' in page
    assert 'name="preview" value="1"' in page
    # without htmx the preview is the ticket page; a requester never gets one
    assert client.get(f"/tickets/{ticket.key}/preview/")["Location"] == f"/tickets/{ticket.key}/"
    assert client_for(cast.requester).get(f"/tickets/{ticket.key}/preview/")["Location"] == "/portal/"


def test_a_move_from_the_preview_answers_with_the_preview_and_refreshes_the_list(cast, client_for):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank")
    client = client_for(cast.agent1)
    response = client.post(f"/tickets/{ticket.key}/transition/",
                           {"to": Status.IN_PROGRESS, "version": ticket.version, "preview": "1"}, **HX)
    assert response.status_code == 200 and response["HX-Trigger"] == "refresh"
    assert response["HX-Retarget"] == "#preview"
    page = response.content.decode()
    assert "is now “In progress”" in page and 'data-preview-key="' in page
    # a stale move is refused in the preview, with its message
    response = client.post(f"/tickets/{ticket.key}/transition/",
                           {"to": Status.RESOLVED, "version": ticket.version, "preview": "1",
                            "resolution_note": "Fixed"}, **HX)
    assert response.status_code == 412 and "changed by someone else" in response.content.decode()
    # a move that needs a note keeps what was typed, in the preview's form
    ticket.refresh_from_db()
    response = client.post(f"/tickets/{ticket.key}/transition/",
                           {"to": Status.RESOLVED, "version": ticket.version, "preview": "1"}, **HX)
    assert response.status_code == 400 and 'name="preview" value="1"' in response.content.decode()


# --- pinned views and the counts in the top bar -----------------------------------------------------------


def test_pinned_views_default_to_my_open_and_my_saved_views(cast):
    desk = services.queue_view_save(actor=cast.agent1, name="Desk P1", query=QueryDict("priority=1"), group=cast.l1)
    saved = selectors.queue_views_for(cast.agent1)
    assert [p["label"] for p in selectors.pinned_views(cast.agent1, saved)] == ["My open", "Desk P1"]
    assert selectors.pinned_views(cast.agent1, saved)[1]["url"] == f"/queue/?priority=1&saved={desk.pk}"


def test_an_agent_pins_and_unpins_views_up_to_a_limit(cast):
    services.queue_pin(actor=cast.agent1, ref="breached", pinned=True)
    assert cast.agent1.queue_pins == ["mine", "breached"]
    services.queue_pin(actor=cast.agent1, ref="mine", pinned=False)
    assert User.objects.get(pk=cast.agent1.pk).queue_pins == ["breached"]
    with pytest.raises(ValidationFailed, match="no such view"):
        services.queue_pin(actor=cast.agent1, ref="saved-999", pinned=True)
    theirs = services.queue_view_save(actor=cast.agent2, name="Theirs", query=QueryDict(""))
    with pytest.raises(ValidationFailed):  # someone else's view is not one to pin
        services.queue_pin(actor=cast.agent1, ref=f"saved-{theirs.pk}", pinned=True)
    for ref in ("open", "mine", "my-group", "unassigned-l1", "breaching"):
        services.queue_pin(actor=cast.agent1, ref=ref, pinned=True)
    with pytest.raises(Conflict, match="6 views are pinned already; unpin one before you pin “Everything”"):
        services.queue_pin(actor=cast.agent1, ref="all", pinned=True)


def test_the_top_bar_counts_come_after_the_page_and_follow_the_queue(cast, client_for):
    TicketFactory.create_batch(2, requester=cast.requester, assignee=cast.agent1)
    services.queue_view_save(actor=cast.agent1, name="Desk P1", query=QueryDict("view=open&priority=1"),
                             group=cast.l1)
    TicketFactory(requester=cast.requester, priority=1)
    client = client_for(cast.agent1)
    page = client.get("/tickets/new/").content.decode()  # any page: an empty placeholder that loads itself
    assert '<div id="pins" class="pins" hx-get="/queue/pins/" hx-trigger="load,' in page and "Desk P1" not in page
    pins = client.get("/queue/pins/", **HX).content.decode()
    assert 'My open <span class="count">2</span>' in pins and 'Desk P1 <span class="count">1</span>' in pins
    assert 'hx-trigger="load' not in pins  # the answer polls, it does not load itself again
    # on the queue the views' counts request brings the pins along, and a refreshed list asks for both again
    queue = client.get("/queue/").content.decode()
    assert '<div id="pins" class="pins"></div>' in queue
    assert 'hx-trigger="load, queue-refreshed from:body"' in queue
    counts = client.get("/queue/counts/", **HX).content.decode()
    assert 'id="pins" class="pins" hx-swap-oob="true"' in counts and 'My open <span class="count">2</span>' in counts
    refreshed = client.get("/queue/?view=open", HTTP_HX_TARGET="results", **HX)
    assert refreshed["HX-Trigger"] == "queue-refreshed"


def test_pinning_from_the_queue_answers_with_the_views_and_refuses_in_place(cast, client_for):
    client = client_for(cast.agent1)
    response = client.post("/queue/pins/?view=breached", {"ref": "breached", "pinned": "1"}, **HX)
    assert response.status_code == 200 and "Pinned to the top bar." in response.content.decode()
    assert 'aria-label="Pin “Breached” to the top bar"' in response.content.decode()
    assert User.objects.get(pk=cast.agent1.pk).queue_pins == ["mine", "breached"]
    response = client.post("/queue/pins/", {"ref": "saved-42", "pinned": "1"}, **HX)
    assert response.status_code == 400 and "There is no such view to pin" in response.content.decode()
    response = client.post("/queue/pins/", {"ref": "breached", "pinned": "0", "next": "/queue/?view=breached"})
    assert response["Location"] == "/queue/?view=breached"
    assert User.objects.get(pk=cast.agent1.pk).queue_pins == ["mine"]


def test_a_requester_has_no_pins_and_no_queue_tools(cast, client_for):
    client = client_for(cast.requester)
    assert 'id="pins"' not in client.get("/portal/").content.decode()
    for url in ("/queue/pins/", "/queue/columns/", "/queue/layout/"):
        assert client.post(url, {"columns": ["title"], "split": "1"})["Location"] == "/portal/"


def _bulk_people(html: str) -> list[str]:
    select = re.search(r'<select name="assignee" id="bulk-assignee">(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="[^"]*"(?: selected)?>([^<]*)</option>', select)


def test_the_bulk_bar_lists_the_people_of_this_moment_renamed_added_or_gone(cast, client_for):
    client = client_for(cast.agent1)
    before = _bulk_people(client.get("/queue/").content.decode())
    assert "choose a person" in before and cast.agent2.display_name in before
    cast.agent2.first_name, cast.agent2.last_name = "Liam", "Renamed"
    cast.agent2.save()
    newcomer = User.objects.create(username="nora", first_name="Nora", role=cast.agent1.role)
    User.objects.filter(pk=cast.engineer.pk).update(is_active=False)
    after = _bulk_people(client.get("/queue/").content.decode())
    assert "Liam Renamed" in after and "Nora" in after and newcomer.display_name in after
    assert cast.engineer.display_name not in after and len(after) == len(before)  # one came, one went
