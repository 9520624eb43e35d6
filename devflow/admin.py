from django.contrib import admin

from .models import Release


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("service", "version", "name", "shipped_at")
    list_filter = ("service",)
    search_fields = ("name", "version", "notes")
    raw_id_fields = ("tickets",)
    readonly_fields = ("shipped_at", "shipped_by")
