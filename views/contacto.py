"""Contacto (client): a message about the selected company, e-mailed to the office's contact address."""

from __future__ import annotations

import streamlit as st

from auth import accounts
from portal.errors import PortalError
from portal.mail import MailError
from views import _client, _ui

SENT = "Mensaje enviado al despacho. Le responderán a su correo electrónico."
QUEUED = (
    "El servidor de correo del despacho no responde ahora: su mensaje queda guardado y el portal lo enviará en "
    "cuanto pueda. No hace falta que lo escriba de nuevo."
)
MAIL_FAILED = "No se ha podido enviar el mensaje: el servidor de correo lo ha rechazado. Llame al despacho."

user = _client.require_client()
settings = _ui.settings()
engine = _client.engine_of(settings)
st.title("Contacto")
_ui.show_flash()
company = _client.current_company(engine, user)
if company is None:
    st.info("Su despacho aún no ha activado módulos para su usuario: contacte con él por teléfono o correo.")
    st.stop()
with _ui.errors_shown():
    _client.show_stamp(settings, engine, user, company)
name = _client.company_name(engine, user, company)
st.caption(_ui.plain(f"Su mensaje llegará al despacho como consulta sobre {name}."))
with st.form("contact"):
    subject = st.text_input("Asunto", max_chars=accounts.MAX_SUBJECT)
    body = st.text_area("Mensaje", max_chars=accounts.MAX_BODY, height=200)
    submitted = st.form_submit_button("Enviar", type="primary")
if submitted:
    try:
        posted = accounts.send_contact(settings, engine, user, company, subject, body)
    except MailError:
        st.error(MAIL_FAILED)
    except PortalError as exc:
        st.error(_ui.plain(str(exc)))
    except Exception as exc:
        _ui.show_error(exc)
    else:
        if posted.sent:
            _ui.flash(SENT)
        else:
            _ui.flash(QUEUED, "warning")
        st.rerun()
