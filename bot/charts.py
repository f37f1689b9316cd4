"""Charts as data, and two ways out of it: CSV (the numbers) and SVG (a picture anyone can read).

The SVG is drawn on the server, with no script and nothing fetched: a title and a description a screen
reader announces (and a printout shows), labelled axes, a legend, and colours that keep a 3:1 contrast with
the white ground (text 4.5:1 or more). Every piece of text is escaped. Pure functions, no I/O.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from html import escape

# Colours by what a series stands for, each at least 4.5:1 against white (so also readable as text).
COLOURS = {
    "in_scope": "#1b7837",  # green, 5.6:1
    "out_of_scope": "#b2182b",  # red, 6.3:1
    "unlisted": "#8c510a",  # brown, 6.1:1
    "approve": "#1b7837",
    "approve_change": "#1f5fa8",  # blue, 6.4:1
    "decline": "#b2182b",
    "needs_info": "#5e3c99",  # purple, 8.4:1
    "share": "#b2182b",
}
PALETTE = ("#1f5fa8", "#b2182b", "#1b7837", "#8c510a", "#5e3c99", "#3d3d3d")
INK = "#1a1a1a"  # text, 17:1
MUTED = "#595959"  # axes and tick labels, 7:1
GRID = "#d9d9d9"  # decorative grid lines only


@dataclass(frozen=True)
class Series:
    """One named row of numbers, one per label. `key` names what it stands for (a verdict, a decision
    kind), which picks its colour; the name is what people read."""

    name: str
    values: list[float]
    key: str = ""


@dataclass(frozen=True)
class Chart:
    """A chart's numbers and its words, already in the reader's language.

    `description` is a plain sentence or two telling what the numbers say (for screen readers and
    printouts). `style` is "stacked" (bars, one stack per label), "bars" (one bar per label) or "lines".
    """

    key: str
    title: str
    description: str
    labels: list[str]
    series: list[Series]
    unit: str
    x_label: str = ""
    style: str = "stacked"
    y_max: float | None = None  # a fixed top of the scale (100 for shares); None: from the numbers
    legend_title: str = field(default="Legend", compare=False)


def number(value: float) -> str:
    """A number as the CSV and the labels write it: whole numbers without a point, others to one place."""
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return f"{value:.1f}"


def _cell(text: str) -> str:
    """Keep a spreadsheet from reading a label as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def chart_csv(chart: Chart) -> str:
    """The chart's numbers as CSV: a header (the labels' axis, then each series' name), one row per label."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([_cell(chart.x_label or chart.unit), *(_cell(s.name) for s in chart.series)])
    for i, label in enumerate(chart.labels):
        w.writerow([_cell(label), *(number(s.values[i]) for s in chart.series)])
    return buf.getvalue()


# --- SVG ----------------------------------------------------------------------------------------

WIDTH, HEIGHT = 760, 400
LEFT, RIGHT, TOP, BOTTOM = 84, 32, 92, 64


def _nice_step(top: float, ticks: int = 5) -> float:
    raw = max(top, 1.0) / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * magnitude >= raw:
            return max(m * magnitude, 1.0)
    return 10 * magnitude


def _text_px(text: str, size: float = 13) -> float:
    """About how wide `text` is drawn at font size `size` (Chinese characters are square)."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.56 for ch in text)


def _colour(series: Series, i: int) -> str:
    return COLOURS.get(series.key) or PALETTE[i % len(PALETTE)]


def _id(key: str) -> str:
    return "chart-" + (re.sub(r"[^A-Za-z0-9_-]", "-", key) or "x")


