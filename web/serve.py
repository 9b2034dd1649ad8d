"""Start the portal's ASGI app (server.py) with uvicorn as ``streamlit run`` does, but without a ``server`` header.

Why a launcher: ``streamlit run server.py`` (and ``App.run()``) start uvicorn through Streamlit's ``UvicornRunner``,
which builds ``uvicorn.Config`` itself with no way to pass options through. uvicorn then adds ``server: uvicorn``
to every response from its config (``Config.encoded_headers``, copied into the server's default headers on every
tick), after any middleware has run, so no middleware can take it away. uvicorn's own documented switch is
``server_header=False``; this launcher does what Streamlit's runner does (config files, environment and flags
loaded in the same order, Streamlit's uvicorn settings: websocket protocol, ping interval, message size, no access
log) and adds that one switch. ``streamlit run server.py`` still works, with the ``server`` header.

Usage: ``python server.py [--address 127.0.0.1] [--port 8501]`` (``make run`` does it).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("portal.web")

DEFAULT_ADDRESS = "127.0.0.1"  # reachable only through the reverse proxy (TLS) in production
DEFAULT_PORT = 8501


def follow_settings(settings, *, now: bool) -> None:
    """Keep Streamlit's ``server.maxUploadSize`` equal to PORTAL_UPLOAD_MAX_MB (whole MB, rounded up).

    Set on every parse of Streamlit's config from now on (the launcher's, a config.toml edited while running), which
    would otherwise bring back config.toml's value; and at once when ``now`` (under ``streamlit run``, which parsed
    the config before importing server.py; the launcher has not parsed it yet, and parsing it early would only make
    Streamlit warn that the [server] section changed).
    """
    from streamlit import config

    from web.middleware import streamlit_upload_mb

    def apply() -> None:
        config.set_option("server.maxUploadSize", streamlit_upload_mb(settings), "PORTAL_UPLOAD_MAX_MB (server.py)")

    config.on_config_parsed(apply, force_connect=True, lock=True)
    if now:
        apply()


# What page scripts import on first use: imported before the freeze below, so their objects are never scanned
# again (an Excel or PDF export imports openpyxl/fpdf; imported late, they made every later collection slower).
WARM_IMPORTS = (
    "pandas",
    "pyarrow",
    "duckdb",
    "plotly.graph_objects",
    "openpyxl",
    "fpdf",
    "reports.export",
    "reports.statements",
    "reports.ledger",
    "etl.store",
)


def freeze_start_up_objects() -> None:
    """Import what pages use, collect once, then freeze: the objects alive at start-up leave the collector's view.

    The other half of the garbage-collection policy is ``runner.postScriptGC = false`` (.streamlit/config.toml):
    Streamlit's full collection after every run scanned all of them on every click while holding the GIL.
    """
    for name in WARM_IMPORTS:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="server.py", description="Portal del Cliente: servidor web.")
    parser.add_argument("--address", default=DEFAULT_ADDRESS, help="dirección en la que escucha (127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="puerto (8501)")
    return parser.parse_args(argv)


def uvicorn_options() -> dict:
    """Streamlit's own uvicorn settings for st.App (read from its runner, so an upgrade keeps them) and no header."""
    from streamlit.web.server.starlette import starlette_server

    return {**starlette_server._get_uvicorn_config_kwargs(), "server_header": False}


def run(app, argv: Sequence[str] | None = None) -> None:
    """Serve ``app`` (an ``st.App``) until SIGINT/SIGTERM; the settings come from config.toml, the environment and
    ``--address``/``--port``."""
    import uvicorn
    from streamlit import config
    from streamlit.runtime.caching.global_cache_budget import reconfigure_global_cache_budget_from_config
    from streamlit.web import bootstrap

    args = parse_args(argv)
    flags = {"server.address": args.address, "server.port": args.port}
    # As `streamlit run` and App.run(): the launcher anchors the script-level config, files + environment + flags
    # are parsed again (server.py re-applies its own options on every parse), the process is set up (sys.path,
    # config file watchers) and the cache budget follows the config.
    launcher = str(Path(sys.argv[0]).resolve())
    config._main_script_path = launcher
    bootstrap.load_config_options(flags)
    reconfigure_global_cache_budget_from_config()
    bootstrap._prepare_asgi_app_run_context(launcher, [], flags, server_mode="starlette-app-direct")
    server = uvicorn.Server(uvicorn.Config(app, host=args.address, port=args.port, **uvicorn_options()))
    freeze_start_up_objects()
    print(f"\n  Portal del Cliente en http://{args.address}:{args.port}\n", flush=True)
    server.run()
    if not server.started:
        sys.exit(3)
