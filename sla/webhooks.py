"""The webhooks pages (administrators and managers): subscriptions, their form, the delivery log, redelivery.

Rules live in `sla/services/webhooks.py`; these views ask `may_manage_webhooks` and show refusals in place."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracker.access import staff_only
from tracker.errors import DomainError
from tracker.views import form_errors

from . import services
from .choices import WebhookEvent
from .models import WebhookDelivery, WebhookSubscription

NAV = "webhooks"
_SECRET = "webhook-secret"  # the session key of a secret made by the last save: shown once, on the next page


class SubscriptionForm(forms.Form):
    name = forms.CharField(max_length=120, required=False, label="Name")
    url = forms.CharField(max_length=500, required=False, label="Receiver URL",
                          help_text="The address each event is POSTed to, e.g. https://hooks.example.com/crossline.")
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, required=False, label="Events",
                                       widget=forms.CheckboxSelectMultiple)
    active = forms.BooleanField(required=False, label="Active (deliver events)")
    regenerate_secret = forms.BooleanField(required=False, label="Make a new secret (the old one stops working)")


def _managers_only(request) -> None:
    if not services.may_manage_webhooks(request.user):
        raise PermissionDenied("Only administrators and managers manage webhooks.")


@staff_only
def webhooks(request):
    _managers_only(request)
    return render(request, "sla/webhooks.html", {"nav": NAV, "subscriptions": services.webhook_subscription_list()})


@staff_only
def webhook_form(request, pk=None):
    """A new subscription (no pk) or an existing one."""
    _managers_only(request)
    sub = get_object_or_404(WebhookSubscription, pk=pk) if pk else None
    if request.method == "POST":
        form = SubscriptionForm(request.POST)
        form.is_valid()
        data = form.cleaned_data
        try:
            saved, secret = services.webhook_subscription_save(
                actor=request.user, subscription=sub, name=data.get("name", ""), url=data.get("url", ""),
                events=data.get("events", []), active=data.get("active", False),
                regenerate_secret=bool(sub) and data.get("regenerate_secret", False))
        except DomainError as exc:
            form_errors(form, exc)
            return render(request, "sla/webhook_form.html", {"nav": NAV, "form": form, "sub": sub},
                          status=exc.status)
        if secret:
            request.session[_SECRET] = {"pk": saved.pk, "secret": secret}
        messages.success(request, f"Saved the webhook “{saved.name}”.")
        return redirect("sla:webhook-log", pk=saved.pk)
    initial = {"active": True, "events": [WebhookEvent.TICKET_CREATED]}
    if sub is not None:
        initial = {"name": sub.name, "url": sub.url, "events": sub.events, "active": sub.active}
    return render(request, "sla/webhook_form.html", {"nav": NAV, "form": SubscriptionForm(initial=initial),
                                                     "sub": sub})


@staff_only
def webhook_log(request, pk):
    """A subscription's newest deliveries with each try; the secret once, right after it was made."""
    _managers_only(request)
    sub = get_object_or_404(WebhookSubscription, pk=pk)
    shown = request.session.get(_SECRET)
    secret = None
    if shown and shown.get("pk") == sub.pk:
        secret = shown["secret"]
        del request.session[_SECRET]
    return render(request, "sla/webhook_log.html", {
        "nav": NAV, "sub": sub, "secret": secret, "deliveries": services.webhook_delivery_log(subscription=sub),
        "event_labels": dict(WebhookEvent.choices)})


@staff_only
@require_POST
def webhook_redeliver(request, pk):
    _managers_only(request)
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    try:
        services.webhook_redeliver(delivery=delivery, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Delivery {delivery.event_id[:12]} is queued again; it goes out in a moment.")
    return redirect("sla:webhook-log", pk=delivery.subscription_id)
