"""Alertas (client): the thresholds the user watches on the selected company, whether each holds now, a form to add
one (only of the modules the user holds there) and the alerts already recorded and e-mailed."""

from __future__ import annotations

import streamlit as st

from auth import access
from etl.store import Store
from portal import clock, fmt
from reports import alerts as rules
from services import alerts
from views import _accounting, _alerts, _client, _ui

NO_KINDS = "Sus módulos en esta empresa no tienen cifras que vigilar (tesorería, contabilidad o impuestos)."

user = _client.require_client()
settings = _ui.settings()
engine = _client.engine_of(settings)
st.title("Alertas")
_ui.show_flash()
company = _client.current_company(engine, user)
if company is None:
    st.info("Su despacho aún no ha activado módulos para su usuario.")
    st.stop()
with _ui.errors_shown():
    held = access.modules_of(engine, user, company)
    kinds = {code: kind for code, kind in rules.KINDS.items() if kind.module in held}
    if not kinds:
        st.info(NO_KINDS)
        st.stop()
    name = _client.company_name(engine, user, company)
    st.caption(
        _ui.plain(
            f"Alertas sobre {name}. Se comprueban con cada publicación de datos y cada día; las que se cumplen "
            "aparecen en Inicio y le llegan en el aviso diario por correo (sin importes)."
        )
    )
    snapshot = Store(settings.stores).current(company)
    today = clock.today_madrid()
    fired = {f.alert_id: f for f in alerts.holding(engine, user, company, snapshot, today)} if snapshot else {}
    mine = [a for a in alerts.of_user(engine, user["id"], company) if rules.KINDS[a["kind"]].module in held]
    if not mine:
        st.markdown("Aún no vigila ninguna cifra de esta empresa.")
    for alert in mine:
        with st.container(border=True):
            left, right = st.columns([4, 1])
            left.markdown(f"**{_ui.plain(alert['description'])}**")
            if alert["id"] in fired:
                left.warning(_ui.plain(fired[alert["id"]].message), icon=":material/notifications_active:")
            else:
                left.caption("No se cumple ahora.")
            if right.button("Quitar", key=f"quitar-{alert['id']}"):
                alerts.remove(engine, alert["id"], owner=user, actor=user["username"])
                _ui.flash("Alerta quitada.")
                st.rerun()
    st.subheader("Nueva alerta")
    _alerts.new_alert_form(engine, user, company, kinds, actor=user["username"], key="alerta", done="Alerta añadida.")
    recorded = [e for e in alerts.history(engine, user["id"]) if e["company_code"] == company]
    if recorded:
        st.subheader("Alertas registradas")
        _accounting.show_table(
            [
                {
                    "Día": fmt.date_es(e["day"]),
                    "Alerta": e["message"],
                    "Aviso por correo": fmt.datetime_es(e["sent_at"]) if e["sent_at"] else "Pendiente",
                }
                for e in recorded
            ]
        )
