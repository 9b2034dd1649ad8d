"""Libros de IVA (client): the issued and received invoices of the VAT record books by period, with filters and totals,
the books against the 303 and the journal (477/472), and CSV, Excel and PDF of each table."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from etl.modules.taxes import period_label
from etl.modules.vat_books import ISSUED, RECEIVED
from portal import fmt
from reports import export
from reports import vat_books as reports
from views import _accounting, _ui

NO_DATA = "Todavía no hay datos de impuestos publicados de esta empresa."
NO_BOOKS = "El despacho todavía no ha publicado los libros registro de IVA de esta empresa."
TABS = ("Facturas expedidas", "Facturas recibidas", "Cuadre con el 303 y el diario")
PARTY = {ISSUED: "Cliente", RECEIVED: "Proveedor"}
VAT_LABEL = {ISSUED: "IVA repercutido", RECEIVED: "IVA soportado"}


# --- cached reads (store, company and snapshot id are hashed arguments) ------------------------------------------


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_years(store_root: str, company: str, snapshot_id: str) -> list[int]:
    return reports.years(_accounting._snapshot(store_root, company, snapshot_id))


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_choices(store_root: str, company: str, snapshot_id: str, year: int, book: str) -> tuple:
    """The year's periods, and the counterparties and rates of one book (the filters' options)."""
    snapshot = _accounting._snapshot(store_root, company, snapshot_id)
    return (
        reports.periods(snapshot, year),
        reports.counterparties(snapshot, book, year),
        reports.rates(snapshot, book, year),
    )


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_lines(
    store_root: str, company: str, snapshot_id: str, book: str, year: int, period, names: tuple, rates: tuple
) -> pd.DataFrame:
    snapshot = _accounting._snapshot(store_root, company, snapshot_id)
    return reports.book_lines(snapshot, book, year, period=period, names=names, only_rates=rates)


@st.cache_data(ttl=3600, max_entries=128, show_spinner=False)
def cached_reconciliation(store_root: str, company: str, snapshot_id: str, year: int) -> pd.DataFrame:
    return reports.reconciliation(_accounting._snapshot(store_root, company, snapshot_id), year)


# --- Spanish tables -----------------------------------------------------------------------------------------------


def rate_text(rate: Decimal) -> str:
    return f"{fmt.number(rate)} %"


def line_rows(lines: pd.DataFrame, book: str, year: int) -> pd.DataFrame:
    """The book's lines in Spanish."""
    rows = {
        "Fecha": [fmt.date_es(d) for d in lines["issue_date"]],
        "Factura": lines["invoice"].tolist(),
        "Periodo": [period_label(year, p) for p in lines["period"]],
        "NIF": lines["nif"].tolist(),
        PARTY[book]: lines["name"].tolist(),
        "Base imponible": [fmt.money(v) for v in lines["base"]],
        "Tipo de IVA": [rate_text(v) for v in lines["rate"]],
        VAT_LABEL[book]: [fmt.money(v) for v in lines["vat"]],
    }
    if any(v != 0 for v in lines["surcharge"]):
        rows["Recargo de equivalencia"] = [fmt.money(v) for v in lines["surcharge"]]
    if book == RECEIVED:
        rows["IVA deducible"] = [fmt.money(v) for v in lines["deductible"]]
    rows["Total factura"] = [fmt.money(v) for v in lines["total"]]
    return pd.DataFrame(rows)


