"""Impuestos (client): VAT (303 by period, 390 reconciled), IRPF (111, 115, 130, 190, 180) and the returns filed,
with a chart per model, CSV/Excel of every table and each return's receipt PDF (downloads audited)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from etl.modules.taxes import period_label
from portal import audit, clock, fmt
from reports import taxes as reports
from views import _accounting, _charts, _ui

NO_DATA = "Todavía no hay datos de impuestos publicados de esta empresa."
TABS = ("IVA", "IRPF", "Presentaciones")
RATES = (("4", "4 %"), ("10", "10 %"), ("21", "21 %"))
IRPF_TITLES = {
    "111": "Modelo 111 · Retenciones del trabajo y de profesionales",
    "115": "Modelo 115 · Retenciones de alquileres",
    "130": "Modelo 130 · Pago fraccionado de IRPF",
}
ANNUAL_TITLES = {
    "390": "Modelo 390 · Resumen anual de IVA",
    "190": "Modelo 190 · Resumen anual de retenciones",
    "180": "Modelo 180 · Resumen anual de retenciones de alquileres",
}
IRPF_LABELS = {
    "recipients": "Perceptores",
    "base": "Base",
    "withholding": "Retenciones",
    "income": "Ingresos (acumulado)",
    "expenses": "Gastos (acumulado)",
    "net": "Rendimiento neto",
    "instalment": "20 % del rendimiento",
    "earlier": "Pagos anteriores",
    "withheld": "Retenciones soportadas",
    "result": "Resultado",
}


# --- cached reads (store, company and snapshot id are hashed arguments) ------------------------------------------


def _snap(store_root: str, company: str, snapshot_id: str):
    return _accounting._snapshot(store_root, company, snapshot_id)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_years(store_root: str, company: str, snapshot_id: str) -> tuple[list[int], list[str]]:
    """Years with returns (newest first) and the models filed."""
    snapshot = _snap(store_root, company, snapshot_id)
    return reports.years(snapshot), reports.models(snapshot)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_vat(store_root: str, company: str, snapshot_id: str, year: int):
    """The year's 303s and the 390 reconciliation."""
    snapshot = _snap(store_root, company, snapshot_id)
    return reports.vat_periods(snapshot, year), reports.reconciliation(snapshot, "390", year)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_irpf(store_root: str, company: str, snapshot_id: str, year: int, model: str):
    """One IRPF model's returns of the year."""
    return reports.irpf_periods(_snap(store_root, company, snapshot_id), model, year)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_reconciliation(store_root: str, company: str, snapshot_id: str, year: int, model: str):
    """An annual summary against its periodic returns."""
    return reports.reconciliation(_snap(store_root, company, snapshot_id), model, year)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_filings(store_root: str, company: str, snapshot_id: str, year: int) -> pd.DataFrame:
    """Every return of the year."""
    return reports.filings(_snap(store_root, company, snapshot_id), year=year)


# --- Spanish tables -----------------------------------------------------------------------------------------------


def result_text(kind: str) -> str:
    return reports.RESULT_TYPES.get(kind, kind)


