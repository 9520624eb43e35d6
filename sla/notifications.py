"""Notification texts: one template per kind (subject line, then body), rendered from compiled templates.

Templates live in `sla/templates/sla/notifications/<kind>.txt`; the first line is the title/subject.
They are compiled once per process: the sweep renders thousands of them in a batch.
"""

from functools import cache

from django.template import Context, engines

from .choices import NotificationKind


@cache
def _template(kind: str):
    from pathlib import Path

    path = Path(__file__).parent / "templates" / "sla" / "notifications" / f"{kind}.txt"
    engine = engines["django"].engine
    return engine.from_string(path.read_text())


def render_notification(kind: str, context: dict) -> tuple[str, str]:
    """(title, body) for a notification of `kind`."""
    NotificationKind(kind)
    text = _template(kind).render(Context(context, autoescape=False)).strip()
    title, _, body = text.partition("\n")
    return title.strip()[:200], body.strip()
