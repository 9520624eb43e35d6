"""Service-management records beyond the ticket itself: the knowledge base the portal searches."""

from django.db import models

from tracker.models import Service


class KnowledgeArticle(models.Model):
    """A knowledge-base article or FAQ entry; admins edit it, requesters find it in the portal."""

    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown; rendered sanitised.")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    faq = models.BooleanField(default=True, help_text="Listed on the portal's FAQ page.")
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [
            # Portal FAQ page and search: published articles, newest edits first.
            models.Index(fields=["published", "-updated_at"], name="itsm_article_published"),
        ]

    def __str__(self):
        return self.title