def reconciliation_rows(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """The books against the 303 and the journal, in Spanish."""
    return pd.DataFrame(
        {
            "Periodo": [period_label(year, p) for p in frame["period"]],
            "Comprobación": frame["check"].tolist(),
            "Casilla": frame["box"].tolist(),
            "Libro": [fmt.money(v) for v in frame["book"]],
            "Modelo 303": [fmt.money(v) for v in frame["declared"]],
            "Diario": [fmt.money(v) for v in frame["booked"]],
            "Resultado": frame["explanation"].tolist(),
        }
    )


# --- sections -----------------------------------------------------------------------------------------------------


def pdf_button(books: _accounting.Books, name: str, table: pd.DataFrame, title: str) -> None:
    """A PDF of a table already in Spanish, built on the click."""
    firm, holder, stamp = books.settings.firm_name, f"{books.name} ({books.company})", books.stamp
    st.download_button(
        "Descargar PDF",
        lambda: export.table_pdf(table, title=title, firm=firm, company=holder, stamp=stamp),
        file_name=f"{name}-{books.company}-{books.snapshot.snapshot_id[:8]}.pdf",
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
        key=f"pdf-{name}",
    )


def show_book(books: _accounting.Books, book: str, year: int, period: str | None) -> None:
    """One book: filters by counterparty and rate, totals, the lines and their exports."""
    _, names, rates = cached_choices(*books.key, year, book)
    left, right = st.columns(2)
    chosen = left.multiselect(PARTY[book], names, placeholder="Todos", key=books.widget_key(f"iva-{book}-{year}-who"))
    chosen_rates = right.multiselect(
        "Tipo de IVA",
        rates,
        format_func=rate_text,
        placeholder="Todos",
        key=books.widget_key(f"iva-{book}-{year}-rate"),
    )
    lines = cached_lines(*books.key, book, year, period, tuple(chosen), tuple(chosen_rates))
    if lines.empty:
        st.info("No hay facturas con estos filtros.")
        return
    totals = reports.totals(lines)
    cols = st.columns(4)
    cols[0].metric("Facturas", fmt.integer(totals.invoices))
    cols[1].metric("Base imponible", fmt.money(totals.base))
    cols[2].metric(VAT_LABEL[book], fmt.money(totals.vat))
    cols[3].metric(
        "Total facturado" if book == ISSUED else "IVA deducible",
        fmt.money(totals.total if book == ISSUED else totals.deductible),
    )
    shown = line_rows(lines, book, year)
    _accounting.show_table(shown)
    name = f"libro-{'expedidas' if book == ISSUED else 'recibidas'}-{year}{'-' + period if period else ''}"
    title = f"Libro de facturas {'expedidas' if book == ISSUED else 'recibidas'} {year}"
    export_table = reports.export_lines(lines, book)
    _accounting.downloads(books, name, export_table, {title[:31]: export_table}, title=title)
    pdf_button(books, name, shown, title)


def show_reconciliation(books: _accounting.Books, year: int, period: str | None) -> None:
    """Each period's book totals against the 303 boxes and the journal's 477/472, differences named."""
    frame = reports.for_period(cached_reconciliation(*books.key, year), period)
    if frame.empty:
        st.info("No hay libros ni modelos 303 en este periodo.")
        return
    differs = reports.differing_periods(frame)
    if differs:
        st.warning(f"No cuadran: {', '.join(period_label(year, p) for p in differs)}.")
    else:
        st.success("Los libros cuadran con los modelos 303 y con el diario.")
    shown = reconciliation_rows(frame, year)
    _accounting.show_table(shown)
    name = f"cuadre-libros-iva-{year}"
    export_table = reports.export_reconciliation(frame)
    _accounting.downloads(
        books, name, export_table, {"Cuadre": export_table}, title=f"Libros de IVA y modelo 303 · {year}"
    )
    pdf_button(books, name, shown, f"Libros de IVA y modelo 303 · {year}")


books = _accounting.open_books("Libros de IVA", "impuestos", no_data=NO_DATA)
with _ui.errors_shown():
    if not reports.has_books(books.snapshot):
        st.info(NO_BOOKS)
        st.stop()
    left, right = st.columns(2)
    year = left.selectbox("Ejercicio", cached_years(*books.key), key=books.widget_key("iva-year"))
    periods, _, _ = cached_choices(*books.key, year, ISSUED)
    period = right.selectbox(
        "Periodo",
        [None, *periods],
        format_func=lambda p: "Todo el año" if p is None else period_label(year, p),
        key=books.widget_key(f"iva-period-{year}"),
    )
    tabs = st.tabs(list(TABS), key=books.widget_key("iva-tab"), on_change="rerun")
    for tab, label in zip(tabs, TABS, strict=True):
        if tab.open:
            with tab:
                if label == TABS[2]:
                    show_reconciliation(books, year, period)
                else:
                    show_book(books, ISSUED if label == TABS[0] else RECEIVED, year, period)
