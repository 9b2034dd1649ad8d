"""Alertas de clientes (staff): every alert client users watch, a form to set one for a client user on one of
their companies, and the alerts recorded (with when they went out by e-mail)."""

from __future__ import annotations

import streamlit as st

from auth import access, users
from portal import fmt
from portal.db import get_engine
from reports import alerts as rules
from services import alerts
from views import _accounting, _alerts, _ui

user = _ui.require_user("staff")
settings = _ui.settings()
engine = get_engine(settings.db_url)
st.title("Alertas de clientes")
_ui.show_flash()
st.caption(
    "Umbrales que vigila cada usuario cliente en una empresa. Se comprueban con cada publicación y cada día; las "
    "que se cumplen aparecen en su Inicio y en su aviso diario por correo."
)
with _ui.errors_shown():
    every = alerts.every_alert(engine)
    if every:
        for alert in every:
            left, right = st.columns([5, 1])
            who = alert["name"] or alert["username"]
            left.markdown(_ui.plain(f"{who} ({alert['username']}) · {alert['company_code']} · {alert['description']}"))
            if right.button("Quitar", key=f"quitar-{alert['id']}"):
                alerts.remove(engine, alert["id"], owner=None, actor=user["username"])
                _ui.flash("Alerta quitada.")
                st.rerun()
    else:
        st.markdown("Ningún usuario vigila todavía ninguna cifra.")
    st.subheader("Nueva alerta para un usuario cliente")
    clients = {u["username"]: u for u in users.list_users(engine) if u["role"] == "client" and u["active"]}
    username = st.selectbox("Usuario", list(clients), index=None, placeholder="Elija un usuario", key="alerta-usuario")
    if username is not None:
        client = clients[username]
        companies = access.companies_of(engine, client)
        company = st.selectbox("Empresa", companies, index=None, placeholder="Elija una empresa", key="alerta-empresa")
        if company is not None:
            held = access.modules_of(engine, client, company)
            kinds = {code: kind for code, kind in rules.KINDS.items() if kind.module in held}
            if not kinds:
                st.info("Ese usuario no tiene en esa empresa ningún módulo con cifras que vigilar.")
            else:
                done = f"Alerta añadida para {username}."
                _alerts.new_alert_form(
                    engine, client, company, kinds, actor=user["username"], key="alerta-k", done=done
                )
    recorded = alerts.history(engine)
    if recorded:
        st.subheader("Alertas registradas")
        _accounting.show_table(
            [
                {
                    "Día": fmt.date_es(e["day"]),
                    "Usuario": e["username"],
                    "Empresa": e["company_code"],
                    "Alerta": e["message"],
                    "Aviso por correo": fmt.datetime_es(e["sent_at"]) if e["sent_at"] else "Pendiente",
                }
                for e in recorded
            ]
        )
