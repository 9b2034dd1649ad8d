"""Launcher of tests/edge_probe_app.py behind the portal's middleware, as server.py does for app.py (tests only).

``python tests/edge_probe_server.py --address A --port P`` (started by tests/portal_browser.py's running_portal with
PYTHONPATH at the repository). With ``EDGE_PROBE_BARE=1`` it runs without the middleware: the control that shows a
test would see what the middleware prevents.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from portal.db import get_engine
from portal.settings import load_settings
from web import middleware, serve

settings = load_settings()
bare = os.environ.get("EDGE_PROBE_BARE") == "1"


serve.follow_settings(settings, now=False)
stack = [] if bare else middleware.stack(settings, get_engine(settings.db_url))
app = st.App(str(Path(__file__).with_name("edge_probe_app.py")), middleware=stack)

if __name__ == "__main__":
    serve.run(app)