def _wrap(text: str, width: int) -> list[str]:
    """Split a title that is too long for one line (by words, or by characters for Chinese)."""
    if len(text) <= width:
        return [text]
    words = text.split(" ")
    if len(words) == 1:
        return [text[i : i + width] for i in range(0, len(text), width)]
    lines, line = [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    return [*lines, line]


def chart_svg(chart: Chart, *, id_prefix: str = "") -> str:
    """The chart as a standalone, accessible SVG document (`role="img"`, `<title>`, `<desc>`)."""
    cid = id_prefix + _id(chart.key)
    e = escape
    n = len(chart.labels)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    if chart.style == "stacked":
        tops = [sum(s.values[i] for s in chart.series) for i in range(n)]
    else:
        tops = [max((s.values[i] for s in chart.series), default=0.0) for i in range(n)]
    highest = max(tops, default=0.0)
    step = _nice_step(chart.y_max if chart.y_max is not None else highest)
    y_top = chart.y_max if chart.y_max is not None else max(step, math.ceil(highest / step) * step)
    if chart.y_max is None and highest and highest >= y_top:
        y_top += step  # room for the totals above the highest bar

    def y(v: float) -> float:
        return TOP + plot_h - (v / y_top) * plot_h if y_top else TOP + plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{cid}-title {cid}-desc" font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="{cid}-title">{e(chart.title)}</title>',
        f'<desc id="{cid}-desc">{e(chart.description)}</desc>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for i, line in enumerate(_wrap(chart.title, 80)[:2]):
        out.append(
            f'<text x="{LEFT}" y="{22 + 18 * i}" font-size="16" font-weight="bold" fill="{INK}">{e(line)}</text>'
        )

    # The legend, above the plot: a swatch (or a line) and the series' name.
    x: float = LEFT
    out.append(f'<g aria-label="{e(chart.legend_title)}">')
    for i, s in enumerate(chart.series):
        colour = _colour(s, i)
        if chart.style == "lines":
            out.append(f'<line x1="{x}" y1="63" x2="{x + 16}" y2="63" stroke="{colour}" stroke-width="3"/>')
        else:
            out.append(f'<rect x="{x}" y="56" width="14" height="14" fill="{colour}"/>')
        out.append(f'<text x="{x + 20}" y="68" fill="{INK}">{e(s.name)}</text>')
        x += 20 + _text_px(s.name) + 24
    out.append("</g>")

    # The value axis: grid lines, ticks and the unit.
    out.append('<g class="y-axis">')
    v = 0.0
    while v <= y_top + 1e-9:
        yy = y(v)
        out.append(f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{WIDTH - RIGHT}" y2="{yy:.1f}" stroke="{GRID}"/>')
        out.append(f'<text x="{LEFT - 8}" y="{yy + 4:.1f}" text-anchor="end" fill="{MUTED}">{e(number(v))}</text>')
        v += step
    out.append(
        f'<text transform="translate(18 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
        f'fill="{MUTED}">{e(chart.unit)}</text>'
    )
    out.append("</g>")

    # The marks.
    band = plot_w / n if n else plot_w
    bar_w = max(2.0, min(48.0, band * 0.6))
    # Totals above the bars only where each fits above its own bar.
    widest_total = max((_text_px(number(v), 11) for v in tops), default=0.0)
    show_totals = chart.style != "lines" and widest_total + 4 <= band
    out.append('<g class="marks">')
    if chart.style == "lines":
        for si, s in enumerate(chart.series):
            colour = _colour(s, si)
            points = [(LEFT + band * (i + 0.5), y(s.values[i])) for i in range(n)]
            if len(points) > 1:
                path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
                out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
            for i, (px, py) in enumerate(points):
                out.append(
                    f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{colour}"><title>'
                    f"{e(chart.labels[i])}: {e(s.name)} {e(number(s.values[i]))}</title></circle>"
                )
    else:
        for i in range(n):
            base = 0.0
            x0 = LEFT + band * i + (band - bar_w) / 2
            for si, s in enumerate(chart.series):
                value = s.values[i]
                if value <= 0:
                    continue
                lo, hi = (base, base + value) if chart.style == "stacked" else (0.0, value)
                out.append(
                    f'<rect x="{x0:.1f}" y="{y(hi):.1f}" width="{bar_w:.1f}" height="{y(lo) - y(hi):.1f}" '
                    f'fill="{_colour(s, si)}" stroke="#ffffff" stroke-width="1"><title>'
                    f"{e(chart.labels[i])}: {e(s.name)} {e(number(value))}</title></rect>"
                )
                base = hi
            if chart.style != "stacked" and len(chart.series) == 1:
                total = chart.series[0].values[i]
            else:
                total = tops[i]
            if show_totals and total > 0:
                out.append(
                    f'<text x="{x0 + bar_w / 2:.1f}" y="{y(total) - 4:.1f}" text-anchor="middle" '
                    f'font-size="11" fill="{INK}">{e(number(total))}</text>'
                )
    if not highest:  # nothing to draw: say so where the marks would be
        for i, line in enumerate(_wrap(chart.description, 60)[:3]):
            out.append(
                f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2 - 10 + 20 * i:.1f}" text-anchor="middle" '
                f'fill="{INK}">{e(line)}</text>'
            )
    out.append("</g>")

    # The label axis: the baseline, the labels (thinned out when there are many) and its name.
    out.append('<g class="x-axis">')
    out.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="{MUTED}"/>')
    # Every label, or every second, third… so that none overlaps its neighbour.
    widest = max((_text_px(label) for label in chart.labels), default=0.0)
    every = max(1, math.ceil((widest + 10) / band)) if band else 1
    for i, label in enumerate(chart.labels):
        if i % every:
            continue
        lx = LEFT + band * (i + 0.5)
        out.append(f'<text x="{lx:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle" fill="{MUTED}">{e(label)}</text>')
    if chart.x_label:
        out.append(
            f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 14}" text-anchor="middle" fill="{MUTED}">'
            f"{e(chart.x_label)}</text>"
        )
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
