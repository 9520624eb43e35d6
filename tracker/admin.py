from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import (
    AssignmentGroup,
    Category,
    Comment,
    IdempotencyRecord,
    KeyCounter,
    Link,
    Organisation,
    PriorityRule,
    Service,
    Ticket,
    TicketEvent,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "organisation", "site", "is_active")
    list_filter = ("role", "organisation", "is_active", "is_superuser")
    fieldsets = BaseUserAdmin.fieldsets + (("Crossline", {"fields": ("role", "organisation", "site", "time_zone")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Crossline", {"fields": ("role", "organisation", "site")}),)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "active")
    list_filter = ("active",)
    search_fields = ("name", "description")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(AssignmentGroup)
class AssignmentGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "manager", "escalates_to", "swarming", "support_share")
    list_filter = ("tier", "swarming")
    search_fields = ("name",)
    filter_horizontal = ("services", "members")
    autocomplete_fields = ("manager", "escalates_to")


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)
    list_filter = ("impact", "urgency")


@admin.register(KeyCounter)
class KeyCounterAdmin(admin.ModelAdmin):
    list_display = ("kind", "next_number")
    readonly_fields = ("kind",)


class CommentInline(admin.TabularInline):
    model = Comment
    extra = 0
    readonly_fields = ("author", "body", "internal", "created_at")
    can_delete = False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("key", "title", "kind", "status", "priority", "group", "assignee", "service", "created_at")
    list_filter = ("kind", "status", "priority", "group__tier", "group", "service")
    search_fields = ("key", "title", "description")
    date_hierarchy = "created_at"
    list_select_related = ("group", "assignee", "service")
    raw_id_fields = ("requester", "assignee")
    readonly_fields = ("key", "number", "version", "created_at", "updated_at")
    inlines = [CommentInline]


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ("ticket", "kind", "field", "old", "new", "actor", "created_at")
    list_filter = ("kind",)
    search_fields = ("ticket__key", "field", "note")
    list_select_related = ("ticket", "actor")
    raw_id_fields = ("ticket", "comment")

    def has_change_permission(self, request, obj=None):
        return False  # history is append-only


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = ("source", "type", "target", "created_by", "created_at")
    list_filter = ("type",)
    search_fields = ("source__key", "target__key")
    raw_id_fields = ("source", "target")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "ticket_key", "status", "created_at")
    search_fields = ("key", "ticket_key", "user__username")
    list_filter = ("status",)
    readonly_fields = ("user", "key", "request_hash", "status", "body", "ticket_key", "created_at")
