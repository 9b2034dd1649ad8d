"""Umbrales legales (client): the duties the company's figures reach (audit, abbreviated accounts, SII, headcount
duties, VERI*FACTU), each with its rule, source, the company's figures and the distance to every limit."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from auth import access, labour_blocks
from portal import clock, fmt
from reports import thresholds
from views import _accounting, _ui

BADGES = {"unknown": ("Faltan datos", "orange"), "not_applicable": ("No aplica", "gray")}


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def figures(
    store_root: str, company: str, snapshot_id: str, blocked: frozenset[str] | None
) -> tuple[list[thresholds.YearFigures], dict[int, date]]:
    """The company's yearly figures (cached per store, company, snapshot id and the labour view: blocked or none)."""
    return thresholds.company_figures(_accounting._snapshot(store_root, company, snapshot_id), blocked)


def figure_text(measure: str, value) -> str:
    """A figure in Spanish: euros, or people with two decimals; «—» when unknown."""
    if value is None:
        return "—"
    return fmt.money(value) if measure != "headcount" else f"{fmt.number(value, 2)} personas"


def summary_rows(found: list[thresholds.Assessment]) -> pd.DataFrame:
    """One row per rule: what it means for the company, on which years, and its legal source."""
    return pd.DataFrame(
        {
            "Obligación": [a.rule.title for a in found],
            "Situación": [a.text for a in found],
            "Según": [a.basis or "—" for a in found],
            "Fuente": [a.rule.source + ("" if a.rule.verified else " (sin verificar)") for a in found],
        }
    )


def margin_rows(found: list[thresholds.Assessment]) -> pd.DataFrame:
    """One row per limit and year: the company's figure and its distance to the limit (negative: beyond it)."""
    rows = []
    for item in found:
        for margin in item.margins:
            measure = margin["measure"]
            for year in margin["years"]:
                rows.append(
                    {
                        "Obligación": item.rule.title,
                        "Medida": thresholds.MEASURES[measure],
                        "Límite": f"{thresholds.COMPARISONS[margin['comparison']]} "
                        + figure_text(measure, margin["limit"]),
                        "Ejercicio": year["label"],
                        "Cifra de la empresa": figure_text(measure, year["value"]),
                        "Distancia al límite": figure_text(measure, year["distance"]),
                        "Cumple el límite": {True: "Sí", False: "No", None: "—"}[year["meets"]],
                    }
                )
    return pd.DataFrame(rows)


books = _accounting.open_books("Umbrales legales")
with _ui.errors_shown():
    labour = access.modules_of(books.engine, books.user, books.company).get("laboral")
    sees_headcount = labour is not None and "plantilla_media" in labour.get("tables", [])
    blocked = labour_blocks.blocked(books.engine, books.company) if sees_headcount else None
    years, year_ends = figures(*books.key, blocked)
    holder = thresholds.holder_of(books.snapshot.manifest.get("nif", ""))
    found = thresholds.assess(years, holder, year_ends, clock.today_madrid())
    st.caption(
        "Deciden los ejercicios cerrados; el ejercicio en curso se muestra para ver cuánto falta. Los límites, su "
        "fecha y su fuente son datos del portal: un cambio de ley es un cambio de datos."
    )
    if blocked is None:
        st.caption("Sin acceso a la plantilla media del módulo laboral: las reglas se aplican con las otras cifras.")
    for item in found:
        with st.container(border=True):
            st.markdown(f"**{_ui.plain(item.rule.title)}**")
            if item.state in BADGES:
                label, color = BADGES[item.state]
                st.badge(label, color=color)
            st.markdown(_ui.plain(item.text))
            if item.basis:
                st.caption(_ui.plain(item.basis))
            st.caption(_ui.plain(f"Fuente: {item.rule.source}" + ("" if item.rule.verified else " (sin verificar)")))
            if item.rule.note:
                st.caption(_ui.plain(item.rule.note))
    summary, margins = summary_rows(found), margin_rows(found)
    st.subheader("Cifras de la empresa y distancia a cada límite")
    _accounting.show_table(margins)
    _accounting.downloads(
        books,
        "umbrales",
        margins,
        {"Obligaciones": summary, "Cifras y límites": margins},
        title="Umbrales legales",
    )
