"""What the pages show of a ticket's files: who may remove one, the limits (`Attachment.is_image` says which
show as a picture)."""
from functools import lru_cache

from django import template
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import get_language

from tracker import services

register = template.Library()

@register.filter
def removable_by(attachment, user) -> bool:
    return services.may_remove_attachment(user, attachment)


@register.simple_tag
def attachment_limits() -> str:
    """What a file may be, said before the upload rather than after a refusal (written once per language and
    limit: the ticket page says it twice)."""
    return _limits(get_language(), settings.CROSSLINE_ATTACHMENT_MAX_BYTES)


@lru_cache(maxsize=64)
def _limits(language: str | None, max_bytes: int) -> str:
    return f"Up to {filesizeformat(max_bytes)} a file; programs and scripts are not accepted."
