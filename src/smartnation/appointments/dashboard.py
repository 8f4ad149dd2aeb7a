"""The officers' figures: capacity released, booked and doses given, per centre per day, and the
server-rendered SVG chart of them (it needs no JavaScript; the page also shows the same figures as a
table for screen readers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartnation.appointments.models import Centre, CheckIn, Dose, Slot


@dataclass(frozen=True)
class DayFigures:
    day: date
    released: int
    booked: int
    doses: int


@dataclass(frozen=True)
class CentreFigures:
    code: str
    name: str
    vaccine_code: str
    days: list[DayFigures]

    @property
    def totals(self) -> DayFigures:
        return DayFigures(
            self.days[0].day if self.days else date.min,
            sum(d.released for d in self.days),
            sum(d.booked for d in self.days),
            sum(d.doses for d in self.days),
        )


def figures(session: Session, start: date, end: date) -> list[CentreFigures]:
    """Per centre, per day from `start` to `end`: places released and booked, doses given."""
    slots = session.execute(
        select(Slot.centre_id, Slot.day, func.sum(Slot.capacity), func.sum(Slot.booked))
        .where(Slot.day >= start, Slot.day <= end)
        .group_by(Slot.centre_id, Slot.day)
    ).all()
    doses = session.execute(
        select(Dose.centre_id, Slot.day, func.count(Dose.id))
        .join(CheckIn, CheckIn.id == Dose.checkin_id)
        .join(Slot, Slot.id == CheckIn.slot_id)
        .where(Slot.day >= start, Slot.day <= end)
        .group_by(Dose.centre_id, Slot.day)
    ).all()
    by_key: dict[tuple[int, date], list[int]] = {}
    for centre_id, day, released, booked in slots:
        by_key[(centre_id, day)] = [int(released or 0), int(booked or 0), 0]
    for centre_id, day, given in doses:
        by_key.setdefault((centre_id, day), [0, 0, 0])[2] = int(given)
    result = []
    for centre in session.scalars(select(Centre).order_by(Centre.name)):
        days = [
            DayFigures(day, *values)
            for (centre_id, day), values in sorted(by_key.items(), key=lambda item: item[0][1])
            if centre_id == centre.id
        ]
        if days:
            result.append(CentreFigures(centre.code, centre.name, centre.vaccine_code, days))
    return result


SERIES = (
    ("released", "#5b6770"),  # grey
    ("booked", "#1a56a8"),  # blue
    ("doses", "#1d7a3e"),  # green
)


def chart_svg(centre: CentreFigures, labels: dict[str, str], title: str) -> str:
    """A grouped bar chart (released, booked, doses per day) as an inline SVG document."""
    width, height, left, bottom, top = 640, 260, 48, 40, 30
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max([1] + [max(d.released, d.booked, d.doses) for d in centre.days])
    group = plot_w / max(1, len(centre.days))
    bar = max(2.0, min(18.0, group / 4))
    ident = f"chart-{escape(centre.code)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-title" class="nas-chart">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        'stroke="#333"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    for index, day in enumerate(centre.days):
        x0 = left + index * group + (group - 3 * bar) / 2
        for offset, (name, colour) in enumerate(SERIES):
            value = getattr(day, name)
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x0 + offset * bar:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar - 1:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(labels[name])} {day.day:%d %b}: {value}</title></rect>"
            )
        if len(centre.days) <= 16 or index % 2 == 0:
            parts.append(
                f'<text x="{x0 + 1.5 * bar:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
                f'font-size="10">{day.day:%d/%m}</text>'
            )
    for offset, (name, colour) in enumerate(SERIES):
        x = left + offset * 150
        parts.append(
            f'<rect x="{x}" y="{height - 16}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{height - 6}" font-size="12">{escape(labels[name])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
