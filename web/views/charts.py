"""Pictures drawn as inline SVG on the server: bar charts, a park's lifecycle, its balance.

No JavaScript and no CDN: the SVG is part of the page, prints as vectors, and is styled by the
page's own CSS (classes, not inline styles, so the Content-Security-Policy stays strict).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from markupsafe import Markup, escape

LANES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("filing", ("ApplicationFiled", "MaterialsSupplemented", "ApplicationWithdrawn")),
    ("evaluation", ("EvaluationOpened", "ExpertOpinionRecorded", "EvaluationConcluded")),
    ("publicity", ("PublicityStarted", "ObjectionRaised", "ObjectionResolved",
                   "PublicityClosed")),
    ("decision", ("ParkApproved", "PlaqueAwarded", "ApplicationRejected", "SubParkAdded")),
    ("grades", ("SelfEvaluationReported", "EvaluationGraded", "CommendationIssued",
                "NationalRecommendationMade")),
    ("sanctions", ("RectificationOrdered", "RectificationCompleted", "PlaqueRevoked")),
    ("money", ("SubsidyDisbursed", "RefundDemanded", "RefundReceived")),
    ("records", ("EntryCorrected", "FindingClosed")),
)
LANE_OF = {kind: lane for lane, kinds in LANES for kind in kinds}
# Events worth a caption under their dot: the steps a reader looks for first.
CAPTIONED = {"ApplicationFiled", "EvaluationConcluded", "PublicityStarted", "ParkApproved",
             "ApplicationRejected", "ApplicationWithdrawn", "EvaluationGraded", "PlaqueRevoked",
             "SubsidyDisbursed", "RefundDemanded"}
NEGATIVE = {"ApplicationRejected", "ApplicationWithdrawn", "PlaqueRevoked",
            "RectificationOrdered", "RefundDemanded"}


def short_hash(value: str | None, length: int = 12) -> str:
    return (value or "")[:length]


@dataclass(frozen=True)
class Mark:
    """One event as the lifecycle picture needs it."""

    version: int
    kind: str
    effective_on: date
    flagged: bool


def bars(items: Sequence[tuple[str, int, str | None]], width: int = 460) -> Markup:
    """A horizontal bar chart: (label, value, link or None) per bar."""
    row, label_w, top = 26, 130, 6
    high = max((value for _, value, _ in items), default=0) or 1
    inner = width - label_w - 50
    parts = [f'<svg class="chart bars" viewBox="0 0 {width} {top + row * len(items) + 4}" '
             f'role="img" width="{width}" height="{top + row * len(items) + 4}">']
    for i, (label, value, link) in enumerate(items):
        y = top + i * row
        length = max(2, round(inner * value / high))
        bar = (f'<text x="{label_w - 8}" y="{y + 16}" class="bar-label" text-anchor="end">'
               f'{escape(label)}</text><rect x="{label_w}" y="{y + 3}" width="{length}" '
               f'height="{row - 8}" rx="2" class="bar"><title>{escape(label)}: {value}</title>'
               f'</rect><text x="{label_w + length + 6}" y="{y + 16}" class="bar-value">'
               f'{value}</text>')
        parts.append(f'<a href="{escape(link)}">{bar}</a>' if link else bar)
    parts.append("</svg>")
    return Markup("".join(parts))


def lifecycle(marks: Sequence[Mark], end: date, label: Callable[[str], str],
              lane_label: Callable[[str], str], link: Callable[[int], str],
              width: int = 960) -> Markup:
    """The park's life on a time axis: one lane per stage, one dot per event at its effective
    date (red ring if flagged), captions under the key steps, year ticks underneath."""
    if not marks:
        return Markup("")
    left, right, lane_h, top = 118, 24, 34, 10
    start = min(m.effective_on for m in marks)
    end = max(end, max(m.effective_on for m in marks), start + timedelta(days=30))
    span = (end - start).days or 1
    used = [lane for lane, _ in LANES if any(LANE_OF.get(m.kind) == lane for m in marks)]
    height = top + lane_h * len(used) + 40

    def x(day: date) -> float:
        return round(left + (width - left - right) * (day - start).days / span, 1)

    parts = [f'<svg class="chart lifecycle" viewBox="0 0 {width} {height}" role="img" '
             f'width="{width}" height="{height}" data-test="lifecycle">']
    counts = {lane: sum(1 for m in marks if LANE_OF.get(m.kind, "records") == lane)
              for lane in used}
    for i, lane in enumerate(used):
        y = top + i * lane_h + lane_h / 2
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" '
                     f'class="lane-line"/><text x="{left - 10}" y="{y + 4}" '
                     f'class="lane-label" text-anchor="end">{escape(lane_label(lane))}</text>'
                     f'<text x="{width - right}" y="{y - 7}" class="lane-count" '
                     f'text-anchor="end">{counts[lane]}</text>')
    axis_y = top + lane_h * len(used) + 6
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{axis_y}" y2="{axis_y}" '
                 f'class="axis"/>')
    for year in range(start.year + 1, end.year + 1):
        tick = x(date(year, 1, 1))
        parts.append(f'<line x1="{tick}" x2="{tick}" y1="{top}" y2="{axis_y + 4}" '
                     f'class="tick"/><text x="{tick}" y="{axis_y + 18}" class="tick-label" '
                     f'text-anchor="middle">{year}</text>')
    parts.append(f'<text x="{left}" y="{axis_y + 32}" class="tick-label">{start}</text>'
                 f'<text x="{width - right}" y="{axis_y + 32}" class="tick-label" '
                 f'text-anchor="end">{end}</text>')
    captioned_at: dict[str, float] = {}
    for mark in marks:
        lane = LANE_OF.get(mark.kind, "records")
        y = top + used.index(lane) * lane_h + lane_h / 2
        cx = x(mark.effective_on)
        kind_class = "neg" if mark.kind in NEGATIVE else "pos"
        ring = " flagged" if mark.flagged else ""
        title = f"v{mark.version} {label(mark.kind)} {mark.effective_on}"
        dot = (f'<a href="{escape(link(mark.version))}"><circle cx="{cx}" cy="{y}" r="6" '
               f'class="dot {kind_class}{ring}"><title>{escape(title)}</title></circle></a>')
        parts.append(dot)
        if mark.kind in CAPTIONED and abs(captioned_at.get(lane, -999) - cx) > 90:
            captioned_at[lane] = cx
            anchor = "start" if cx < width - 160 else "end"
            parts.append(f'<text x="{cx + (8 if anchor == "start" else -8)}" y="{y - 8}" '
                         f'class="dot-label" text-anchor="{anchor}">'
                         f'{escape(label(mark.kind))} {mark.effective_on:%Y-%m-%d}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def balance(entries: Sequence[dict[str, str]], end: date, labels: dict[str, str],
            width: int = 640, height: int = 220) -> Markup:
    """Two step lines over time from a park's money events: what it holds (disbursed less
    refunded) and what it still owes (demanded less refunded)."""
    if not entries:
        return Markup("")
    points = sorted(entries, key=lambda e: (e["effective_on"], e["version"]))
    held, owed = Decimal(0), Decimal(0)
    series: list[tuple[date, Decimal, Decimal]] = []
    for entry in points:
        amount = Decimal(entry["amount_yuan"])
        if entry["kind"] == "disbursed":
            held += amount
        elif entry["kind"] == "demanded":
            owed += amount
        else:
            held -= amount
            owed -= amount
        series.append((date.fromisoformat(entry["effective_on"]), held, max(owed, Decimal(0))))
    left, right, top, bottom = 80, 20, 14, 40
    start = series[0][0] - timedelta(days=30)
    end = max(end, series[-1][0] + timedelta(days=30))
    span = (end - start).days or 1
    high = max(max(s[1] for s in series), max(s[2] for s in series), Decimal(1))

    def x(day: date) -> float:
        return round(left + (width - left - right) * (day - start).days / span, 1)

    def y(value: Decimal) -> float:
        return round(top + (height - top - bottom) * float(1 - value / high), 1)

    def path(index: int) -> str:
        d = [f"M{x(start)},{y(Decimal(0))}"]
        for day, *values in series:
            d.append(f"H{x(day)}V{y(values[index - 1])}")
        d.append(f"H{x(end)}")
        return "".join(d)

    parts = [f'<svg class="chart balance" viewBox="0 0 {width} {height}" role="img" '
             f'width="{width}" height="{height}" data-test="balance-chart">']
    for fraction in (0, 0.5, 1):
        value = high * Decimal(str(fraction))
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value)}" y2="{y(value)}" '
                     f'class="grid"/><text x="{left - 6}" y="{y(value) + 4}" '
                     f'class="tick-label" text-anchor="end">{value:,.0f}</text>')
    for year in range(start.year + 1, end.year + 1):
        tick = x(date(year, 1, 1))
        parts.append(f'<text x="{tick}" y="{height - bottom + 16}" class="tick-label" '
                     f'text-anchor="middle">{year}</text>')
    parts.append(f'<path d="{path(1)}" class="line held"/>'
                 f'<path d="{path(2)}" class="line owed"/>')
    for day, value, _ in series:
        parts.append(f'<circle cx="{x(day)}" cy="{y(value)}" r="3" class="point held">'
                     f'<title>{day} {value:,.2f}</title></circle>')
    legend_y = height - 8
    parts.append(f'<rect x="{left}" y="{legend_y - 8}" width="14" height="4" class="key held"/>'
                 f'<text x="{left + 20}" y="{legend_y}" class="tick-label">'
                 f'{escape(labels["held"])}</text>'
                 f'<rect x="{left + 200}" y="{legend_y - 8}" width="14" height="4" '
                 f'class="key owed"/><text x="{left + 220}" y="{legend_y}" class="tick-label">'
                 f'{escape(labels["owed"])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
