"""The load benchmark's floor: a minimal Streamlit page with a 30-row table and one plotly chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

ROWS = 30


def frame() -> pd.DataFrame:
    """Thirty rows of the shape the portal shows: a code, a label and two amounts."""
    rng = np.random.default_rng(2026)
    amounts = rng.integers(-5_000_000, 5_000_000, size=(ROWS, 2)) / 100
    return pd.DataFrame(
        {
            "Código": [f"{6000000 + i * 1000}" for i in range(ROWS)],
            "Partida": [f"Partida {i + 1}" for i in range(ROWS)],
            "Importe": amounts[:, 0],
            "Anterior": amounts[:, 1],
        }
    )


st.title("Suelo")
table = frame()
st.dataframe(table, hide_index=True)
figure = go.Figure()
figure.add_bar(x=table["Partida"], y=table["Importe"], name="Importe")
figure.add_scatter(x=table["Partida"], y=table["Anterior"], name="Anterior", mode="lines+markers")
st.plotly_chart(figure, width="stretch")
