"""The «Nueva alerta» form shared by the client's and the office's alert pages (not a page)."""

from __future__ import annotations

import streamlit as st

from reports import alerts as rules
from services import alerts
from views import _ui

UNITS = {"eur": ("Importe (€)", "10.000,00"), "days": ("Días", "15")}


def new_alert_form(
    engine, owner: dict, company: str, kinds: dict[str, rules.Kind], *, actor: str, key: str, done: str
) -> None:
    """What to watch (only ``kinds``, the owner's modules), its threshold or ratio, and «Añadir alerta»."""
    kind = st.selectbox("Qué vigilar", list(kinds), format_func=lambda k: kinds[k].label, key=f"{key}-tipo")
    with st.form(key):
        threshold, ratio_code = "", ""
        if kinds[kind].unit:
            label, example = UNITS[kinds[kind].unit]
            threshold = st.text_input(label, placeholder=example)
        else:
            names = rules.watchable_ratios()
            ratio_code = st.selectbox("Ratio", list(names), format_func=names.get)
        added = st.form_submit_button("Añadir alerta", type="primary")
    if added:
        try:
            alerts.create(engine, owner, company, kind, threshold, ratio_code or "", actor=actor)
        except alerts.AlertsError as exc:
            st.error(_ui.plain(str(exc)))
        else:
            _ui.flash(done)
            st.rerun()
