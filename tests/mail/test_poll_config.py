"""Mailboxes from CROSSLINE_MAILBOXES: parsed with care, upserted by address, a bad entry named, never a crash."""
import pytest

from sla.models import Mailbox
from sla.services.mail_poll import mailboxes_poll, mailboxes_sync_environment, parse_mailbox_entry, parse_mailboxes
from tracker.choices import Kind
from tracker.errors import ValidationFailed

pytestmark = pytest.mark.django_db

DESK = "incident=imaps://desk%40example.com:s3cr%2Cet@imap.example.com:993/Support/Desk?address=Desk@Example.com&name=Service%20desk"


def test_an_entry_gives_every_setting_of_the_mailbox():
    spec = parse_mailbox_entry(DESK)
    assert (spec.kind, spec.address, spec.name) == (Kind.INCIDENT, "desk@example.com", "Service desk")
    assert (spec.imap_host, spec.imap_port, spec.imap_ssl) == ("imap.example.com", 993, True)
    assert (spec.imap_user, spec.imap_password, spec.imap_folder) == ("desk@example.com", "s3cr,et", "Support/Desk")


def test_plain_imap_defaults_to_port_143_and_the_inbox_and_takes_the_kind_by_its_long_name():
    spec = parse_mailbox_entry("service_request=imap://u:p@mail.local?address=req@example.com")
    assert (spec.kind, spec.imap_port, spec.imap_ssl, spec.imap_folder, spec.name) == (
        Kind.REQUEST, 143, False, "INBOX", "req@example.com")


@pytest.mark.parametrize("entry, says", [
    ("incident", "write it as kind=imaps://"),
    ("ticket=imaps://u:p@h?address=a@b.example", "the kind must be one of"),
    ("incident=pop3://u:p@h?address=a@b.example", "the scheme must be imaps://"),
    ("incident=imaps://u:p@h:99999?address=a@b.example", "cannot be read"),
    ("incident=imaps://h?address=a@b.example", "needs the user and password"),
    ("incident=imaps://u:p@h", "add ?address="),
    ("incident=imaps://u:hunter2@h?address=not-an-address", "add ?address="),
])
def test_a_bad_entry_is_refused_by_name_with_what_to_fix_and_never_its_password(entry, says):
    with pytest.raises(ValidationFailed) as refused:
        parse_mailbox_entry(entry)
    assert says in refused.value.message
    assert "CROSSLINE_MAILBOXES entry" in refused.value.message
    assert "hunter2" not in refused.value.message


def test_bad_entries_are_reported_and_the_good_ones_kept():
    specs, errors = parse_mailboxes(f"{DESK}, change=imaps://u:hunter2@h?address=oops ,,")
    assert [s.address for s in specs] == ["desk@example.com"]
    assert len(errors) == 1 and "change=imaps://u:***@h?address=oops" in errors[0]


def test_the_environment_upserts_mailboxes_by_address_read_only(cast):
    mine = Mailbox.objects.create(name="Old desk", address="desk@example.com", kind=Kind.REQUEST)
    assert mailboxes_sync_environment(DESK + "&group=service%20desk&service=Payroll") == []
    mine.refresh_from_db()
    assert (mine.name, mine.kind, mine.from_environment, mine.imap_password) == (
        "Service desk", Kind.INCIDENT, True, "s3cr,et")
    assert (mine.group, mine.service) == (cast.l1, cast.services["payroll"])
    assert Mailbox.objects.count() == 1
    assert mailboxes_sync_environment(DESK.replace("993", "1993")) == []
    mine.refresh_from_db()
    assert (mine.imap_port, mine.group) == (1993, None)


def test_a_mailbox_that_left_the_environment_stops_being_polled(db):
    mailboxes_sync_environment(DESK)
    mailboxes_sync_environment("")
    assert Mailbox.objects.get().active is False


def test_an_unreadable_entry_leaves_the_configured_mailboxes_alone(db):
    mailboxes_sync_environment(DESK)
    errors = mailboxes_sync_environment("incident=imaps://broken")
    assert len(errors) == 1 and Mailbox.objects.get().active is True


def test_an_entry_naming_an_unknown_group_is_an_error_not_a_crash(db):
    errors = mailboxes_sync_environment(DESK + "&group=Nobody")
    assert errors == ["CROSSLINE_MAILBOXES entry for desk@example.com: no group is named “Nobody”."]
    assert not Mailbox.objects.exists()


def test_the_poll_task_reads_the_environment_and_survives_a_bad_entry(settings, caplog):
    settings.CROSSLINE_MAILBOXES = "incident=imap://u:p@127.0.0.1:9/INBOX?address=desk@example.com,nonsense"
    assert mailboxes_poll() == 0
    box = Mailbox.objects.get()
    assert (box.address, box.from_environment, box.imap_port) == ("desk@example.com", True, 9)
    assert box.last_error  # nothing listens on port 9: the error is kept on the row
    assert "CROSSLINE_MAILBOXES entry “nonsense”" in caplog.text
