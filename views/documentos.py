"""Placeholder of the documentos page (replaced by its real page)."""

import streamlit as st

from views import _client

_client.require_client()
st.info("Disponible próximamente")
