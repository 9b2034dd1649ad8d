"""Control de IVA (staff): per company, the VAT declared in each 303 against the VAT booked (477/472), differences
highlighted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from etl.modules.taxes import period_label
from etl.store import Store
from portal import fmt
from portal.db import get_engine
from reports import taxes as reports
from views import _client, _ui

HIGHLIGHT = "background-color: #ffebee; color: #b71c1c; font-weight: 600"


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_check(store_root: str, company: str, snapshot_id: str) -> pd.DataFrame:
    """Every 303 of the company against its journal."""
    return reports.vat_vs_journal(Store(Path(store_root)).snapshot(company, snapshot_id))


def check_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The check in Spanish: declared, booked and difference for output (27 / 477) and input (45 / 472) VAT."""
    states = {True: "Cuadra", False: "Diferencia", None: "Sin diario"}
    return pd.DataFrame(
        {
            "Periodo": [period_label(int(y), p) for y, p in zip(frame["year"], frame["period"], strict=True)],
            "IVA devengado declarado (27)": [fmt.money(v) for v in frame["declared_output"]],
            "IVA repercutido contabilizado (477)": [fmt.money(v) for v in frame["booked_output"]],
            "Diferencia devengado": [fmt.money(v) for v in frame["output_difference"]],
            "IVA deducible declarado (45)": [fmt.money(v) for v in frame["declared_input"]],
            "IVA soportado contabilizado (472)": [fmt.money(v) for v in frame["booked_input"]],
            "Diferencia deducible": [fmt.money(v) for v in frame["input_difference"]],
            "Estado": [states[None if pd.isna(m) else bool(m)] for m in frame["matches"]],
        }
    )


def highlighted(rows: pd.DataFrame):
    """The rows that differ, in red."""
    return rows.style.apply(lambda row: [HIGHLIGHT if row["Estado"] == "Diferencia" else "" for _ in row], axis=1)


user = _ui.require_user("staff")
settings = _ui.settings()
engine = get_engine(settings.db_url)
st.title("Control de IVA")
st.caption(
    "IVA declarado en cada modelo 303 frente al IVA contabilizado en el diario del mismo periodo: casilla 27 frente "
    "al haber de las cuentas 477 y casilla 45 frente al debe de las 472 (asientos normales, sin el de liquidación)."
)
with _ui.errors_shown():
    store = Store(settings.stores)
    snapshots = {c: s for c in store.companies() if (s := store.current(c)) is not None and reports.has_taxes(s)}
    if not snapshots:
        st.info("Ninguna empresa tiene datos de impuestos publicados.")
        st.stop()
    names = _client.company_names(engine, list(snapshots))
    checks = {c: cached_check(str(settings.stores), c, s.snapshot_id) for c, s in snapshots.items()}
    summary = pd.DataFrame(
        {
            "Empresa": [f"{c} · {names[c]}" for c in checks],
            "Modelos 303 comprobados": [fmt.integer(int(f["matches"].notna().sum())) for f in checks.values()],
            "Con diferencias": [fmt.integer(int((f["matches"] == False).sum())) for f in checks.values()],  # noqa: E712
        }
    )
    st.subheader("Resumen por empresa")
    st.dataframe(
        summary.style.apply(lambda row: [HIGHLIGHT if row["Con diferencias"] != "0" else "" for _ in row], axis=1),
        hide_index=True,
    )
    codes = list(snapshots)
    first_differing = next((i for i, c in enumerate(codes) if (checks[c]["matches"] == False).any()), 0)  # noqa: E712
    company = st.selectbox(
        "Empresa",
        codes,
        index=first_differing,
        format_func=lambda c: f"{c} · {names[c]}",
        key="control-iva-empresa",
    )
    frame = checks[company]
    differing = frame[frame["matches"] == False]  # noqa: E712 - None (no journal) is neither
    if frame.empty:
        st.info("La empresa no tiene modelos 303 presentados.")
    elif differing.empty:
        st.success("Todos los modelos 303 cuadran con el diario.")
    else:
        periods = ", ".join(
            period_label(int(y), p) for y, p in zip(differing["year"], differing["period"], strict=True)
        )
        st.error(_ui.plain(f"El IVA declarado no coincide con el contabilizado en: {periods}."))
    if not frame.empty:
        st.dataframe(highlighted(check_rows(frame)), hide_index=True)
