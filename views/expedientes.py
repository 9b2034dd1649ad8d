"""Expedientes (client): the case files the firm shares, within the grant's open/closed scope, and their timelines."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from auth.access import CASE_SCOPES
from portal import fmt
from reports import cases as reports
from views import _accounting, _ui

NO_DATA = "Todavía no hay expedientes publicados de esta empresa."
ALL = "Todos"
SCOPE_NOTES = {
    "open": "Se muestran los expedientes abiertos que el despacho comparte con usted.",
    "closed": "Se muestran los expedientes cerrados que el despacho comparte con usted.",
    "both": "Se muestran los expedientes abiertos y cerrados que el despacho comparte con usted.",
}


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_cases(store_root: str, company: str, snapshot_id: str, scope: str) -> pd.DataFrame:
    """The shared case files of the scope."""
    return reports.case_files(_accounting._snapshot(store_root, company, snapshot_id), scope)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_timeline(store_root: str, company: str, snapshot_id: str, code: str, scope: str) -> pd.DataFrame:
    """The shared milestones of one case file the scope lets the user see."""
    return reports.timeline(_accounting._snapshot(store_root, company, snapshot_id), code, scope)


def case_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The case-file list in Spanish."""
    return pd.DataFrame(
        {
            "Código": frame["code"].tolist(),
            "Tipo": frame["case_type"].tolist(),
            "Asunto": frame["title"].tolist(),
            "Apertura": [fmt.date_es(d) for d in frame["opened"]],
            "Cierre": [fmt.date_es(d) for d in frame["closed"]],
            "Estado": frame["state_label"].tolist(),
            "Responsable": frame["responsible"].tolist(),
        },
        columns=["Código", "Tipo", "Asunto", "Apertura", "Cierre", "Estado", "Responsable"],
    )


def milestone_text(row) -> str:
    """'**12/02/2025** · Hito · En trámite — text', the text from the firm's export escaped; the state only once
    when the text merely repeats it ('**05/05/2025** · Hito · Pendiente de resolución')."""
    head = " · ".join(part for part in (row.kind_label, row.state_label) if part)
    return f"**{fmt.date_es(row.date)}** · {head}" + (f" — {_ui.plain(row.note)}" if row.note else "")


def show_timeline(books: _accounting.Books, case: pd.Series, scope: str) -> None:
    """One case file: state badge and its shared milestones as a vertical list, oldest first."""
    st.subheader(_ui.plain(f"{case['code']} · {case['title']}"))
    st.badge(case["state_label"], color="blue" if case["is_open"] else "gray")
    events = cached_timeline(*books.key, case["code"], scope)
    if events.empty:
        st.info("El despacho aún no ha compartido hitos de este expediente.")
        return
    with st.container(border=True):
        for row in events.itertuples():
            st.markdown(milestone_text(row))


books = _accounting.open_books("Expedientes", "expedientes", no_data=NO_DATA)
with _ui.errors_shown():
    scope = (books.grant.options if books.grant else {}).get("cases", "both")
    if scope not in CASE_SCOPES:
        scope = "open"  # never wider than what the grant can mean
    st.caption(SCOPE_NOTES[scope])
    cases = cached_cases(*books.key, scope)
    if cases.empty:
        st.info("El despacho no ha compartido ningún expediente con usted.")
        st.stop()
    left, middle, right = st.columns(3)
    types = sorted(set(cases["case_type"]))
    kind = left.selectbox("Tipo", ["", *types], format_func=lambda t: t or ALL, key=books.widget_key("exp-tipo"))
    labels = dict(zip(cases["state"], cases["state_label"], strict=True))
    state = middle.selectbox(
        "Estado",
        ["", *labels],
        format_func=lambda s: labels[s] if s else ALL,
        key=books.widget_key("exp-estado"),
    )
    text = right.text_input("Buscar", placeholder="Código, asunto o responsable", key=books.widget_key("exp-texto"))
    shown = reports.filter_cases(cases, case_type=kind, state=state, text=text)
    if shown.empty:
        st.info("Ningún expediente cumple los filtros.")
        st.stop()
    _accounting.show_table(case_rows(shown))
    titles = {c: f"{c} · {t}" for c, t in zip(shown["code"], shown["title"], strict=True)}
    code = st.selectbox("Expediente", list(titles), format_func=titles.get, key=books.widget_key("exp-codigo"))
    show_timeline(books, shown[shown["code"] == code].iloc[0], scope)
