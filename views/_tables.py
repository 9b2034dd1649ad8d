"""Tables that read on a phone: beside each table, the same rows as stacked cards that only narrow screens show.

The grid (``st.dataframe``) scrolls sideways inside itself on a 390 px screen and hides the amounts; the cards put
each row's label first and every figure under it, full width. Which one shows is decided by the browser
(``web/static/portal.css``: the cards below 640 px, the grid above), so the server never needs the screen width.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

CARDS_CLASS = "pc-cards"  # portal.css hides the grid right before such a block on narrow screens, and vice versa
TITLE_COLUMNS = 2  # the first text columns make a card's title ("Código · Partida", "Fecha · Asiento")


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def cards_html(frame: pd.DataFrame, amounts: list[str]) -> str:
    """The rows of ``frame`` as cards: the first text columns as the title, then each other column as label/value.

    Every cell is HTML-escaped (labels come from the firm's exports); amount columns are aligned right.
    """
    columns = [str(c) for c in frame.columns]
    text_columns = [c for c in columns if c not in amounts]
    title_columns = text_columns[:TITLE_COLUMNS]
    cards = []
    for record in frame.to_numpy(dtype=object).tolist():  # one conversion (4× faster than astype + itertuples)
        cells = dict(zip(columns, record, strict=True))
        title = " · ".join(t for t in (_text(cells[c]) for c in title_columns) if t)
        rows = []
        for column in columns:
            if column in title_columns:
                continue
            value = _text(cells[column])
            if not value:
                continue
            kind = "pc-amount" if column in amounts else "pc-text"
            rows.append(f'<dt>{html.escape(column)}</dt><dd class="{kind}">{html.escape(value)}</dd>')
        cards.append(f'<div class="pc-card"><p class="pc-title">{html.escape(title)}</p><dl>{"".join(rows)}</dl></div>')
    return f'<div class="{CARDS_CLASS}">{"".join(cards)}</div>'


def show(frame: pd.DataFrame, amounts: list[str], *, data: pd.DataFrame | None = None, **dataframe_kwargs):
    """``st.dataframe`` (wide screens) and the same rows as cards (narrow screens); the dataframe's return value.

    ``data`` is what the dataframe shows when it is not ``frame`` itself (a Styler over it, for instance).
    """
    event = st.dataframe(frame if data is None else data, **dataframe_kwargs)
    st.html(cards_html(frame, amounts))
    return event


def wide_only(data, **dataframe_kwargs) -> None:
    """A table only wide screens show (a month grid): on a phone the list the page shows beside it says the same."""
    st.dataframe(data, **dataframe_kwargs)
    st.html(f'<div class="{CARDS_CLASS}"></div>')
