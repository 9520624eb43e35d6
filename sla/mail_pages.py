"""The email channel's settings pages: intake mailboxes (administrators) and held & quarantined mail (administrators
and managers).

Rules live in `sla/services/mail_poll.py` (mailboxes) and `sla/services/mail_intake.py` (review of held mail); these
views ask `may_manage_mailboxes` / `may_review_mail`, call one domain function each and show refusals in place."""

import email
import email.policy

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from tracker.access import staff_only
from tracker.choices import Kind
from tracker.errors import DomainError
from tracker.models import AssignmentGroup, Service
from tracker.views import form_errors

from .choices import InboundOutcome
from .models import InboundMail, Mailbox
from .services import mail_intake
from .services.mail_poll import (
    held_mail_list,
    mailbox_check,
    mailbox_list,
    mailbox_poll_now,
    mailbox_save,
    may_manage_mailboxes,
    parse_mailboxes,
)

NAV_MAILBOXES = "mailboxes"
NAV_MAIL = "mail"


class MailboxForm(forms.Form):
    """Shape only: `mailbox_save` decides what is valid."""

    name = forms.CharField(max_length=120, required=False, label="Name", help_text="E.g. Service desk.")
    address = forms.CharField(max_length=254, required=False, label="Address",
                              help_text="The address people write to, e.g. desk@example.com.")
    kind = forms.ChoiceField(choices=Kind.choices, label="Raises", help_text="The kind of ticket its new mail raises.")
    service = forms.ModelChoiceField(queryset=Service.objects.order_by("name"), required=False, label="Service",
                                     empty_label="—")
    group = forms.ModelChoiceField(queryset=AssignmentGroup.objects.order_by("name"), required=False,
                                   label="Group", empty_label="The kind's default",
                                   help_text="Where its new tickets go.")
    active = forms.BooleanField(required=False, label="Active (poll it and file its mail)")
    imap_host = forms.CharField(max_length=200, required=False, label="IMAP host",
                                help_text="Empty: the mailbox is not polled (mail reaches it by import).")
    imap_port = forms.IntegerField(required=False, label="IMAP port", min_value=1, max_value=65535,
                                   help_text="Empty: 993 with TLS, 143 without.")
    imap_ssl = forms.BooleanField(required=False, label="Use TLS (IMAPS)")
    imap_user = forms.CharField(max_length=200, required=False, label="IMAP user")
    # Write-only: the stored password is never put back into the page; what was just typed is, after a refusal.
    imap_password = forms.CharField(max_length=200, required=False, label="IMAP password",
                                    widget=forms.PasswordInput(render_value=True))
    imap_folder = forms.CharField(max_length=200, required=False, label="Folder", help_text="Empty: INBOX.")


def _admins_only(request) -> None:
    if not may_manage_mailboxes(request.user):
        raise PermissionDenied("Only administrators manage intake mailboxes.")


def _reviewers_only(request) -> None:
    if not mail_intake.may_review_mail(request.user):
        raise PermissionDenied("Only administrators and managers review held mail.")


# --- mailboxes ----------------------------------------------------------------------------------------------


def _mailboxes_page(request, *, result=None, status=200):
    """The list; `result` is the answer of a check or a poll, shown in its mailbox's row."""
    return render(request, "sla/mailboxes.html", {
        "nav": NAV_MAILBOXES, "mailboxes": mailbox_list(), "result": result,
        "environment_errors": parse_mailboxes(settings.CROSSLINE_MAILBOXES)[1]}, status=status)


@staff_only
@require_GET
def mailboxes(request):
    _admins_only(request)
    return _mailboxes_page(request)


@staff_only
def mailbox_form(request, pk=None):
    """A new mailbox (no pk) or an existing one; a mailbox from the environment is shown, not edited."""
    _admins_only(request)
    box = get_object_or_404(Mailbox, pk=pk) if pk else None
    if request.method == "POST":
        form = MailboxForm(request.POST)
        if form.is_valid():
            values = dict(form.cleaned_data)
            try:
                saved = mailbox_save(actor=request.user, mailbox=box, values=values)
            except DomainError as exc:
                form_errors(form, exc)
                return render(request, "sla/mailbox_form.html", {"nav": NAV_MAILBOXES, "form": form, "box": box},
                              status=exc.status)
            messages.success(request, f"Saved the mailbox “{saved.name}”.")
            return redirect("sla:mailboxes")
        return render(request, "sla/mailbox_form.html", {"nav": NAV_MAILBOXES, "form": form, "box": box}, status=400)
    initial = {"active": True, "imap_ssl": True, "kind": Kind.INCIDENT}
    if box is not None:
        initial = {f: getattr(box, f) for f in ("name", "address", "kind", "service", "group", "active", "imap_host",
                                                "imap_port", "imap_ssl", "imap_user", "imap_folder")}
    return render(request, "sla/mailbox_form.html", {"nav": NAV_MAILBOXES, "form": MailboxForm(initial=initial),
                                                     "box": box})


