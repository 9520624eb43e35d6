"""The admin edits configuration (users, groups, services, categories, priorities); work and its records are
read-only here.

A ticket changed in the admin would skip its domain function: no history row, no version bump, no SLA
reaction. So tickets, their comments, events and links, and the bookkeeping rows (key counters, idempotency
answers) can be looked at and searched, never added, changed or deleted; changes go through the app or the API.
"""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import (
    AssignmentGroup,
    Category,
    Comment,
    IdempotencyRecord,
    KeyCounter,
    Link,
    Macro,
    Organisation,
    PriorityRule,
    Service,
    Ticket,
    TicketEvent,
    User,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """View and search only: no add, change or delete for anyone, superusers included (a POST answers 403)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "organisation", "site", "is_active")
    list_filter = ("role", "organisation", "is_active", "is_superuser")
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Crossline", {"fields": ("role", "organisation", "site", "time_zone", "manager")}),)
    autocomplete_fields = ("manager",)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Crossline", {"fields": ("role", "organisation", "site")}),)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "lifecycle", "service_manager", "intake_group")
    list_filter = ("lifecycle", "intake_group")
    search_fields = ("name", "description")
    autocomplete_fields = ("intake_group", "project_group", "service_manager")
    filter_horizontal = ("owners",)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(AssignmentGroup)
class AssignmentGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "manager", "escalates_to", "ownership", "swarming", "support_share")
    list_filter = ("tier", "ownership", "swarming")
    search_fields = ("name",)
    filter_horizontal = ("services", "members")
    autocomplete_fields = ("manager", "escalates_to")


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    """Canned replies are configuration: personal (owner) or shared with a team (group)."""

    list_display = ("name", "group", "owner", "to_status", "to_group", "internal")
    list_filter = ("group", "internal")
    search_fields = ("name", "body")
    autocomplete_fields = ("owner", "group", "to_group")


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)
    list_filter = ("impact", "urgency")


@admin.register(KeyCounter)
class KeyCounterAdmin(ReadOnlyAdmin):
    """The next number of each kind; only `ticket_create` moves it (under a row lock)."""

    list_display = ("kind", "next_number")


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = ("author", "body", "internal", "created_at")


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ("key", "title", "kind", "status", "priority", "group", "owner", "assignee", "service", "created_at")
    list_filter = ("kind", "status", "priority", "group__tier", "group", "service")
    search_fields = ("key", "title", "description")
    date_hierarchy = "created_at"
    list_select_related = ("group", "owner", "assignee", "service")
    raw_id_fields = ("requester", "owner", "assignee")
    inlines = [CommentInline]


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "author", "internal", "created_at")
    list_filter = ("internal",)
    search_fields = ("ticket__key", "body", "author__username")
    list_select_related = ("ticket", "author")
    date_hierarchy = "created_at"


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "kind", "field", "old", "new", "actor", "created_at")
    list_filter = ("kind",)
    search_fields = ("ticket__key", "field", "note")
    list_select_related = ("ticket", "actor")
    date_hierarchy = "created_at"


@admin.register(Link)
class LinkAdmin(ReadOnlyAdmin):
    list_display = ("source", "type", "target", "created_by", "created_at")
    list_filter = ("type",)
    search_fields = ("source__key", "target__key")
    list_select_related = ("source", "target", "created_by")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "user", "ticket_key", "status", "created_at")
    search_fields = ("key", "ticket_key", "user__username")
    list_filter = ("status",)
