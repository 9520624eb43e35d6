"""What the pages show of a ticket's files: whether one shows as a picture, who may remove it, the limits."""
from django import template
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from tracker import services

register = template.Library()

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@register.filter
def is_image(attachment) -> bool:
    """A picture the page may show as a thumbnail (through the file's own, access-checked address)."""
    return attachment.content_type in IMAGE_TYPES


@register.filter
def removable_by(attachment, user) -> bool:
    return services.may_remove_attachment(user, attachment)


@register.simple_tag
def attachment_limits() -> str:
    """What a file may be, said before the upload rather than after a refusal."""
    return (f"Up to {filesizeformat(settings.CROSSLINE_ATTACHMENT_MAX_BYTES)} a file; "
            "programs and scripts are not accepted.")
