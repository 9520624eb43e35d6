"""The dashboard's table rows, built by `sla_ui.table_rows`, read as the template's cells did: escaped,
localised, numbers right-aligned after the first column, the breaches table's keys linked."""
from datetime import date

from django.template import Context, Template

from sla.dashboard import Table

ROWS = Template("{% load sla_ui %}{% table_rows t %}")


def test_cells_are_escaped_and_only_the_breaches_keys_are_links():
    rows = [["<b>Payroll</b>", 12, 97.5], [date(2026, 12, 6), 0, None]]
    html = ROWS.render(Context({"t": Table("by-service", "By service", ["Service", "n", "%"], rows)}))
    assert html == ('<tr><td >&lt;b&gt;Payroll&lt;/b&gt;</td><td class="num">12</td><td class="num">97.5</td></tr>'
                    '<tr><td >Dec. 6, 2026</td><td class="num">0</td><td class="num">None</td></tr>')
    html = ROWS.render(Context({"t": Table("breaches", "Breaches", ["When", "Ticket"], [["today", "INC-7"]])}))
    assert html == '<tr><td >today</td><td class="num"><a class="key" href="/tickets/INC-7/">INC-7</a></td></tr>'
