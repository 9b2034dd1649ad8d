"""Facturas del despacho (client): the firm's invoices with their state, totals, fees by month, PDFs and exports."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from portal import audit, clock, fmt
from reports import invoices as reports
from reports import periods
from views import _accounting, _charts, _tables, _ui

NO_DATA = "Todavía no hay facturas del despacho publicadas para esta empresa."
STATE_COLORS = {"paid": "green", "pending": "orange", "overdue": "red"}
STATE_CSS = {"Pagada": "color: #2e7d32", "Pendiente": "color: #ef6c00", "Vencida": "color: #c62828; font-weight: 600"}
ALL, ALL_YEARS, ALL_STATES = "Todos", 0, ""  # the «Todos» choices (plain values: AppTest and URLs keep them)


# --- cached reads (store, company and snapshot id are hashed arguments) -------------------------------------------


def _snap(store_root: str, company: str, snapshot_id: str):
    return _accounting._snapshot(store_root, company, snapshot_id)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_years(store_root: str, company: str, snapshot_id: str) -> list[int]:
    """Years with invoices, newest first."""
    return reports.years(_snap(store_root, company, snapshot_id))


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_invoices(
    store_root: str, company: str, snapshot_id: str, today: date, year: int | None, state: str | None
) -> pd.DataFrame:
    """The invoices of a year and state, with their state on ``today``."""
    return reports.invoices(_snap(store_root, company, snapshot_id), today, year=year, state=state)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_lines(store_root: str, company: str, snapshot_id: str, number: str) -> pd.DataFrame:
    """The concept lines of one invoice."""
    return reports.lines(_snap(store_root, company, snapshot_id), number)


# --- Spanish tables -----------------------------------------------------------------------------------------------


def invoice_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The invoice list in Spanish, amounts formatted."""
    return pd.DataFrame(
        {
            "Número": frame["number"].tolist(),
            "Fecha": [fmt.date_es(d) for d in frame["issue_date"]],
            "Concepto": frame["concept"].tolist(),
            "Base imponible": [fmt.money(v) for v in frame["base"]],
            "IVA": [fmt.money(v) for v in frame["vat"]],
            "Retención IRPF": [fmt.money(v) for v in frame["withholding"]],
            "Total": [fmt.money(v) for v in frame["total"]],
            "Vencimiento": [fmt.date_es(d) for d in frame["due_date"]],
            "Cobro": [fmt.date_es(d) for d in frame["paid_date"]],
            "Estado": [reports.STATES[s] for s in frame["state"]],
        },
        columns=[
            "Número",
            "Fecha",
            "Estado",
            "Concepto",
            "Base imponible",
            "IVA",
            "Retención IRPF",
            "Total",
            "Vencimiento",
            "Cobro",
        ],
    )


def export_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The invoice list for CSV and Excel: Spanish headers, Decimal amounts and real dates."""
    return pd.DataFrame(
        {
            "Número": frame["number"].tolist(),
            "Fecha": frame["issue_date"].tolist(),
            "Concepto": frame["concept"].tolist(),
            "Base imponible": frame["base"].tolist(),
            "Tipo IVA (%)": frame["vat_rate"].tolist(),
            "IVA": frame["vat"].tolist(),
            "Tipo IRPF (%)": frame["withholding_rate"].tolist(),
            "Retención IRPF": frame["withholding"].tolist(),
            "Total": frame["total"].tolist(),
            "Vencimiento": frame["due_date"].tolist(),
            "Forma de pago": frame["payment_method"].tolist(),
            "Fecha de cobro": frame["paid_date"].tolist(),
            "Estado": [reports.STATES[s] for s in frame["state"]],
        }
    )


def line_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The lines of one invoice in Spanish."""
    return pd.DataFrame(
        {
            "Línea": frame["line"].tolist(),
            "Descripción": frame["description"].tolist(),
            "Cantidad": [fmt.number(v, 2).removesuffix(",00") for v in frame["quantity"]],
            "Precio": [fmt.money(v) for v in frame["price"]],
            "Importe": [fmt.money(v) for v in frame["amount"]],
        },
        columns=["Línea", "Descripción", "Cantidad", "Precio", "Importe"],
    )


def fees_chart(fees: pd.DataFrame) -> go.Figure:
    """Bars of the fees (tax base) per month of issue (floats only here)."""
    x = [periods.month_label(m.year, m.month) for m in fees["month"]]
    figure = go.Figure([go.Bar(name="Base imponible", x=x, y=[float(v) for v in fees["base"]])])
    figure.update_layout(
        title="Honorarios por mes (base imponible, €)", height=320, margin=dict(l=10, r=10, t=40, b=10)
    )
    return _charts.spanish(figure)


def counted(n: int, one: str, many: str) -> str:
    """'1 factura', '3 facturas'."""
    return f"{fmt.integer(n)} {one if n == 1 else many}"


