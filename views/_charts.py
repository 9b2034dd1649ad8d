"""Plotly in Spanish for every chart: decimal comma and thousands point, whole amounts (never «20k»), Spanish months."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import plotly.graph_objects as go

from reports import periods

MONEY_TICKS = ",.2~f"  # d3-format with the layout's separators: 20.000 · 1.234,5 (no SI prefix such as «k»)
MAX_DATE_TICKS = 8
HOVER_DATE = "%d/%m/%Y"
SPANISH_MONTHS = tuple(name[:3].capitalize() for name in periods.MONTHS)  # «Ene» … «Dic»


def _day(value: object) -> date | None:
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    return value if isinstance(value, date) else None


def month_ticks(days: list[date]) -> tuple[list[date], list[str]]:
    """Month starts across ``days`` (at most MAX_DATE_TICKS, evenly spaced) and their Spanish labels ('Ene 2026')."""
    first, last = min(days), max(days)
    months = []
    cursor = first.replace(day=1) if first.day == 1 else periods.add_months(first.replace(day=1), 1)
    while cursor <= last:
        months.append(cursor)
        cursor = periods.add_months(cursor, 1)
    step = max(1, -(-len(months) // MAX_DATE_TICKS))
    shown = months[::step]
    return shown, [f"{SPANISH_MONTHS[m.month - 1]} {m.year}" for m in shown]


def spanish(fig: go.Figure, *, money: str | None = "y") -> go.Figure:
    """Spanish number formats on ``fig``; ``money`` names the axis of euros ('y', 'x' or None) to print whole."""
    fig.update_layout(separators=",.")
    if money is not None:
        fig.update_layout({f"{money}axis": {"tickformat": MONEY_TICKS}})
    days = [d for trace in fig.data for d in map(_day, trace.x if trace.x is not None else ()) if d is not None]
    if days:
        ticks, labels = month_ticks(days)
        fig.update_xaxes(tickvals=ticks or None, ticktext=labels or None, hoverformat=HOVER_DATE)
    return fig
