"""The portal's ASGI entry point: Streamlit's app (app.py) with the portal's routes and middleware around it.

Start it with ``python server.py [--address A] [--port P]`` (``make run``): the launcher (web/serve.py) runs uvicorn
as ``streamlit run`` would, without uvicorn's ``server`` header. ``streamlit run server.py`` works too (same app,
but with that header).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import streamlit as st

import web
from portal.db import get_engine
from portal.settings import load_settings
from views import _warm
from web import middleware, routes, serve

HERE = Path(__file__).resolve().parent

settings = load_settings()
engine = get_engine(settings.db_url)


serve.follow_settings(settings, now=__name__ != "__main__")  # server.maxUploadSize = PORTAL_UPLOAD_MAX_MB
web.EDGE_ACTIVE = True  # app.py refuses to run without the routes and middleware below in front of it


@contextlib.asynccontextmanager
async def warm_caches(_app):
    """While the server runs (Streamlit's runtime started): the newest publications' first screens kept warm."""
    warmer = _warm.Warmer(settings.stores, settings.warm_companies, report=lambda line: print(f"  {line}", flush=True))
    warmer.start()
    try:
        yield None
    finally:
        warmer.stop()


app = st.App(
    str(HERE / "app.py"), routes=routes.ROUTES, middleware=middleware.stack(settings, engine), lifespan=warm_caches
)

if __name__ == "__main__":
    serve.run(app)