# --- the PDF download (audited when the file is built, i.e. clicked) ----------------------------------------------


def pdf_button(books: _accounting.Books, number: str) -> None:
    """«Descargar PDF» of one invoice; the download is written to the audit log as invoice_download."""
    found = reports.pdf(books.snapshot, number)
    if found is None:
        st.caption("El despacho no ha publicado el PDF de esta factura.")
        return
    file_name, content = found

    def build() -> bytes:
        audit.record(
            books.engine,
            "invoice_download",
            actor=str(books.user.get("username", "")),
            actor_role="client",
            company=books.company,
            target=number,
            detail=f"archivo={file_name}",
        )
        return content

    st.download_button(
        "Descargar PDF",
        build,
        file_name=file_name,
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
        key=f"pdf-{number}",
    )


def facturae_button(books: _accounting.Books, number: str) -> None:
    """«Descargar Facturae (XML)» of an invoice read from one; audited as invoice_download like the PDF."""
    found = reports.facturae_xml(books.snapshot, number)
    if found is None:
        return
    file_name, content = found

    def build() -> bytes:
        audit.record(
            books.engine,
            "invoice_download",
            actor=str(books.user.get("username", "")),
            actor_role="client",
            company=books.company,
            target=number,
            detail=f"archivo={file_name} formato=facturae",
        )
        return content

    st.download_button(
        "Descargar Facturae (XML)",
        build,
        file_name=file_name,
        mime="application/xml",
        icon=":material/code:",
        on_click="ignore",
        key=f"facturae-{number}",
    )


def show_invoice(books: _accounting.Books, frame: pd.DataFrame) -> None:
    """One invoice chosen from the list: its state badge (and «Facturae»), lines, PDF and Facturae XML."""
    labels = {
        n: f"{n} · {fmt.date_es(d)} · {fmt.money(t)}"
        for n, d, t in zip(frame["number"], frame["issue_date"], frame["total"], strict=True)
    }
    number = st.selectbox("Factura", list(labels), format_func=labels.get, key=books.widget_key("facturas-detalle"))
    row = frame[frame["number"] == number].iloc[0]
    left, right = st.columns([3, 1])
    left.markdown(_ui.plain(f"{row['concept']} · vence el {fmt.date_es(row['due_date'])}"))
    right.badge(reports.STATES[row["state"]], color=STATE_COLORS[row["state"]])
    if row["source"] != "csv":
        right.badge("Facturae", color="blue", icon=":material/verified:")
    _accounting.show_table(line_rows(cached_lines(*books.key, number)))
    pdf_button(books, number)
    facturae_button(books, number)


books = _accounting.open_books("Facturas del despacho", "facturas", no_data=NO_DATA)
with _ui.errors_shown():
    if not reports.has_invoices(books.snapshot):
        st.info(NO_DATA)
        st.stop()
    today = clock.today_madrid()
    years = cached_years(*books.key)
    left, right = st.columns(2)
    year = left.selectbox(
        "Año",
        [ALL_YEARS, *years],
        index=1 if years else 0,
        format_func=lambda y: ALL if y == ALL_YEARS else str(y),
        key=books.widget_key("facturas-year"),
    )
    state = right.selectbox(
        "Estado",
        [ALL_STATES, *reports.STATES],
        format_func=lambda s: ALL if s == ALL_STATES else reports.STATES[s],
        key=books.widget_key("facturas-state"),
    )
    frame = cached_invoices(*books.key, today, year or None, state or None)
    summary = reports.home_summary(books.snapshot, today)
    if summary.pending_count:
        st.caption(
            f"Pendientes de pago: {counted(summary.pending_count, 'factura', 'facturas')} por "
            f"{fmt.money(summary.pending_amount)} ({counted(summary.overdue_count, 'vencida', 'vencidas')}) "
            f"a {fmt.date_es(today)}."
        )
    if frame.empty:
        st.info("No hay facturas con estos filtros.")
        st.stop()
    sums = reports.totals(frame)
    cells = st.columns(5)
    cells[0].metric("Facturas", fmt.integer(sums.count))
    cells[1].metric("Base imponible", fmt.money(sums.base))
    cells[2].metric("IVA", fmt.money(sums.vat))
    cells[3].metric("Retención IRPF", fmt.money(sums.withholding))
    cells[4].metric("Total", fmt.money(sums.total))
    st.plotly_chart(fees_chart(reports.fees_by_month(frame)), width="stretch", key="facturas-chart")
    shown = invoice_rows(frame)
    styled = shown.style.map(lambda v: STATE_CSS.get(v, ""), subset=["Estado"])
    _tables.show(shown, _accounting.amount_columns(shown), data=styled, hide_index=True)
    exported = export_rows(frame)
    _accounting.downloads(books, "facturas", exported, {"Facturas": exported}, title="Facturas del despacho")
    st.subheader("Detalle y PDF")
    show_invoice(books, frame)
