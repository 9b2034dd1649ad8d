"""Correo (staff): the outbox (sent, waiting, refused, expired) with «Reintentar ahora», and the demo's mailbox."""

from __future__ import annotations

import re

import streamlit as st

from portal import fmt, mail
from portal.db import get_engine
from views import _staff, _ui

LINK = re.compile(r"https?://\S+")
KIND_ES = {
    "credentials": "Credenciales",
    "reset": "Nueva contraseña",
    "contact": "Contacto",
    "digest": "Aviso de novedades",
}


def outbox_rows(messages: list[dict]) -> list[dict]:
    """The outbox as the page shows it (Spanish labels, Madrid times)."""
    return [
        {
            "Creado": _staff.datetime_seconds(m["created_at"]),
            "Tipo": KIND_ES.get(m["kind"], m["kind"]),
            "Para": m["recipient"],
            "Asunto": m["subject"],
            "Estado": mail.STATUS_ES.get(m["status"], m["status"]),
            "Intentos": m["attempts"],
            "Próximo intento": _staff.datetime_seconds(m["next_attempt_at"]) if m["status"] == "pending" else "",
            "Motivo del último fallo": m["last_error"],
        }
        for m in messages
    ]


_ui.require_user("staff")
settings = _ui.settings()
engine = get_engine(settings.db_url)
st.title("Correo")
_ui.show_flash()
with _ui.errors_shown():
    waiting = mail.waiting_count(engine)
    st.caption(
        f"Servidor de correo: {settings.smtp_host}:{settings.smtp_port} · remitente {settings.smtp_from}. "
        "Un mensaje que el servidor no acepta queda en cola y el proceso de cargas lo reintenta solo "
        f"(cada {fmt.integer(settings.mail_retry_seconds)} s, cada vez más espaciado); los enlaces de acceso se "
        "descartan cuando caducan."
    )
    if waiting:
        st.warning(f"{fmt.integer(waiting)} mensaje(s) en cola, pendientes de envío.")
        if st.button("Reintentar ahora", icon=":material/send:"):
            outcomes = mail.retry_due(engine, settings, force=True)
            sent = sum(o.sent for o in outcomes)
            kind = "success" if sent == len(outcomes) else "warning"
            _ui.flash(f"Enviados {fmt.integer(sent)} de {fmt.integer(len(outcomes))} mensajes en cola.", kind)
            st.rerun()
    st.subheader("Correo saliente")
    rows = outbox_rows(mail.outbox(engine))
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.info("El portal aún no ha enviado ningún correo.")
    if settings.demo_mailbox is not None:
        st.subheader("Buzón de demostración")
        st.caption(
            f"Lo que el buzón local (`python -m ops mailbox`) ha recibido, en {settings.demo_mailbox}. "
            "En producción el portal envía al servidor SMTP del despacho y este apartado no aparece."
        )
        caught = mail.caught(settings.demo_mailbox)
        if not caught:
            st.info("El buzón de demostración está vacío.")
        for message in caught:
            when = fmt.datetime_es(message.received_at) if message.received_at else ""
            with st.expander(_ui.plain(f"{when} · {message.to} · {message.subject}")):
                st.caption(_ui.plain(f"De: {message.sender} · Para: {message.to}"))
                st.text(message.body)
                for url in LINK.findall(message.body):  # the demo's activation and reset links, one click away
                    st.link_button("Abrir el enlace", url)
