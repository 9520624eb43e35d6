"""The admin site for service management. Knowledge articles, CABs, templates and approval rounds are only
read here: they change through the app's pages and API (`itsm.services`), which keep their
rules (staff approvers, one board per scope, a new template version on each edit) and the changes' history."""

from django.contrib import admin

from tracker.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    Approval,
    ApprovalRound,
    Blackout,
    BlackoutOverride,
    Cab,
    ChangeTemplate,
    ChangeTemplateVersion,
    KnowledgeArticle,
)


# Articles are written, reviewed and published on /kb/ (each edit a kept version, publishing after review).
@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(ReadOnlyAdmin):
    list_display = ("title", "state", "audience", "faq", "version", "updated_at")
    list_filter = ("state", "audience", "faq", "services")
    search_fields = ("title", "body")


# Blackouts are managed by change managers on /changes/blackouts/ (through itsm.services, which checks them);
# overrides are decisions on a change's timeline. The admin shows both, and changes neither.
@admin.register(Blackout)
class BlackoutAdmin(ReadOnlyAdmin):
    list_display = ("name", "service", "starts_at", "ends_at", "repeat", "repeat_until", "time_zone", "created_by")
    list_filter = ("repeat", "service")
    search_fields = ("name", "reason")


@admin.register(BlackoutOverride)
class BlackoutOverrideAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "blackout_name", "window_start", "window_end", "actor", "created_at")
    search_fields = ("ticket__key", "blackout_name", "reason")


@admin.register(Cab)
class CabAdmin(ReadOnlyAdmin):
    list_display = ("name", "service", "emergency", "rule", "quorum", "active")
    list_filter = ("emergency", "active", "rule")


class VersionInline(ReadOnlyInline):
    model = ChangeTemplateVersion
    fields = ("number", "title", "risk", "note", "created_by", "created_at")


@admin.register(ChangeTemplate)
class ChangeTemplateAdmin(ReadOnlyAdmin):
    list_display = ("title", "service", "risk", "version", "retired_at")
    list_filter = ("risk", "service")
    search_fields = ("title",)
    inlines = [VersionInline]


class ApprovalInline(ReadOnlyInline):
    model = Approval
    fields = ("approver", "decision", "comment", "decided_at")


@admin.register(ApprovalRound)
class ApprovalRoundAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "number", "cab", "rule", "required", "status", "opened_at", "decided_at")
    list_filter = ("status", "cab")
    search_fields = ("ticket__key",)
    list_select_related = ("ticket", "cab")
    inlines = [ApprovalInline]
