"""Markdown to safe HTML: rendered with Python-Markdown, then cleaned by nh3 (an allow-list sanitiser)."""
import re
import threading

import markdown as md
import nh3

_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
}
# Building a Markdown instance registers every extension (the bulk of a render's cost), and an instance
# is not thread-safe: keep one per thread and reset it between documents.
_local = threading.local()


def _renderer() -> md.Markdown:
    renderer = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = md.Markdown(extensions=["fenced_code", "tables", "sane_lists"])
    return renderer


# Plain prose: lines that start with an ASCII letter and hold only letters, digits, spaces (none at a line's
# end) and punctuation that means nothing to Markdown here (no list, heading, rule, code, emphasis, link, table,
# HTML, entity or escape can begin or be written with them). Such a text renders as one paragraph of itself,
# which nh3 leaves as it is; test_markdown compares this with the full render over many generated inputs.
_PROSE_LINE = r"[A-Za-z](?:[A-Za-z0-9 ,.;:?!'\"()/%$=+@-]*[A-Za-z0-9,.;:?!'\"()/%$=+@-])?"
_PLAIN = re.compile(rf"{_PROSE_LINE}(?:\n{_PROSE_LINE})*")


def render_markdown(text: str) -> str:
    if not text:
        return ""
    if _PLAIN.fullmatch(text):
        return f"<p>{text}</p>"
    return _render_full(text)


def _render_full(text: str) -> str:
    html = _renderer().reset().convert(text)
    return nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer nofollow",
                     url_schemes={"http", "https", "mailto"})
