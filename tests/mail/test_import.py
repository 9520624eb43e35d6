"""`mail_import`: .eml files, folders, Maildir and mbox files are filed through the intake, once."""
import mailbox
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sla.choices import InboundOutcome
from sla.models import InboundMail, Mailbox
from tracker.choices import Kind
from tracker.models import Ticket

from .test_intake_rules import raw_mail

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def requests_box(cast):
    return Mailbox.objects.create(name="Requests", address="requests@crossline.test", kind=Kind.REQUEST, group=cast.l1)


def run(*args) -> str:
    out = StringIO()
    call_command("mail_import", *map(str, args), stdout=out)
    return out.getvalue()


def test_a_folder_of_eml_files_is_filed_with_a_count_per_outcome(tmp_path, cast):
    shutil.copytree(FIXTURES, tmp_path / "mails")
    out = run(tmp_path / "mails")
    assert "14 messages read." in out
    for outcome in InboundOutcome:
        assert f"  {outcome.label}: {InboundMail.objects.filter(outcome=outcome).count()}\n" in out
    assert "  Quarantined: 1\n" in out and "  Created a ticket: 0\n" not in out
    tickets = Ticket.objects.count()
    assert run(tmp_path / "mails") == out  # again: the same rows come back, nothing is filed twice
    assert InboundMail.objects.count() == 14 and Ticket.objects.count() == tickets


def test_a_maildir_and_an_mbox_file_reach_the_mailbox_given(tmp_path, requests_box):
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    maildir.add(raw_mail(message_id="<a@x>", subject="Laptop for a starter"))
    reply = raw_mail(message_id="<b@x>", subject="Re: Laptop for a starter", headers="In-Reply-To: <a@x>\r\n")
    maildir.add(reply)
    box = mailbox.mbox(tmp_path / "old.mbox", create=True)
    box.add(raw_mail(message_id="<c@x>", subject="VPN token"))
    box.flush()
    out = run(tmp_path / "Maildir", tmp_path / "old.mbox", "--mailbox", "REQUESTS@crossline.test")
    assert "3 messages read." in out and "Created a ticket: 2" in out and "Added to a ticket: 1" in out
    assert set(Ticket.objects.values_list("kind", flat=True)) == {Kind.REQUEST}
    assert InboundMail.objects.filter(mailbox=requests_box).count() == 3
    assert InboundMail.objects.get(message_key="b@x").outcome == InboundOutcome.REPLIED


def test_an_unknown_mailbox_or_path_is_refused_with_what_to_fix(tmp_path, requests_box):
    (tmp_path / "a.eml").write_bytes(raw_mail())
    with pytest.raises(CommandError, match="No intake mailbox has the address x@y; known: requests@crossline.test"):
        run(tmp_path / "a.eml", "--mailbox", "x@y")
    with pytest.raises(CommandError, match="does not exist"):
        run(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CommandError, match="not a .eml file, a Maildir or an mbox file"):
        run(tmp_path / "notes.txt")
    assert not InboundMail.objects.exists()
