"""The vendored Lucide sprite and `{% icon %}`: the sprite holds the icons the pages need and nothing that
runs or loads, the tag renders both forms and refuses unknown names, and every template uses real icons."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.template import Context, Template, TemplateSyntaxError

from tracker.templatetags import icons

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "static" / "icons"
SVG = "{http://www.w3.org/2000/svg}"
# Lucide 1.x names; older names it renamed: alert-triangle -> triangle-alert, alert-circle -> circle-alert,
# filter -> funnel, bar-chart-3 -> chart-column, trash-2 -> trash, home -> house.
NEEDED = """
    inbox list layout-list search plus pencil check x chevron-down chevron-right chevron-left arrow-up arrow-down
    arrow-up-right bell user users user-check clock alarm-clock triangle-alert circle-alert info circle-check loader
    link unlink message-square lock funnel sliders-horizontal settings log-out moon sun monitor book-open life-buoy
    wrench git-branch git-pull-request package rocket shield-check chart-column calendar external-link keyboard
    columns-2 rows-3 refresh-cw trash copy star eye house layers bug zap file-text pin pin-off grip-vertical
    panel-right columns-3
""".split()
SHAPES = {"path", "circle", "ellipse", "line", "polyline", "polygon", "rect"}
GEOMETRY = {"d", "cx", "cy", "r", "rx", "ry", "x", "y", "x1", "y1", "x2", "y2", "width", "height", "points"}
STROKE = {"fill": "none", "stroke": "currentColor", "stroke-width": "2", "stroke-linecap": "round",
          "stroke-linejoin": "round"}


def sprite():
    return ET.parse(ICONS / "sprite.svg").getroot()


def symbols():
    return {s.get("id"): s for s in sprite().iter(f"{SVG}symbol")}


def render(text, **context):
    return Template("{% load icons %}" + text).render(Context(context))


def test_the_sprite_holds_every_needed_icon_as_a_24px_stroked_symbol():
    found = symbols()
    assert sprite().tag == f"{SVG}svg"
    assert sorted(set(NEEDED) - set(found)) == []
    for name in NEEDED:
        assert found[name].get("viewBox") == "0 0 24 24", name
        assert {key: found[name].get(key) for key in STROKE} == STROKE, name
        assert len(found[name]) > 0, f"{name} draws nothing"


def test_the_sprite_is_built_from_the_names_in_icons_txt():
    lines = (line.split("#", 1)[0].strip() for line in (ICONS / "icons.txt").read_text().splitlines())
    assert [s.get("id") for s in sprite().iter(f"{SVG}symbol")] == [line for line in lines if line]


def test_the_sprite_holds_only_plain_shapes_nothing_that_runs_or_loads():
    text = (ICONS / "sprite.svg").read_text()
    assert "<script" not in text.lower() and "javascript:" not in text.lower()
    assert "<!entity" not in text.lower() and "<!doctype" not in text.lower()
    for symbol in sprite():
        assert symbol.tag == f"{SVG}symbol"
        assert set(symbol.attrib) == {"id", "viewBox", *STROKE}
        for shape in symbol.iter():
            if shape is symbol:
                continue
            # No script, style, image, link, <use> or foreignObject; no on*= handlers, href or url(...).
            assert shape.tag.removeprefix(SVG) in SHAPES, (symbol.get("id"), shape.tag)
            assert set(shape.attrib) <= GEOMETRY, (symbol.get("id"), shape.attrib)
            assert not any("url(" in value or ":" in value for value in shape.attrib.values())


def test_lucides_licence_is_vendored_with_the_sprite():
    licence = (ICONS / "LICENSE-lucide.txt").read_text()
    assert "ISC License" in licence and "Lucide Icons and Contributors" in licence
    assert "Cole Bemis" in licence  # the MIT notice for the icons Lucide derives from Feather
    assert "1.62.0" in (ICONS / "README.md").read_text()
    assert "Lucide v1.62.0" in (ICONS / "sprite.svg").read_text()


def test_a_decorative_icon_is_hidden_from_screen_readers():
    assert render('{% icon "bell" %}') == (
        '<svg class="icon" aria-hidden="true" focusable="false">'
        '<use href="/static/icons/sprite.svg#bell"></use></svg>'
    )


def test_a_labelled_icon_is_an_image_with_that_name():
    assert render('{% icon "triangle-alert" label="Escalate" %}') == (
        '<svg class="icon" role="img" aria-label="Escalate" focusable="false">'
        '<use href="/static/icons/sprite.svg#triangle-alert"></use></svg>'
    )


def test_the_label_is_escaped_and_the_name_may_be_a_variable():
    html = render("{% icon name label=label %}", name="bug", label='Defect <"3rd line">')
    assert 'aria-label="Defect &lt;&quot;3rd line&quot;&gt;"' in html
    assert 'href="/static/icons/sprite.svg#bug"' in html


@pytest.fixture
def fresh_sprite_url():
    icons.sprite_url.cache_clear()
    yield
    icons.sprite_url.cache_clear()


def test_the_sprite_url_follows_static_url(settings, fresh_sprite_url):
    settings.STATIC_URL = "/assets/"
    assert 'href="/assets/icons/sprite.svg#house"' in render('{% icon "house" %}')


@pytest.mark.parametrize("name", ["home", "bel", ""])
def test_an_unknown_icon_is_refused_with_how_to_add_it(name):
    with pytest.raises(TemplateSyntaxError) as refused:
        render("{% icon name %}", name=name)
    assert f'Unknown icon "{name}"' in str(refused.value)
    assert "static/icons/icons.txt" in str(refused.value) and "build_sprite.py" in str(refused.value)


ICON_USE = re.compile(r"""{%\s*icon\s+(["'])(.*?)\1""")


def template_files():
    """Every template file, HTML and text: templates/ and each app's templates/ folder (sla/templates)."""
    return sorted(p for p in [*(ROOT / "templates").rglob("*"), *ROOT.glob("*/templates/**/*")] if p.is_file())


def test_the_template_scan_finds_literal_icon_uses():
    text = """{% icon "bell" %} {%icon 'x' label="Close" %} {% icon name %} {% iconic "no" %}"""
    assert [m.group(2) for m in ICON_USE.finditer(text)] == ["bell", "x"]
    assert any(p.is_relative_to(ROOT / "sla" / "templates") for p in template_files())


def test_every_icon_a_template_uses_is_in_the_sprite():
    known = set(symbols())
    unknown = [
        f"{path.relative_to(ROOT)}: {match.group(2)}"
        for path in template_files()
        for match in ICON_USE.finditer(path.read_text())
        if match.group(2) not in known
    ]
    assert unknown == [], "not in static/icons/sprite.svg (see static/icons/README.md): " + ", ".join(unknown)


def test_the_app_serves_the_sprite_as_svg(client):
    response = client.get("/static/icons/sprite.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert b'<symbol id="bell"' in b"".join(response.streaming_content)


def test_the_pages_policy_allows_the_same_origin_sprite_and_nothing_wider(client, db):
    """`<use href="/static/icons/sprite.svg#…">` is a same-origin fetch; the policy needs no new source."""
    policy = client.get("/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
