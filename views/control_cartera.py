"""Control de cartera (staff): per company, pending receivables vs 430 and payables vs 400 + 410, flagged."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from etl.store import Store
from portal import fmt
from portal.db import get_engine
from reports import export
from reports import treasury as reports
from views import _accounting, _client, _ui

KIND_LABELS = {"cobro": "Clientes (430)", "pago": "Proveedores y acreedores (400 + 410)"}
FLAG_STYLE = "background-color: #fdecea; color: #b71c1c; font-weight: 600"


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_check(store_root: str, company: str, snapshot_id: str) -> reports.CarteraCheck:
    """The cartera check of one published snapshot."""
    return reports.cartera_check(_accounting._snapshot(store_root, company, snapshot_id))


def status(check: reports.CarteraCheck) -> str:
    """'Cuadra' or 'Diferencia'."""
    return "Cuadra" if not check.receivables_difference and not check.payables_difference else "Diferencia"


def summary_rows(checks: dict[str, reports.CarteraCheck], names: dict[str, str]) -> pd.DataFrame:
    """One row per company: date, both comparisons and the status."""
    return pd.DataFrame(
        [
            {
                "Empresa": code,
                "Nombre": names[code],
                "Fecha": fmt.date_es(c.as_of),
                "Cobros pendientes": fmt.money(c.receivables),
                "Saldo 430": fmt.money(c.ledger_receivables),
                "Diferencia cobros": fmt.money(c.receivables_difference),
                "Pagos pendientes": fmt.money(c.payables),
                "Saldo 400 + 410": fmt.money(c.ledger_payables),
                "Diferencia pagos": fmt.money(c.payables_difference),
                "Estado": status(c),
            }
            for code, c in checks.items()
        ]
    )


def detail_rows(detail: pd.DataFrame) -> pd.DataFrame:
    """Per sub-account: cartera, ledger and difference."""
    return pd.DataFrame(
        {
            "Cuenta": detail["account"].tolist(),
            "Nombre": detail["name"].tolist(),
            "Tipo": [KIND_LABELS[k] for k in detail["kind"]],
            "Cartera": [fmt.money(v) for v in detail["cartera"]],
            "Diario": [fmt.money(v) for v in detail["ledger"]],
            "Diferencia": [fmt.money(v) for v in detail["difference"]],
        },
        columns=["Cuenta", "Nombre", "Tipo", "Cartera", "Diario", "Diferencia"],
    )


def flagged(frame: pd.DataFrame, columns: list[str]):
    """Non-zero difference cells highlighted."""
    return frame.style.map(lambda v: FLAG_STYLE if v not in ("0,00 €", "—", "") else "", subset=columns)


_ui.require_user("staff")
settings = _ui.settings()
engine = get_engine(settings.db_url)
st.title("Control de cartera")
st.caption(
    "Efectos pendientes de la cartera de tesorería frente al saldo de las cuentas 430 (clientes) y 400 + 410 "
    "(proveedores y acreedores) en la última fecha del diario publicado de cada empresa."
)
with _ui.errors_shown():
    store = Store(settings.stores)
    snapshots = {c: s for c in store.companies() if (s := store.current(c)) is not None and reports.has_treasury(s)}
    if not snapshots:
        st.info("Ninguna empresa tiene datos de tesorería publicados.")
        st.stop()
    names = _client.company_names(engine, list(snapshots))
    checks = {code: cached_check(str(settings.stores), code, s.snapshot_id) for code, s in snapshots.items()}
    different = [code for code, c in checks.items() if status(c) != "Cuadra"]
    if different:
        st.error(_ui.plain("Con diferencias: " + ", ".join(different) + "."))
    else:
        st.success("La cartera cuadra con el diario en todas las empresas.")
    summary = summary_rows(checks, names)
    st.dataframe(flagged(summary, ["Diferencia cobros", "Diferencia pagos"]), hide_index=True)
    st.download_button(
        "Descargar CSV",
        lambda: export.to_csv_es(summary),
        file_name="control-cartera.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="csv-control-cartera",
    )
    st.subheader("Detalle por subcuenta")
    code = st.selectbox(
        "Empresa", list(snapshots), format_func=lambda c: f"{c} · {names[c]}", key="control-cartera-empresa"
    )
    detail = checks[code].detail
    only = st.checkbox("Solo subcuentas con diferencia", value=True, key="control-cartera-solo")
    shown = detail[[d != 0 for d in detail["difference"]]] if only else detail
    if shown.empty:
        st.success(_ui.plain(f"Todas las subcuentas de {code} cuadran."))
    else:
        st.dataframe(flagged(detail_rows(shown), ["Diferencia"]), hide_index=True)
