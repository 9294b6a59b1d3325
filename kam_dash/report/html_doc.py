"""The pack as one self-contained HTML file: interactive charts, no network request when opened, printable.

It tells the deck's story in the deck's order (the pack's sections). Raw detail tables (weekly rows, every
product) are left to the workbook; tables show names and headings in words, without the columns that only
repeat the view (the retailer, the week of a snapshot).

plotly.js is inlined once in the head and every chart is a div drawn by it, so the file opens offline
(and from an e-mail attachment). Print CSS lays one section per page group and hides the chart toolbars.
"""

from __future__ import annotations

import html

import plotly.io as pio
from plotly.offline import get_plotlyjs

from kam_dash import fmt, labels
from kam_dash.report.pack import Pack, Table, show

HTML_ROWS = 60  # rows of a table shown in the page; the workbook has them all

CSS = """
:root { --ink: #1d2733; --muted: #5b6675; --line: #d9dee5; --accent: #1f5fa8; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1200px; padding: 24px 32px 64px; line-height: 1.45; }
h1 { font-size: 28px; margin: 0 0 4px; } h2 { font-size: 21px; margin: 36px 0 8px; color: var(--accent); }
h3 { font-size: 16px; margin: 20px 0 6px; }
.cover { border-bottom: 3px solid var(--accent); padding-bottom: 16px; }
.cover dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 12px 0 0; }
.cover dt { color: var(--muted); } .cover dd { margin: 0; }
.gaps { background: #fff7e6; border-left: 4px solid #f2b134; padding: 8px 16px; margin: 16px 0; }
.gaps ul { margin: 4px 0; padding-left: 20px; }
nav ol { columns: 2; margin: 8px 0; } nav a { color: var(--accent); }
.lead, .narrative { font-size: 16px; margin: 6px 0 10px; }
.chart { width: 100%; margin: 4px 0 18px; }
table { border-collapse: collapse; font-size: 12.5px; margin: 6px 0 16px; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td { white-space: nowrap; } td.long { white-space: normal; min-width: 260px; }
.wide { overflow-x: auto; }
th { background: #f3f5f8; }
.more { color: var(--muted); font-size: 12.5px; }
.definitions dt { font-weight: 600; margin-top: 8px; } .definitions dd { margin: 2px 0 0 0; color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; }
  nav, .modebar-container { display: none !important; }
  section { break-before: page; }
  .chart, table, .narrative { break-inside: avoid; }
  .wide { overflow: visible; } table { font-size: 9px; } td { white-space: normal; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""

# Charts follow the page width, also when printing (print layout differs from the screen's).
RESIZE = """
window.addEventListener("beforeprint", function () {
  document.querySelectorAll(".js-plotly-plot").forEach(function (d) { Plotly.Plots.resize(d); });
});
"""

CONFIG = {"displaylogo": False, "responsive": True}


def _e(text) -> str:
    return html.escape(str(text))


NUMERIC = ("money", "pct", "change", "units", "int", "decimal")


def _table(pack: Pack, table: Table) -> str:
    people = pack.people(table, on_page=True)
    frame = people.frame
    numeric = [not isinstance(k, str) or k in NUMERIC for k in people.kinds]
    head = "".join(f'<th class="{"num" if n else ""}">{_e(h)}</th>' for h, n in zip(people.headings, numeric))
    body = []
    for i, row in enumerate(frame.head(HTML_ROWS).itertuples(index=False)):
        cells = []
        for c, value in enumerate(row):
            kind = people.kinds[c]
            text = show(value, kind if isinstance(kind, str) else kind[i])
            css = "num" if numeric[c] else "long" if len(text) > 40 else ""
            cells.append(f'<td class="{css}">{_e(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="more">First {HTML_ROWS} of {len(frame):,} rows; the workbook has them all.</p>'
            if len(frame) > HTML_ROWS else "")
    return (f'<h3>{_e(table.title)}</h3><div class="wide"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>{more}")


def render(pack: Pack) -> bytes:
    r = pack.retailer
    facts = [("Retailer", r["retailer_name"]),
             ("Channel", labels.channel(r["channel"]) if r.get("channel") else None),
             ("Region", r.get("region")), ("Key account manager", r.get("kam")), ("Period", pack.period),
             ("Data", pack.freshness), ("Filters", pack.filters), ("Prepared", f"{pack.generated:%d %b %Y %H:%M}")]
    cover = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v if v is not None else fmt.DASH)}</dd>" for k, v in facts)
    gaps = ""
    if pack.gaps:
        items = "".join(f"<li>{_e(g)}</li>" for g in pack.gaps)
        gaps = f'<div class="gaps"><strong>Not in this pack</strong><ul>{items}</ul></div>'
    toc = "".join(f'<li><a href="#{s.key}">{_e(s.title)}</a></li>' for s in pack.sections)
    toc += '<li><a href="#definitions">Definitions</a></li>' if pack.definitions else ""

    parts = []
    for section in pack.sections:
        body = [f'<section id="{section.key}"><h2>{_e(section.title)}</h2>']
        if section.lead:
            body.append(f'<p class="lead">{_e(section.lead)}</p>')
        if section.points:
            body.append("<ul>" + "".join(f"<li>{_e(point)}</li>" for point in section.points) + "</ul>")
        for note in section.notes:
            body.append(f'<p class="more">{_e(note)}</p>')
        for chart in section.charts:
            div = pio.to_html(chart.untitled(), include_plotlyjs=False, full_html=False, config=CONFIG,
                              div_id=f"chart-{chart.key}", validate=False)
            body.append(f'<h3>{_e(chart.title)}</h3><p class="narrative">{_e(chart.narrative)}</p>'
                        f'<div class="chart">{div}</div>')
        body += [_table(pack, t) for t in section.tables if not t.detail]
        detail = [t.sheet for t in section.tables if t.detail]
        if detail:
            body.append(f'<p class="more">Rows by week or by product are in the workbook only: '
                        f'{_e(" and ".join(detail))} sheet{"s" if len(detail) > 1 else ""}.</p>')
        body.append("</section>")
        parts.append("".join(body))
    if pack.definitions:
        defs = "".join(f"<dt>{_e(term)}</dt><dd>{_e(text)}</dd>" for term, text in pack.definitions)
        parts.append(f'<section id="definitions"><h2>Definitions</h2><dl class="definitions">{defs}</dl></section>')

    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(pack.title)}</title>
<style>{CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<header class="cover"><h1>{_e(pack.title)}</h1><dl>{cover}</dl></header>
{gaps}
<nav><strong>Contents</strong><ol>{toc}</ol></nav>
{''.join(parts)}
<footer>Prepared with kam-dash from the same numbers as the dashboard. {_e(pack.freshness)}.</footer>
<script>{RESIZE}</script>
</body></html>
"""
    return doc.encode("utf-8")
