"""Bloqueos laborales (staff): block or unblock an employee per company, hide payroll names in the books; audited."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from auth import labour_blocks
from etl.store import Store
from portal import fmt
from portal.db import get_engine
from reports import labour as reports
from reports import redaction
from views import _ui

user = _ui.require_user("staff")
settings = _ui.settings()
engine = get_engine(settings.db_url)
st.title("Bloqueos de datos laborales")
st.caption(
    "Los datos de un empleado bloqueado desaparecen de todas las tablas y exportaciones laborales del cliente "
    "(también de los totales) hasta que se desbloquean. En la contabilidad (diario, mayor y asientos, también al "
    f"descargarlos) los apuntes que lo nombran se leen «{redaction.BLOCKED}», con los mismos importes."
)
_ui.show_flash()
store = Store(settings.stores)
codes = [c for c in store.companies() if (s := store.current(c)) is not None and reports.has_labour(s)]
if not codes:
    st.info("Ninguna empresa tiene datos laborales publicados.")
    st.stop()
company = st.selectbox("Empresa", codes, key="bloqueos-empresa")
snapshot = store.current(company)
with _ui.errors_shown():
    held = {b["nif"]: b for b in labour_blocks.blocks(engine, company)}
    staff = reports.employees(snapshot, frozenset())
    names = dict(zip(staff["nif"], staff["name"], strict=True))
    rows = pd.DataFrame(
        {
            "NIF": staff["nif"].tolist(),
            "Empleado": staff["name"].tolist(),
            "Alta": [fmt.date_es(d) for d in staff["start_date"]],
            "Baja": [fmt.date_es(None if pd.isna(d) else d) for d in staff["end_date"]],
            "Bloqueado": ["sí" if n in held else "no" for n in staff["nif"]],
            "Motivo": [held[n]["reason"] if n in held else "" for n in staff["nif"]],
            "Por": [held[n]["blocked_by"] if n in held else "" for n in staff["nif"]],
        }
    )
    st.dataframe(rows, hide_index=True)
    nif = st.selectbox(
        "Empleado",
        list(names),
        index=None,
        placeholder="Elija un empleado",
        format_func=lambda n: f"{n} · {names[n]}" + (" (bloqueado)" if n in held else ""),
        key=f"bloqueos-empleado-{company}",
    )
    if nif is not None:
        action = "Desbloquear" if nif in held else "Bloquear"
        with st.form(f"bloqueo-{company}-{nif}"):
            reason = st.text_input("Motivo", max_chars=labour_blocks.MAX_REASON, key=f"motivo-{company}-{nif}")
            if st.form_submit_button(action):
                if nif in held:
                    labour_blocks.unblock(engine, company, nif, actor=user["username"], reason=reason)
                    _ui.flash(f"Datos de {nif} desbloqueados en {company}.")
                else:
                    labour_blocks.block(engine, company, nif, actor=user["username"], reason=reason)
                    _ui.flash(f"Datos de {nif} bloqueados en {company}.")
                st.rerun()

    st.subheader("Nombres de los empleados en la contabilidad")
    hidden = labour_blocks.hides_payroll_names(engine, company)
    with st.form(f"nombres-{company}"):
        wanted = st.checkbox(
            "Ocultar los nombres de los empleados a los usuarios sin el módulo Laboral",
            value=hidden,
            key=f"ocultar-nombres-{company}",
        )
        st.caption(
            "Para esos usuarios, todo apunte del diario, del mayor o de un asiento (y sus descargas) que nombre a un "
            f"empleado por su nombre o su NIF/NIE se lee «{redaction.HIDDEN}», con los mismos importes. Quien tiene "
            "el módulo Laboral sigue viendo los nombres, salvo los de empleados bloqueados."
        )
        if st.form_submit_button("Guardar"):
            if wanted != hidden:
                labour_blocks.set_hide_payroll_names(engine, company, wanted, actor=user["username"])
                state = "ocultos" if wanted else "visibles"
                _ui.flash(f"Nombres de los empleados de {company} {state} sin el módulo Laboral.")
            st.rerun()
