"""A tiny Streamlit script served behind the portal's middleware by tests/edge_probe_server.py (test_web_edge.py).

Anonymous on purpose (no gate): it shows what the middleware alone guarantees. It draws a ``st.cache_data`` value
whose computations are counted in a file (so a test can tell whether a ``clear_cache`` message emptied the cache),
an image and a download button (files under ``/media``), a deferred download button (its callable runs on a
websocket message and its file is served under ``/media``), a file uploader (its limit is Streamlit's
``server.maxUploadSize``) and the portal's favicon.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
COUNTER = Path(os.environ["PORTAL_DATA_DIR"]) / "cache_computations.txt"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M/wHwAEBgIApD5fRAAAAABJRU5ErkJggg=="
)


@st.cache_data
def cached_value() -> int:
    """Computed once per cache lifetime: every computation adds a line to the counter file."""
    with COUNTER.open("a", encoding="utf-8") as file:
        file.write("computed\n")
    return len(COUNTER.read_text(encoding="utf-8").splitlines())


st.set_page_config(page_title="Sonda", page_icon=str(ROOT / "web" / "static" / "favicon.svg"))
st.title("Sonda del borde")
st.markdown(f"Valor en caché: {cached_value()}")
st.image(PNG, width=16)
st.download_button("Descargar fijo", b"contenido fijo\n", file_name="fijo.txt", mime="text/plain")
st.download_button("Descargar diferido", lambda: b"contenido diferido\n", file_name="diferido.txt", mime="text/plain")
st.file_uploader("Archivo")
