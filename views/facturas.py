"""Placeholder of the facturas page (replaced by its real page)."""

import streamlit as st

from views import _client

_client.require_client()
st.info("Disponible próximamente")
