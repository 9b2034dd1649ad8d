"""Cuadres (client, when staff share them): the VAT returns, withholdings, banks and open items against the books,
each line «Cuadra» or its difference named, and the entries, days or sub-accounts that explain a line."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from auth import access
from portal import fmt
from reports import reconciliations
from views import _accounting, _ui

STATES = {"cuadra": "Cuadra", "diferencia": "Diferencia", "sin_datos": "Sin datos en el diario"}
DETAIL_HEADERS = {
    "date": "Fecha",
    "entry": "Asiento",
    "account": "Cuenta",
    "description": "Concepto",
    "amount": "Importe",
    "bank_balance": "Saldo del banco",
    "ledger_balance": "Saldo contable",
    "difference": "Diferencia",
    "month": "Mes",
    "irpf": "IRPF de las nóminas",
    "name": "Nombre",
    "kind": "Tipo",
    "cartera": "Cartera",
    "ledger": "Contabilidad",
}


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def cached_lines(store_root: str, company: str, snapshot_id: str) -> pd.DataFrame:
    """Every reconciliation line (cached per store, company and snapshot id)."""
    return reconciliations.lines(_accounting._snapshot(store_root, company, snapshot_id))


def line_rows(lines: pd.DataFrame) -> pd.DataFrame:
    """The lines in Spanish."""
    return pd.DataFrame(
        {
            "Cuadre": [reconciliations.AREAS[a] for a in lines["area"]],
            "Periodo": list(lines["period"]),
            "Concepto": list(lines["label"]),
            "Según": [
                f"{lab}: {fmt.money(v)}" if v is not None else f"{lab}: —"
                for lab, v in zip(lines["left_label"], lines["left"], strict=True)
            ],
            "Frente a": [
                f"{lab}: {fmt.money(v)}" if v is not None else f"{lab}: —"
                for lab, v in zip(lines["right_label"], lines["right"], strict=True)
            ],
            "Diferencia": [fmt.money(d) if d is not None else "—" for d in lines["difference"]],
            "Estado": [STATES[s] for s in lines["state"]],
        }
    )


def detail_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """A detail table in Spanish: money as «1.234,56 €», dates as dd/mm/aaaa."""
    shown = {}
    for column in frame.columns:
        values = list(frame[column])
        if column in ("date", "month"):
            values = [fmt.date_es(v) for v in values]
        elif column in ("amount", "bank_balance", "ledger_balance", "difference", "irpf", "cartera", "ledger"):
            values = [fmt.money(v) for v in values]
        else:
            values = ["" if v is None else str(v) for v in values]
        shown[DETAIL_HEADERS.get(column, column)] = values
    return pd.DataFrame(shown)


books = _accounting.open_books("Cuadres")
with _ui.errors_shown():
    if not access.reconciliations_visible(books.engine, books.company):
        st.info("Su despacho no comparte todavía los cuadres de esta empresa.")
        st.stop()
    lines = cached_lines(*books.key)
    if lines.empty:
        st.info("Aún no hay nada que cuadrar: faltan declaraciones, extractos bancarios o cartera publicados.")
        st.stop()
    differing = lines[lines["state"] == "diferencia"]
    if differing.empty:
        st.success(f"Los {len(lines)} cuadres cuadran.")
    else:
        st.warning(f"{len(differing)} de {len(lines)} cuadres tienen diferencias.")
    st.caption(
        "Cada línea compara lo declarado o lo que dice el banco o la cartera con la contabilidad: «Cuadra» cuando la "
        "diferencia es 0,00 €. Elija una línea para ver qué la explica."
    )
    shown = line_rows(lines)
    _accounting.show_table(shown, amounts=("Diferencia",))
    marks = {"diferencia": "⚠ ", "sin_datos": "· "}
    labels = {
        index: f"{marks.get(row.state, '')}{reconciliations.AREAS[row.area]} · {row.period} · {row.label}"
        for index, row in lines.iterrows()
    }
    first = differing.index[0] if len(differing) else lines.index[0]
    chosen = st.selectbox(
        "Detalle de",
        list(labels),
        index=list(labels).index(first),
        format_func=labels.get,
        key=books.widget_key("cuadre"),
    )
    line = lines.loc[chosen]
    detail = reconciliations.detail(books.snapshot, line["area"], line["key"])
    if detail.empty:
        st.caption("Nada que mostrar en esta línea.")
    else:
        _accounting.show_table(detail_rows(detail))
    _accounting.downloads(books, "cuadres", shown, {"Cuadres": shown, "Detalle": detail_rows(detail)}, title="Cuadres")
