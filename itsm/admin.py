from django.contrib import admin

from .models import KnowledgeArticle


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "service", "faq", "published", "updated_at")
    list_filter = ("published", "faq", "service")
    search_fields = ("title", "body")
