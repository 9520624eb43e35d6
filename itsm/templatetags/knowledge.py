"""Template filters of the knowledge base."""

from django import template

from itsm.search import plain_text as _plain_text

register = template.Library()


@register.filter
def plain_text(markdown: str) -> str:
    """An article's Markdown as plain text (rendered, tags stripped): for excerpts, never raw Markdown."""
    return _plain_text(markdown)
