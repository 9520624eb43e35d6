from django.contrib import admin

from tracker.admin import ReadOnlyAdmin

from .models import Blackout, BlackoutOverride, KnowledgeArticle


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "service", "faq", "published", "updated_at")
    list_filter = ("published", "faq", "service")
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
