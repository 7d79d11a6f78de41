"""One of the report's charts in the terminal: its title and legend as a line of text, the bars
drawn by plotext (textual-plotext) from the same Chart the HTML report draws."""

from __future__ import annotations

from math import ceil

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from smduty.core.records.report_charts import COLOURS, Chart


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class ReportChart(Vertical):
    DEFAULT_CSS = """
    ReportChart { height: 16; width: 1fr; padding: 0 1; }
    ReportChart > .chart-title { height: auto; max-height: 3; }
    ReportChart > PlotextPlot { height: 1fr; }
    """

    def __init__(self, *, id: str) -> None:  # noqa: A002 (Textual's own name)
        super().__init__(id=id)
        self.chart: Chart | None = None

    def compose(self) -> ComposeResult:
        yield Static(classes="chart-title")
        yield PlotextPlot()

    def on_resize(self) -> None:
        if self.chart is not None:
            self.show(self.chart)  # the x labels that fit the new width

    def show(self, chart: Chart) -> None:
        self.chart = chart
        title = Text(chart.title, style="bold")
        if chart.unit in ("%", "minutes"):
            title.append(f" ({chart.unit})", style="dim")
        title.append("\n")
        if chart.empty:
            title.append("nothing to draw in this period", style="dim italic")
        elif len(chart.series) > 1:
            for name in chart.series:
                title.append("■ ", style=COLOURS.get(name, "white"))
                title.append(f"{name}  ")
        self.query_one(".chart-title", Static).update(title)
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        values = [[v or 0 for v in series] for series in chart.series.values()]
        colours = [_rgb(COLOURS.get(name, "#9aa5b1")) for name in chart.series]
        if chart.kind == "stacked":
            plt.stacked_bar(chart.labels, values, color=colours)
        elif len(values) > 1:
            plt.multiple_bar(chart.labels, values, color=colours)
        else:
            plt.bar(chart.labels, values[0], color=colours[0])
        # As many x labels as fit: every n-th bar's, each about 8 columns wide.
        width = max(self.size.width, 40)
        step = max(1, ceil(len(chart.labels) * 8 / width))
        ticks = list(range(1, len(chart.labels) + 1, step))
        plt.xticks(ticks, [chart.labels[t - 1] for t in ticks])
        # Whole numbers up the side, from 0 to the tallest bar (or stack) or 100%.
        if chart.unit == "%":
            top = 100
        elif chart.kind == "stacked":
            top = max((sum(day) for day in zip(*values, strict=True)), default=0)
        else:
            top = max((v for series in values for v in series), default=0)
        top = max(ceil(top), 1)
        every = max(1, ceil(top / 5))
        plt.ylim(0, top)
        plt.yticks(list(range(0, top + 1, every)))
        plot.refresh()
