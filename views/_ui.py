"""Helpers shared by the portal's pages (not a page): the signed-in user, errors, notices and table rows."""

from __future__ import annotations

import logging
import re
import string
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from auth.signin import USER_KEY
from etl.problems import SEVERITY_ES, rule_label
from portal import fmt
from portal.errors import PortalError
from portal.settings import Settings, load_settings

log = logging.getLogger("portal.pages")

FLASH_KEY = "portal_flash"
OUTCOMES = {
    "running": "en curso",
    "published": "publicada",
    "staged": "pendiente de publicar",
    "unchanged": "sin cambios",
    "rejected": "rechazada",
    "failed": "fallida",
}
PUBLISH_MODES = {"auto": "Automático", "manual": "Manual"}
JOURNAL_FILE = "journal.parquet"
_MARKDOWN_SYNTAX = re.compile("([" + re.escape(string.punctuation) + "])")


# --- the session and errors --------------------------------------------------------------------------------


def settings() -> Settings:
    """The portal settings (read from the environment on each run: cheap, and never stale)."""
    return load_settings()


def require_user(role: str) -> dict:
    """The signed-in user when it has ``role``; otherwise a refusal and the end of the run (defence in depth)."""
    user = st.session_state.get(USER_KEY)
    if not user or user.get("role") != role:
        st.error("No tiene acceso a esta página.")
        st.stop()
    return user


def require_signed_in() -> dict:
    """The signed-in user, staff or client; anyone else gets «No tiene acceso» and the run ends."""
    user = st.session_state.get(USER_KEY)
    if not user or user.get("role") not in ("staff", "client"):
        st.error("No tiene acceso a esta página.")
        st.stop()
    return user


def plain(text: str) -> str:
    """Text that st.error/st.success show literally: every ASCII punctuation mark backslash-escaped.

    Messages can carry file names, account descriptions or other data from the firm's exports; escaped,
    they can never become links, images, colours, formulas or HTML.
    """
    return _MARKDOWN_SYNTAX.sub(r"\\\1", text)


def licence_notice(source_url: str) -> str:
    """The AGPL notice every page carries: free software, and where this installation's source is."""
    safe = re.fullmatch(r"https?://[^\s()<>\[\]]+", source_url or "")
    source = f" · [Código fuente]({source_url})" if safe else ""
    return f"Portal del Cliente, software libre (licencia AGPL-3.0 o posterior){source}"


def show_error(exc: BaseException) -> None:
    """A PortalError's own Spanish message; anything else: a generic message and an incident id (trace in the log)."""
    if isinstance(exc, PortalError):
        st.error(plain(str(exc)))
        return
    incident = uuid.uuid4().hex[:8].upper()
    log.error("incident %s", incident, exc_info=exc)
    st.error(
        f"Se ha producido un error inesperado. Si se repite, comunique al responsable técnico "
        f"el código de incidencia {incident}."
    )


@contextmanager
def errors_shown() -> Iterator[None]:
    """Run a block; show its exception with ``show_error`` instead of crashing (st.stop/st.rerun pass through)."""
    try:
        yield
    except Exception as exc:
        show_error(exc)


def flash(message: str, kind: str = "success") -> None:
    """Keep a message for the next run (actions end with st.rerun so tables show the new state)."""
    st.session_state[FLASH_KEY] = (kind, message)


def show_flash() -> None:
    """Show (once) the message left by the previous run's action."""
    kind, message = st.session_state.pop(FLASH_KEY, ("", ""))
    if message:
        {"success": st.success, "error": st.error, "warning": st.warning}.get(kind, st.info)(plain(message))


# --- «Cargas de datos» tables (plain text: nothing here is ever rendered as HTML) -------------------------------


def outcome_label(outcome: str | None) -> str:
    """A run outcome in Spanish."""
    return OUTCOMES.get(outcome or "", outcome or fmt.EMPTY)


def company_rows(statuses: list) -> list[dict]:
    """One row per company: published and pending snapshot, publish mode and last run."""
    rows = []
    for status in statuses:
        current, pending, last = status.current, status.pending, status.last_run
        rows.append(
            {
                "Empresa": status.code,
                "Nombre": status.name,
                "Versión publicada": current.snapshot_id if current else fmt.EMPTY,
                "Fecha": fmt.datetime_es(current.created_at) if current else fmt.EMPTY,
                "Líneas del diario": fmt.integer(current.rows.get(JOURNAL_FILE)) if current else fmt.EMPTY,
                "Pendiente de publicar": pending.snapshot_id if pending else fmt.EMPTY,
                "Publicación": PUBLISH_MODES.get(status.publish_mode, status.publish_mode),
                "Última carga": _last_run(last),
            }
        )
    return rows


def _last_run(run: dict | None) -> str:
    if run is None:
        return fmt.EMPTY
    return f"{outcome_label(run['outcome'])} ({fmt.datetime_es(run['started_at'])})"


def run_rows(runs: list[dict]) -> list[dict]:
    """One row per run, newest first."""
    return [
        {
            "Nº": str(run["id"]),
            "Empresa": run["company"],
            "Inicio": fmt.datetime_es(run["started_at"]),
            "Fin": fmt.datetime_es(run["finished_at"]),
            "Resultado": outcome_label(run["outcome"]),
            "Filas leídas": fmt.integer(run["rows_read"]),
            "Filas aceptadas": fmt.integer(run["rows_accepted"]),
            "Errores": fmt.integer(run["errors"]),
            "Avisos": fmt.integer(run["warnings"]),
            "Mensaje": run["message"],
        }
        for run in runs
    ]


def run_label(run: dict) -> str:
    """'Nº 12 · acme · 31/12/2025 14:05 · rechazada (3 errores, 1 aviso)' for the run picker."""
    errors, warnings = run["errors"], run["warnings"]  # '5.000 errores', never '5000'
    counts = f"{fmt.integer(errors)} error{'es' if errors != 1 else ''}, {fmt.integer(warnings)} aviso"
    counts += "s" if warnings != 1 else ""
    started = fmt.datetime_es(run["started_at"])
    return f"Nº {run['id']} · {run['company']} · {started} · {outcome_label(run['outcome'])} ({counts})"


def problem_rows(problems: list[dict]) -> list[dict]:
    """Every validation message of a run, in the order found."""
    return [
        {
            "Gravedad": SEVERITY_ES.get(p["severity"], p["severity"]),
            "Regla": rule_label(p["rule"]),  # in Spanish, never the internal name
            "Archivo": p["file"],
            "Línea": fmt.EMPTY if p["line"] is None else str(p["line"]),
            "Asiento": p["entry"] or fmt.EMPTY,
            "Mensaje": p["message"],
        }
        for p in problems
    ]
