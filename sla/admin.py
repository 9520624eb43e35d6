"""SLA configuration (calendars, policies, notification preferences) is edited here; the SLA engine's own
records (clocks, their effects, notifications, outbox messages, sweep heartbeats) are read-only: a hand edit
would skip the clock functions that keep due times, timeline notes and escalations in step."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from tracker import access
from tracker.admin import ReadOnlyAdmin

from . import selectors, services
from .models import (
    Calendar,
    Clock,
    ClockEffect,
    Holiday,
    Notification,
    NotificationPreference,
    OutboxMessage,
    Policy,
    SweepHeartbeat,
    TierTarget,
    WorkingHours,
)


class WorkingHoursFormSet(forms.BaseInlineFormSet):
    """A calendar must count time: refuse saving it with no working hours unless it is 24x7."""

    def clean(self):
        super().clean()
        hours = [
            (f.cleaned_data["start"], f.cleaned_data["end"])
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and "start" in f.cleaned_data
            and "end" in f.cleaned_data
        ]
        if not services.calendar_is_open(always_open=self.instance.always_open, hours=hours):
            raise ValidationError("This calendar would be never open: add working hours or tick 'always open'.")


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    formset = WorkingHoursFormSet
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class AdminsWriteMixin:
    """Calendars and policies re-plan running clocks when saved: only administrators change them (the same
    rule as the API); other staff get a read-only view instead of a refused save."""

    def _is_admin(self, request) -> bool:
        return access.may(request.user, "configure")

    def has_add_permission(self, request, *args):
        return self._is_admin(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._is_admin(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._is_admin(request) and super().has_delete_permission(request, obj)


@admin.register(Calendar)
class CalendarAdmin(AdminsWriteMixin, admin.ModelAdmin):
    list_display = ("name", "time_zone", "always_open", "holiday_country", "updated_at")
    list_filter = ("always_open", "holiday_country")
    search_fields = ("name", "time_zone")
    inlines = [WorkingHoursInline, HolidayInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            services.calendar_changed(calendar=form.instance, actor=request.user)


class PolicyAdminForm(forms.ModelForm):
    def clean_calendar(self):
        calendar = self.cleaned_data["calendar"]
        if calendar is not None and not services.calendar_is_open(
            always_open=calendar.always_open, hours=calendar.hours.values_list("start", "end")
        ):
            raise ValidationError(f"{calendar.name} is never open; give it working hours or choose another calendar.")
        return calendar


class TierTargetInline(admin.TabularInline):
    model = TierTarget
    extra = 0


@admin.register(Policy)
class PolicyAdmin(AdminsWriteMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "order",
        "active",
        "calendar",
        "kinds",
        "priorities",
        "response_s",
        "resolution_s",
        "functional_escalation",
        "hierarchical_escalation",
        "tell_requester",
    )
    list_filter = ("active", "calendar", "functional_escalation", "hierarchical_escalation", "tell_requester")
    list_editable = ("order", "active")
    search_fields = ("name",)
    filter_horizontal = ("services", "organisations")
    inlines = [TierTargetInline]
    form = PolicyAdminForm

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            replanned = services.policy_saved(policy=form.instance, actor=request.user)
            if replanned:
                self.message_user(request, f"Re-planned {replanned} running clocks.", messages.INFO)


@admin.register(Clock)
class ClockAdmin(ReadOnlyAdmin):
    list_display = (
        "ticket",
        "metric",
        "tier",
        "cycle",
        "state",
        "breached",
        "goal_s",
        "elapsed_s",
        "due_at",
        "next_check_at",
        "policy",
    )
    list_filter = ("state", "metric", "breached", "tier", "policy")
    search_fields = ("ticket__key", "ticket__title")
    raw_id_fields = ("ticket",)
    list_select_related = ("ticket", "policy")
    date_hierarchy = "started_at"


@admin.register(ClockEffect)
class ClockEffectAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "clock", "level", "due_at", "created_at", "escalated_to", "note")
    list_filter = ("level",)
    search_fields = ("ticket__key", "note")
    raw_id_fields = ("clock", "ticket")
    list_select_related = ("ticket", "escalated_to")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("recipient", "kind", "title", "ticket", "created_at", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "recipient__username", "ticket__key")
    raw_id_fields = ("recipient", "ticket")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "email", "in_app")
    list_filter = ("kind", "email", "in_app")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("key", "kind", "to_address", "subject", "created_at", "sent_at", "attempts", "last_error")
    list_filter = ("kind", "channel", ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ("key", "to_address", "subject", "message_id")
    raw_id_fields = ("recipient", "ticket")


@admin.register(SweepHeartbeat)
class SweepHeartbeatAdmin(ReadOnlyAdmin):
    """Liveness: a row older than three sweep periods means no worker or no beat is running."""

    list_display = ("name", "last_run_at", "stale", "last_processed", "last_duration_ms", "runs", "hostname")

    @admin.display(boolean=True)
    def stale(self, obj):
        return next((h["stale"] for h in selectors.heartbeats() if h["name"] == obj.name), False)
