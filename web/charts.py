"""Charts as inline SVG, drawn on the server: no script, no CDN, readable without JavaScript.

Three shapes cover the pages: stacked bars (verdicts by region × year and status), a strip of
dots (publication day against the deadline, per report year) and lines (an issuer's key
figures across years). Every label is escaped here; the result is markup for the templates.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

STATUS_COLORS = {"on_time": "#2e7d32", "late": "#ef6c00", "missing": "#c62828",
                 "pending": "#9e9e9e", "undated": "#6d4c41", "unobserved": "#5c6bc0"}
SERIES_COLORS = ("#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f")
FONT = 'font-family="sans-serif" font-size="11"'


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>")
    return Markup(head + "".join(body) + "</svg>")


def stacked_bars(title: str, groups: dict[str, dict[str, int]], labels: dict[str, str]
                 ) -> Markup:
    """One horizontal bar per group, split by status; ``labels`` names the statuses."""
    if not groups:
        return Markup("<p>暂无数据</p>")
    bar, gap, left, width = 18, 6, 150, 420
    most = max(sum(c.values()) for c in groups.values()) or 1
    height = (bar + gap) * len(groups) + 40
    body = []
    for i, (group, counts) in enumerate(groups.items()):
        y = 10 + i * (bar + gap)
        body.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" {FONT}>'
                    f"{escape(group)}</text>")
        x = float(left)
        for status, color in STATUS_COLORS.items():
            n = counts.get(status, 0)
            if not n:
                continue
            w = width * n / most
            body.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                        f'fill="{color}"><title>{escape(group)} '
                        f"{escape(labels.get(status, status))}：{n}</title></rect>")
            x += w
        body.append(f'<text x="{x + 4:.1f}" y="{y + 13}" {FONT}>{sum(counts.values())}</text>')
    y = height - 18
    x = left
    for status, color in STATUS_COLORS.items():
        body.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{color}"/>'
                    f'<text x="{x + 14}" y="{y + 9}" {FONT}>'
                    f"{escape(labels.get(status, status))}</text>")
        x += 80
    return _svg(left + width + 60, height, title, body)


def offsets_strip(title: str, offsets: list[tuple[int, int]]) -> Markup:
    """Each dated report as a dot: its report year (rows) against days from the deadline
    (negative: before it). The deadline is the vertical line."""
    if not offsets:
        return Markup("<p>暂无数据</p>")
    years = sorted({year for year, _ in offsets})
    low = min(min(d for _, d in offsets), -30)
    high = max(max(d for _, d in offsets), 30)
    left, width, row = 60, 480, 26
    height = row * len(years) + 40

    def x_of(days: int) -> float:
        return left + width * (days - low) / (high - low)

    body = [f'<line x1="{x_of(0):.1f}" y1="4" x2="{x_of(0):.1f}" y2="{height - 30}" '
            f'stroke="#c62828" stroke-dasharray="4 3"/>',
            f'<text x="{x_of(0):.1f}" y="{height - 16}" text-anchor="middle" {FONT}>截止日</text>',
            f'<text x="{left}" y="{height - 4}" {FONT}>{low} 天</text>',
            f'<text x="{left + width}" y="{height - 4}" text-anchor="end" {FONT}>+{high} 天</text>']
    for i, year in enumerate(years):
        y = 14 + i * row
        body.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" {FONT}>{year}</text>')
        for year_of, days in offsets:
            if year_of == year:
                color = STATUS_COLORS["late"] if days > 0 else STATUS_COLORS["on_time"]
                body.append(f'<circle cx="{x_of(days):.1f}" cy="{y}" r="3.5" fill="{color}" '
                            f'fill-opacity="0.6"><title>{year} 年度：{days:+d} 天</title></circle>')
    return _svg(left + width + 20, height, title, body)


def lines(title: str, years: list[int], series: dict[str, list[float | None]]) -> Markup:
    """One line per series over ``years``; a missing value breaks the line."""
    values = [v for s in series.values() for v in s if v is not None]
    if not years or not values:
        return Markup("<p>暂无数据</p>")
    left, top, width, height = 50, 10, 460, 200
    most = max(values) or 1

    def point(i: int, v: float) -> tuple[float, float]:
        x = left + (width * i / max(len(years) - 1, 1))
        return x, top + height - height * v / most

    body = [f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" '
            'stroke="#999"/>',
            f'<text x="{left - 6}" y="{top + 8}" text-anchor="end" {FONT}>{most:g}</text>',
            f'<text x="{left - 6}" y="{top + height}" text-anchor="end" {FONT}>0</text>']
    for i, year in enumerate(years):
        x, _ = point(i, 0)
        body.append(f'<text x="{x:.1f}" y="{top + height + 16}" text-anchor="middle" {FONT}>'
                    f"{year}</text>")
    for n, (name, points) in enumerate(series.items()):
        color = SERIES_COLORS[n % len(SERIES_COLORS)]
        segment: list[str] = []
        for i, v in enumerate([*points, None]):
            if v is None:
                if len(segment) > 1:
                    body.append(f'<polyline points="{" ".join(segment)}" fill="none" '
                                f'stroke="{color}" stroke-width="2"/>')
                segment = []
                continue
            x, y = point(i, v)
            segment.append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                        f"<title>{escape(name)} {years[i]}：{v:g}</title></circle>")
        body.append(f'<rect x="{left + width + 10}" y="{top + n * 16}" width="10" height="10" '
                    f'fill="{color}"/><text x="{left + width + 24}" y="{top + n * 16 + 9}" '
                    f"{FONT}>{escape(name)}</text>")
    return _svg(left + width + 150, top + height + 30, title, body)
