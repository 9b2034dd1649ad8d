"""The portal's HTTP edge: the ASGI app's own routes and middleware around Streamlit (server.py puts them together)."""

EDGE_ACTIVE = False  # set by server.py: the routes and middleware of the portal stand in front of app.py