def vat_rows(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """The 303s in Spanish; the rates no return uses are left out."""
    rows: dict[str, list] = {
        "Periodo": [period_label(year, p) for p in frame["period"]],
        "Presentada": [fmt.date_es(d) for d in frame["filed"]],
    }
    for rate, text in RATES:
        if any(v != 0 for v in frame[f"base_{rate}"]) or any(v != 0 for v in frame[f"vat_{rate}"]):
            rows[f"Base {text}"] = [fmt.money(v) for v in frame[f"base_{rate}"]]
            rows[f"IVA {text}"] = [fmt.money(v) for v in frame[f"vat_{rate}"]]
    rows |= {
        "IVA devengado (27)": [fmt.money(v) for v in frame["output_vat"]],
        "Base deducible": [fmt.money(v) for v in frame["input_base"]],
        "IVA deducible (45)": [fmt.money(v) for v in frame["input_vat"]],
        "Resultado (46)": [fmt.money(v) for v in frame["result"]],
        "A compensar de periodos anteriores (110)": [fmt.money(v) for v in frame["offset_before"]],
        "Compensado en el periodo (78)": [fmt.money(v) for v in frame["offset_applied"]],
        "Pendiente de compensar (87)": [fmt.money(v) for v in frame["offset_after"]],
        "Resultado de la liquidación (71)": [fmt.money(v) for v in frame["final_result"]],
        "Tipo": [result_text(k) for k in frame["result_type"]],
    }
    return pd.DataFrame(rows)


def irpf_rows(frame: pd.DataFrame, model: str, year: int) -> pd.DataFrame:
    """One IRPF model's returns in Spanish."""
    rows: dict[str, list] = {
        "Periodo": [period_label(year, p) for p in frame["period"]],
        "Presentada": [fmt.date_es(d) for d in frame["filed"]],
    }
    for column in reports.IRPF_COLUMNS[model]:
        show = fmt.integer if column == "recipients" else fmt.money
        rows[IRPF_LABELS[column]] = [show(v) for v in frame[column]]
    rows["Tipo"] = [result_text(k) for k in frame["result_type"]]
    rows["Importe"] = [fmt.money(v) for v in frame["amount"]]
    return pd.DataFrame(rows)


def reconciliation_rows(rec: reports.Reconciliation) -> pd.DataFrame:
    """An annual summary box by box against the sum of its periodic returns, in Spanish."""
    frame = rec.rows
    periodic = reports.ANNUAL_MODELS[rec.model]
    return pd.DataFrame(
        {
            "Casilla": frame["box"].tolist(),
            "Concepto": frame["description"].tolist(),
            f"Modelo {rec.model}": [fmt.money(v) for v in frame["annual"]],
            f"Suma de los {periodic}": [fmt.money(v) for v in frame["periods_sum"]],
            "Diferencia": [fmt.money(v) for v in frame["difference"]],
        }
    )


def filing_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The returns filed in Spanish."""
    return pd.DataFrame(
        {
            "Modelo": frame["model"].tolist(),
            "Descripción": [reports.MODEL_NAMES.get(m, "") for m in frame["model"]],
            "Periodo": [period_label(int(y), p) for y, p in zip(frame["year"], frame["period"], strict=True)],
            "Presentada": [fmt.date_es(d) for d in frame["filed"]],
            "Tipo": [result_text(k) for k in frame["result_type"]],
            "Importe": [fmt.money(v) for v in frame["amount"]],
            # A return known only from its AEAT file has no receipt nor secure code (docs/sources.md §4).
            "Justificante": [r if isinstance(r, str) else "sin justificante" for r in frame["receipt"]],
            "CSV": [c if isinstance(c, str) else fmt.EMPTY for c in frame["csv"]],
        },
        columns=["Modelo", "Descripción", "Periodo", "Presentada", "Tipo", "Importe", "Justificante", "CSV"],
    )


# --- charts (floats only here) ------------------------------------------------------------------------------------


def _figure(traces: list, title: str) -> go.Figure:
    figure = go.Figure(traces)
    figure.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10))
    return _charts.spanish(figure)


def vat_chart(frame: pd.DataFrame, year: int) -> go.Figure:
    """Output VAT, input VAT and the result per period."""
    x = [period_label(year, p) for p in frame["period"]]
    return _figure(
        [
            go.Bar(name="IVA devengado", x=x, y=[float(v) for v in frame["output_vat"]]),
            go.Bar(name="IVA deducible", x=x, y=[float(v) for v in frame["input_vat"]]),
            go.Scatter(name="Resultado", x=x, y=[float(v) for v in frame["final_result"]], mode="lines+markers"),
        ],
        f"IVA por periodo {year} (€)",
    )


def irpf_chart(frame: pd.DataFrame, model: str, year: int) -> go.Figure:
    """The result of each period of an IRPF model."""
    x = [period_label(year, p) for p in frame["period"]]
    column = "withholding" if "withholding" in frame.columns else "result"
    return _figure(
        [go.Bar(name=IRPF_LABELS[column], x=x, y=[float(v) for v in frame[column]])],
        f"Modelo {model} por periodo {year} (€)",
    )


# --- sections -----------------------------------------------------------------------------------------------------


def show_reconciliation(books: _accounting.Books, rec: reports.Reconciliation) -> None:
    """An annual summary's reconciliation: flagged when a box differs from the sum of its periodic returns."""
    st.subheader(ANNUAL_TITLES[rec.model])
    periodic = reports.ANNUAL_MODELS[rec.model]
    if not rec.filed:
        if rec.year >= clock.today_madrid().year:  # the annual summaries are filed in January of the next year
            st.info(f"El modelo {rec.model} de {rec.year} se presenta en enero de {rec.year + 1}.")
        else:
            st.info(f"El modelo {rec.model} de {rec.year} no está presentado.")
        return
    if rec.differs:
        st.error(f"El modelo {rec.model} no coincide con la suma de los modelos {periodic} del año.")
    else:
        st.success(f"El modelo {rec.model} coincide con la suma de los {rec.periods} modelos {periodic} del año.")
    _accounting.show_table(reconciliation_rows(rec))
    sheet = {f"Modelo {rec.model} {rec.year}": rec.rows}
    _accounting.downloads(books, f"modelo-{rec.model}-{rec.year}", rec.rows, sheet, title=ANNUAL_TITLES[rec.model])


def show_vat(books: _accounting.Books, year: int) -> None:
    """The VAT tab."""
    periods, rec = cached_vat(*books.key, year)
    st.subheader("Modelo 303 · Autoliquidaciones de IVA")
    if periods.empty:
        st.info("No hay modelos 303 presentados este año.")
    else:
        st.plotly_chart(vat_chart(periods, year), width="stretch", key=books.widget_key("chart-303"))
        _accounting.show_table(vat_rows(periods, year))
        export = periods.drop(columns=["receipt"])
        _accounting.downloads(books, f"modelo-303-{year}", export, {f"Modelo 303 {year}": export}, title="Modelo 303")
    show_reconciliation(books, rec)


def show_irpf(books: _accounting.Books, year: int, filed: list[str]) -> None:
    """The IRPF tab: 111, 115 and 130 by period, then the annual 190 and 180."""
    shown = False
    for model in [m for m in reports.IRPF_MODELS if m in filed]:
        frame = cached_irpf(*books.key, year, model)
        if frame.empty:
            continue
        shown = True
        st.subheader(IRPF_TITLES[model])
        st.plotly_chart(irpf_chart(frame, model, year), width="stretch", key=books.widget_key(f"chart-{model}"))
        _accounting.show_table(irpf_rows(frame, model, year))
        export = frame.drop(columns=["receipt"])
        _accounting.downloads(
            books, f"modelo-{model}-{year}", export, {f"Modelo {model} {year}": export}, title=IRPF_TITLES[model]
        )
    for model in [m for m in ("190", "180") if m in filed]:
        shown = True
        show_reconciliation(books, cached_reconciliation(*books.key, year, model))
    if not shown:
        st.info("No hay modelos de retenciones ni pagos fraccionados de IRPF presentados este año.")


def audited_receipt(books: _accounting.Books, justificante: str, what: str) -> Callable[[], bytes]:
    """The receipt's bytes, built on the click and recorded in the audit log then."""

    def make() -> bytes:
        found = reports.receipt(books.snapshot, justificante)
        audit.record(
            books.engine,
            "tax_receipt_download",
            actor=str(books.user.get("username", "")),
            actor_role="client",
            company=books.company,
            target=justificante,
            detail=what,
        )
        return found[1] if found else b""

    return make


def show_filings(books: _accounting.Books, year: int) -> None:
    """The returns filed in the year and each one's receipt."""
    frame = cached_filings(*books.key, year)
    if frame.empty:
        st.info("No hay declaraciones presentadas este año.")
        return
    _accounting.show_table(filing_rows(frame))
    _accounting.downloads(
        books, f"presentaciones-{year}", frame, {f"Presentaciones {year}": frame}, title=f"Presentaciones {year}"
    )
    st.subheader("Justificantes")
    choices = {
        r.receipt: f"Modelo {r.model} · {period_label(int(r.year), r.period)} · {r.receipt}"
        for r in frame.itertuples()
        if r.has_receipt
    }
    if not choices:
        st.info("El despacho no ha publicado los justificantes de estas declaraciones.")
        return
    chosen = st.selectbox(
        "Declaración", list(choices), format_func=choices.get, key=books.widget_key(f"justificante-{year}")
    )
    st.download_button(
        "Descargar justificante (PDF)",
        audited_receipt(books, chosen, choices[chosen]),
        file_name=f"justificante-{chosen}.pdf",
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
        key=f"justificante-{chosen}",
    )


books = _accounting.open_books("Impuestos", "impuestos", no_data=NO_DATA)
with _ui.errors_shown():
    if not reports.has_taxes(books.snapshot):
        st.info(NO_DATA)
        st.stop()
    years, filed = cached_years(*books.key)
    year = st.selectbox("Ejercicio", years, key=books.widget_key("impuestos-year"))
    tabs = st.tabs(list(TABS), key=books.widget_key("impuestos-tab"), on_change="rerun")
    for tab, name in zip(tabs, TABS, strict=True):
        if tab.open:
            with tab:
                if name == "IVA":
                    show_vat(books, year)
                elif name == "IRPF":
                    show_irpf(books, year, filed)
                else:
                    show_filings(books, year)
