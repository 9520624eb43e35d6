"""The ticket page's Python-written rows cut titles and write dates exactly as the template filters they replace
(`truncatechars`, `date:"d M"`), in every language and zone."""
from datetime import UTC, datetime

import pytest
from django.template.defaultfilters import date, truncatechars
from django.utils import timezone, translation
from django.utils.timezone import template_localtime

from tracker.templatetags.ticket_page import cut, day_month

TITLES = ["", "Short", "x" * 49, "y" * 50, "z" * 51, "é" * 60, "e\u0301" * 30 + "tail", "e\u0301" * 55,
          "Café – payroll ✓ " * 4, "<b>&amp;</b>" * 6, "a\u0300\u0301" * 52]


@pytest.mark.parametrize("title", TITLES)
@pytest.mark.parametrize("length", [1, 40, 50])
def test_a_cut_title_is_the_truncatechars_filters(title, length):
    assert cut(title, length) == truncatechars(title, length)


@pytest.mark.parametrize("language", ["en", "de", "fr"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Pacific/Auckland", "America/Los_Angeles"])
def test_a_day_and_month_is_the_date_filters(language, zone):
    moments = [datetime(2026, month, day, hour, 30, tzinfo=UTC)
               for month in range(1, 13) for day in (1, 28) for hour in (0, 11, 23)]
    with translation.override(language), timezone.override(zone):
        for moment in moments:
            assert day_month(moment) == date(template_localtime(moment), "d M")


@pytest.mark.parametrize("text", [None, "", "Plain prose.", "### Fixes\n- **DEF-1** <script>x</script> [a](javascript:x)",
                                  "| a | b |\n|---|---|\n| 1 | 2 |", "x" * 20_001])
def test_shared_markdown_is_the_markdown_filters_every_time(text):
    from tracker.templatetags.crossline import markdown
    from tracker.templatetags.ticket_page import shared_markdown

    assert shared_markdown(text) == markdown(text)
    assert shared_markdown(text) == markdown(text)  # from the cache
