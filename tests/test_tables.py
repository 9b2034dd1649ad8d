"""Phone cards (views/_tables.py): every cell and header reaches st.html escaped; empty cells left out."""

from __future__ import annotations

import pandas as pd

from views import _tables

XSS = '<img src=x onerror="alert(1)">'


def test_every_cell_and_header_is_escaped():
    frame = pd.DataFrame({"Cuenta": ["5720001"], "Concepto": [XSS], f"Debe {XSS}": ["1.234,56 €"]})
    html = _tables.cards_html(frame, [f"Debe {XSS}"])
    assert "<img" not in html and '"alert' not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert '<dd class="pc-amount">1.234,56 €</dd>' in html


def test_the_first_text_columns_make_the_title_and_empty_cells_are_left_out():
    frame = pd.DataFrame(
        {"Fecha": ["31/12/2025"], "Asiento": ["12"], "Concepto": [""], "Debe": ["600,00"], "Haber": [None]}
    )
    html = _tables.cards_html(frame, ["Debe", "Haber"])
    assert '<p class="pc-title">31/12/2025 · 12</p>' in html
    assert "<dt>Debe</dt>" in html and "<dt>Haber</dt>" not in html and "<dt>Concepto</dt>" not in html
