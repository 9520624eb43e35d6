"""Markdown to safe HTML: rendered with Python-Markdown, then cleaned by nh3 (an allow-list sanitiser)."""
import markdown as md
import nh3

_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
}


def render_markdown(text: str) -> str:
    html = md.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists"])
    return nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer nofollow",
                     url_schemes={"http", "https", "mailto"})
