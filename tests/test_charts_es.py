"""Charts in Spanish (views/_charts.py): decimal comma, whole amounts without «k», Spanish month names on date axes."""

from __future__ import annotations

from datetime import date, datetime

import plotly.graph_objects as go

from views import _charts


def test_money_axes_use_the_spanish_separators_and_no_si_prefix():
    fig = _charts.spanish(go.Figure([go.Bar(x=["Ene", "Feb"], y=[20_000.0, 35_500.5])]))
    assert fig.layout.separators == ",."  # decimal comma, thousands point
    assert fig.layout.yaxis.tickformat == ",.2~f"  # 20.000 and 35.500,5: never «20k»
    assert fig.layout.xaxis.tickformat is None


def test_the_money_axis_can_be_x_or_none():
    horizontal = _charts.spanish(go.Figure([go.Bar(y=["a"], x=[1.0], orientation="h")]), money="x")
    assert (horizontal.layout.xaxis.tickformat, horizontal.layout.yaxis.tickformat) == (",.2~f", None)
    ratio = _charts.spanish(go.Figure([go.Scatter(x=["2025"], y=[1.21])]), money=None)
    assert ratio.layout.yaxis.tickformat is None and ratio.layout.separators == ",."


def test_a_date_axis_gets_spanish_month_labels_and_a_numeric_hover_date():
    days = [date(2025, 11, 20), date(2025, 12, 31), datetime(2026, 2, 3, 0, 0)]
    fig = _charts.spanish(go.Figure([go.Scatter(x=days, y=[1.0, 2.0, 3.0])]))
    assert list(fig.layout.xaxis.tickvals) == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert list(fig.layout.xaxis.ticktext) == ["Dic 2025", "Ene 2026", "Feb 2026"]
    assert fig.layout.xaxis.hoverformat == "%d/%m/%Y"


def test_a_long_date_axis_keeps_at_most_eight_month_labels():
    days = [date(2024, 1, 1), date(2026, 12, 31)]  # 36 month starts
    ticks, labels = _charts.month_ticks(days)
    assert len(ticks) <= _charts.MAX_DATE_TICKS and ticks[0] == date(2024, 1, 1)
    assert labels[0] == "Ene 2024" and all(label[:3] in _charts.SPANISH_MONTHS for label in labels)