@staff_only
@require_POST
def mailbox_check_view(request, pk):
    """Log in and count the folder's messages; the answer shows in the mailbox's row."""
    _admins_only(request)
    box = get_object_or_404(Mailbox, pk=pk)
    try:
        count = mailbox_check(actor=request.user, mailbox=box)
    except DomainError as exc:
        return _mailboxes_page(request, result={"pk": box.pk, "ok": False, "text": exc.message}, status=exc.status)
    text = f"Connected: {count} message{'' if count == 1 else 's'} in {box.imap_folder or 'INBOX'}."
    return _mailboxes_page(request, result={"pk": box.pk, "ok": True, "text": text})


@staff_only
@require_POST
def mailbox_poll_view(request, pk):
    """Poll one mailbox now; how many messages it filed, or why it could not, shows in its row."""
    _admins_only(request)
    box = get_object_or_404(Mailbox, pk=pk)
    try:
        filed = mailbox_poll_now(actor=request.user, mailbox=box)
    except DomainError as exc:
        return _mailboxes_page(request, result={"pk": box.pk, "ok": False, "text": exc.message}, status=exc.status)
    if box.last_error:
        return _mailboxes_page(request, result={"pk": box.pk, "ok": False, "text": f"Polled with an error: "
                                                f"{box.last_error}"})
    text = f"Polled: filed {filed} new message{'' if filed == 1 else 's'}."
    return _mailboxes_page(request, result={"pk": box.pk, "ok": True, "text": text})


# --- held and quarantined mail -----------------------------------------------------------------------------------


@staff_only
@require_GET
def mail_review(request):
    _reviewers_only(request)
    return render(request, "sla/mail_review.html", {"nav": NAV_MAIL, "mails": held_mail_list(),
                                                    "may_manage": may_manage_mailboxes(request.user)})


def _parsed(mail: InboundMail) -> tuple[list[tuple[str, str]], str]:
    """The headers and the text of a kept message; HTML is shown as its source, never rendered."""
    raw = bytes(mail.raw)
    if not raw:
        return [], ""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        headers = [(name, str(value)) for name, value in msg.items()]
        part = msg.get_body(preferencelist=("plain", "html"))
        text = str(part.get_content()) if part is not None else ""
    except Exception:  # noqa: BLE001 - a message that broke the parser: show its bytes as they came
        return [], raw.decode("utf-8", "replace")
    return headers, text


def _mail_page(request, mail: InboundMail, *, error: str = "", status: int = 200):
    headers, text = _parsed(mail)
    return render(request, "sla/mail_detail.html", {
        "nav": NAV_MAIL, "mail": mail, "headers": headers, "text": text, "error": error,
        "open": mail.outcome in mail_intake.OPEN_REVIEW,
        "may_file_as_new": mail_intake.may_file_as_new(request.user, mail)}, status=status)


@staff_only
@require_GET
def mail_detail(request, pk):
    _reviewers_only(request)
    return _mail_page(request, get_object_or_404(InboundMail.objects.select_related("ticket", "mailbox"), pk=pk))


@staff_only
@require_GET
def mail_raw(request, pk):
    """The message as it came, to open in a mail program (always a download, never shown inline)."""
    _reviewers_only(request)
    mail = get_object_or_404(InboundMail, pk=pk)
    response = HttpResponse(bytes(mail.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="mail-{mail.pk}.eml"'
    return response


# The review's actions: the domain function of `mail_intake` each one calls, and what the page says after it.
ACTIONS = {
    "retry": ("mail_retry", "Retried"),
    "file-as-new": ("mail_file_as_new", "Filed as a new ticket"),
    "drop": ("mail_drop", "Dropped"),
}


@staff_only
@require_POST
def mail_action(request, pk, action):
    """Retry, file as a new ticket, or drop a held or quarantined mail; a refusal shows on its page."""
    _reviewers_only(request)
    mail = get_object_or_404(InboundMail.objects.select_related("ticket", "mailbox"), pk=pk)
    if action not in ACTIONS:
        return _mail_page(request, mail, error="Choose Retry, File as new ticket or Drop.", status=400)
    function, done = ACTIONS[action]
    try:
        mail = getattr(mail_intake, function)(mail=mail, actor=request.user)
    except DomainError as exc:
        mail.refresh_from_db()
        return _mail_page(request, mail, error=exc.message, status=exc.status)
    where = f": {mail.ticket.key}" if mail.ticket_id and mail.outcome != InboundOutcome.DROPPED else ""
    messages.success(request, f"{done} the mail “{mail.subject or '(no subject)'}” ({mail.get_outcome_display()}"
                              f"{where}).")
    return redirect("sla:mail-review")
