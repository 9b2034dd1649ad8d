"""Placeholder of the control_cartera page (replaced by its real page)."""

import streamlit as st

from views import _ui

_ui.require_user("staff")
st.info("Disponible próximamente")
