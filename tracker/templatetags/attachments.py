"""What the pages show of a ticket's files: who may remove one, the limits (`Attachment.is_image` says which
show as a picture)."""
from django import template
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from tracker import services

register = template.Library()

@register.filter
def removable_by(attachment, user) -> bool:
    return services.may_remove_attachment(user, attachment)


@register.simple_tag
def attachment_limits() -> str:
    """What a file may be, said before the upload rather than after a refusal."""
    return (f"Up to {filesizeformat(settings.CROSSLINE_ATTACHMENT_MAX_BYTES)} a file; "
            "programs and scripts are not accepted.")
