"""The design system's promises: text colours meet WCAG AA in both themes, templates carry no inline styles
(so the Content-Security-Policy forbids them), and every vendored asset comes with its licence."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
CSS = (ROOT / "static" / "css" / "app.css").read_text()

# (text, background) token pairs that carry text somewhere in the app
PAIRS = [
    ("fg", "bg"), ("fg", "surface"), ("fg", "surface-2"), ("fg-muted", "surface"), ("fg-muted", "bg"),
    ("fg-muted", "surface-2"), ("accent", "surface"), ("accent", "bg"), ("on-accent", "accent"),
    ("ok", "ok-soft"), ("warn", "warn-soft"), ("bad", "bad-soft"), ("info", "info-soft"), ("fg", "internal"),
    ("on-topbar", "topbar"), ("fg", "bad-soft"), ("fg", "warn-soft"), ("fg", "ok-soft"), ("fg", "row-cursor"),
    ("accent", "info-soft"), ("fg", "accent-soft"),
]


def themes() -> dict[str, dict[str, str]]:
    """Each colour token of app.css as `--name: light-dark(#light, #dark)` (or one colour for both)."""
    light, dark = {}, {}
    for name, one, pair_light, pair_dark in re.findall(
        r"--([\w-]+):\s*(?:(#[0-9a-fA-F]{6})|light-dark\((#[0-9a-fA-F]{6}),\s*(#[0-9a-fA-F]{6})\));", CSS
    ):
        light[name] = one or pair_light
        dark[name] = one or pair_dark
    return {"light": light, "dark": dark}


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_colours_meet_wcag_aa(theme, text, background):
    colours = themes()[theme]
    ratio = contrast(colours[text], colours[background])
    assert ratio >= 4.5, f"{theme}: --{text} on --{background} is {ratio:.2f}:1"


def test_the_theme_follows_the_system_unless_the_viewer_chose_one():
    assert "color-scheme: light dark;" in CSS
    assert ':root[data-theme="light"] { color-scheme: light; }' in CSS
    assert ':root[data-theme="dark"] { color-scheme: dark; }' in CSS
    assert len(themes()["dark"]) > 25


def all_templates():
    return sorted(p for folder in (ROOT / "templates", ROOT / "sla" / "templates") for p in folder.rglob("*.html"))


@pytest.mark.parametrize("path", all_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_carry_no_inline_style(path):
    text = path.read_text()
    assert not re.search(r"\sstyle=", text), "use a component of static/css/app.css instead of style=\"\""
    assert "<style" not in text


def test_the_csp_allows_no_inline_style_or_script():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["style-src"] == ["'self'"] and directives["script-src"] == ["'self'"]


@pytest.mark.parametrize(("asset", "licence"), [
    ("static/fonts/inter-latin-wght-normal.woff2", "static/fonts/LICENSE-inter.txt"),
    ("static/icons/sprite.svg", "static/icons/LICENSE-lucide.txt"),
])
def test_vendored_assets_ship_with_their_licence(asset, licence):
    assert (ROOT / asset).stat().st_size > 0
    assert "license" in (ROOT / licence).read_text().lower()
