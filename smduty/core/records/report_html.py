"""The report as one self-contained HTML file for a committee paper (issue 21): the Markdown
report's words and tables, with its charts drawn as inline SVG by pygal. Nothing is fetched
when the file is opened (no scripts, fonts or style sheets from elsewhere), and every name in
it (channels, sources, officers) is escaped text."""

from __future__ import annotations

import re
from html import escape

from smduty.core.records.report import (
    ChartSlot,
    Report,
    Table,
    report_document,
    report_title,
)
from smduty.core.records.report_charts import COLOURS, Chart, report_charts

PAGE_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: #1f2933;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #cbd2d9; padding-bottom: 0.2rem;
     margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; }
th, td { border: 1px solid #cbd2d9; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #f0f4f8; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0.8rem 0 1.2rem; }
figure svg { width: 100%; height: auto; max-height: 26rem; }
figcaption { color: #52606d; font-size: 0.9rem; }
.election { background: #fff4e5; border-left: 4px solid #f46036; padding: 0.4rem 0.8rem; }
summary { cursor: pointer; margin: 0.4rem 0; }
@media print { figure { break-inside: avoid; } }
"""


FOLD_AFTER_ROWS = 20
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)


def report_html(report: Report) -> str:
    """The whole report as a page."""
    charts = {chart.key: chart for chart in report_charts(report)}
    opening, sections = report_document(report)
    title = escape(report_title(report))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{title}</title>",
        f"<style>{PAGE_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{title}</h1>",
    ]
    for line in opening:
        css = ' class="election"' if line.startswith("Pre-election period:") else ""
        out.append(f"<p{css}>{escape(line)}</p>")
    for section in sections:
        out.append(f"<h2>{escape(section.heading)}</h2>")
        for block in section.blocks:
            if isinstance(block, ChartSlot):
                out.append(_figure(charts[block.key]))
            elif isinstance(block, Table):
                out.append(_table(block))
            else:
                out.append(f"<p>{escape(block)}</p>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in table.headers)
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{value}</td>'
            if isinstance(value, int | float)
            else f"<td>{escape(str(value))}</td>"
            for value in row
        )
        + "</tr>"
        for row in table.rows
    )
    html = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    if table.what and len(table.rows) > FOLD_AFTER_ROWS:
        # Folded (a click opens it), so the charts stay near the top of the page.
        count = f"{len(table.rows)} {table.what}"
        return f"<details><summary>{escape(count)}</summary>{html}</details>"
    return html


def _figure(chart: Chart) -> str:
    caption = chart.title
    if chart.empty:
        return f'<figure id="chart-{chart.key}"><figcaption>{escape(caption)}: nothing to draw in' \
               " this period.</figcaption></figure>"  # fmt: skip
    return (
        f'<figure id="chart-{chart.key}">{chart_svg(chart)}'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def chart_svg(chart: Chart) -> str:
    """One chart as an inline <svg> element (pygal, with no script or outside reference)."""
    import pygal
    from pygal.style import Style

    style = Style(
        background="white",
        plot_background="white",
        foreground="#1f2933",
        foreground_strong="#1f2933",
        foreground_subtle="#9aa5b1",
        opacity="1",  # the colours as named, so a screenshot can find them
        opacity_hover="1",
        colors=tuple(COLOURS.get(name, "#52606d") for name in chart.series),
        font_family="system-ui, Arial, sans-serif",
        label_font_size=11,
        major_label_font_size=11,
        legend_font_size=12,
        title_font_size=14,
    )
    kind = pygal.StackedBar if chart.kind == "stacked" else pygal.Bar
    many = len(chart.labels) > 12
    drawn = kind(
        style=style,
        js=[],  # pygal's tooltips script lives on the web: leave it out
        width=900,
        height=360,
        y_title=chart.unit or None,
        show_legend=len(chart.series) > 1,
        legend_at_bottom=True,
        x_label_rotation=45 if many else 0,
        print_values=False,
        margin=16,
        spacing=6,
        range=(0, 100) if chart.unit == "%" else None,
        include_x_axis=True,
    )
    drawn.x_labels = chart.labels
    for name, values in chart.series.items():
        drawn.add(name, values)
    svg = drawn.render(is_unicode=True, disable_xml_declaration=True)
    # pygal always writes a <script> of its settings for its tooltips; the page runs no script.
    return SCRIPT.sub("", svg)
