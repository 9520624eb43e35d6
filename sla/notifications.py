"""Notification texts: one template per kind (subject line, then body), rendered from compiled templates.

Templates live in `sla/templates/sla/notifications/<name>.txt`; the first line is the title/subject. A name is
the kind, or a requester's wording of it (`pending`, `resolved`). A language of its own sits in a folder
(`de/<name>.txt`); a name without one falls back to English. Mail also gets an HTML part: the same text in
`layout.html`, escaped, the ticket's link as a button.
They are compiled once per process: the sweep renders thousands of them in a batch.
"""

from functools import cache
from pathlib import Path

from django.template import Context, engines

from .choices import NotificationKind

_FOLDER = Path(__file__).parent / "templates" / "sla" / "notifications"
DEFAULT_LANGUAGE = "en"


@cache
def written_in(name: str, language: str) -> str:
    """The language a wording is written in for a reader of `language`: theirs when it has one, else English."""
    if language != DEFAULT_LANGUAGE and (_FOLDER / language / f"{name}.txt").exists():
        return language
    return DEFAULT_LANGUAGE


@cache
def _template(name: str, language: str = DEFAULT_LANGUAGE):
    """The compiled template of `name` in `language`, or in English when that language has none."""
    language = written_in(name, language)
    folder = _FOLDER / language if language != DEFAULT_LANGUAGE else _FOLDER
    return engines["django"].engine.from_string((folder / f"{name}.txt").read_text())


@cache
def _layout():
    return engines["django"].engine.from_string((_FOLDER / "layout.html").read_text())


def render_notification(kind: str, context: dict, *, name: str | None = None,
                        language: str = DEFAULT_LANGUAGE) -> tuple[str, str]:
    """(title, body) for a notification of `kind`, in the wording `name` (default: the kind's own)."""
    NotificationKind(kind)
    text = _template(name or kind, language).render(Context(context, autoescape=False)).strip()
    title, _, body = text.partition("\n")
    return title.strip()[:200], body.strip()


def render_html(*, title: str, body: str, link: str, ticket_key: str = "",
                language: str = DEFAULT_LANGUAGE) -> str:
    """The HTML part of a mail: the plain text escaped into the layout, the link as a button."""
    return _layout().render(Context({"title": title, "body": body, "link": link, "key": ticket_key,
                                     "lang": language}))
