"""Helpers of the client pages (not a page): the signed-in client, the company selector, and the «datos a fecha» stamp.

The company always comes from the server-side list of the user's grants (``access.companies_of``), re-read on every
run: a value left in the session, typed in a widget message or put in the URL is only used when it is in that list.
"""

from __future__ import annotations

import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine

from auth import access, users
from etl.store import Snapshot, Store
from portal import audit, fmt
from portal.codes import is_company_code
from portal.db import companies, get_engine
from portal.settings import Settings
from views import _ui

COMPANY_KEY = "portal_company"  # the validated company of this session (set by app.py on every run)
CHOICE_KEY = "portal_company_choice"  # the sidebar selectbox's own state
# Query parameters someone might try to switch company with: never read, logged when they name another company.
TENANT_PARAMS = ("empresa", "company", "cliente", "client", "client_id", "cif", "nif", "snapshot", "path")
NO_DATA = "Sin datos publicados"


def engine_of(settings: Settings) -> Engine:
    """The portal database of these settings."""
    return get_engine(settings.db_url)


def require_client() -> dict:
    """The signed-in client user; anyone else gets «No tiene acceso» and the run ends."""
    return _ui.require_user("client")


def company_names(engine: Engine, codes: list[str]) -> dict[str, str]:
    """Company code -> name (the code when the companies table has no name)."""
    with engine.connect() as conn:
        rows = dict(
            conn.execute(sa.select(companies.c.code, companies.c.name).where(companies.c.code.in_(codes))).all()
        )
    return {code: rows.get(code) or code for code in codes}


def company_name(engine: Engine, user: dict, company: str) -> str:
    """The name of one of the client's companies (as this click read it)."""
    return access.company_names(engine, user, [company])[company]


def _refuse(engine: Engine, user: dict, value: object, how: str) -> None:
    """Write an access_denied event for a company asked for outside the user's list (the value only as text)."""
    text = str(value)
    audit.record(
        engine,
        "access_denied",
        actor=str(user.get("username", "")),
        actor_role="client",
        company=text if is_company_code(text) else None,
        target="empresa",
        detail=f"{how}: {text!r}"[:300],
    )


def _ignore_tenant_params(engine: Engine, user: dict, allowed: list[str]) -> None:
    """Drop company-like query parameters; those naming a company outside the list are logged."""
    for name in TENANT_PARAMS:
        if name in st.query_params:
            for value in st.query_params.get_all(name):
                if value not in allowed:
                    _refuse(engine, user, value, f"parámetro de URL «{name}» ignorado")
            del st.query_params[name]


def select_company(engine: Engine, user: dict) -> str | None:
    """The session's company, chosen at the top of the sidebar when the user has several (app.py calls it on every
    run, before the menu).

    The choice is checked against the server-side list; a tampered or stale value is replaced by the session's
    company and logged as access_denied. A session starts on the company the user last chose (``users.last_company``)
    while the user still holds it, else on the first one; choosing another company remembers it (one UPDATE, only
    when the choice changes).
    """
    allowed = access.companies_of(engine, user)
    _ignore_tenant_params(engine, user, allowed)
    current = st.session_state.get(COMPANY_KEY)
    if current is not None and current not in allowed:
        _refuse(engine, user, current, "empresa de la sesión fuera de su lista")
        current = None
    if not allowed:
        st.session_state.pop(COMPANY_KEY, None)
        st.session_state.pop(CHOICE_KEY, None)
        return None
    if len(allowed) == 1:
        st.session_state.pop(CHOICE_KEY, None)
        st.session_state[COMPANY_KEY] = allowed[0]
        return allowed[0]
    last = access.last_company(engine, user)  # this click's reading of the users row: no query
    company = current or (last if last in allowed else allowed[0])  # a remembered company no longer held: ignored
    choice = st.session_state.get(CHOICE_KEY)
    if choice is not None and choice not in allowed:
        _refuse(engine, user, choice, "valor del selector de empresa fuera de su lista")
        st.session_state[CHOICE_KEY] = company
    elif choice is None:
        st.session_state[CHOICE_KEY] = company
    names = access.company_names(engine, user, allowed)
    company = st.sidebar.selectbox("Empresa", allowed, format_func=names.get, key=CHOICE_KEY)
    if current is not None and company != current and company != last:  # the user chose another company
        users.remember_company(engine, user["id"], company)
    st.session_state[COMPANY_KEY] = company
    return company


def current_company(engine: Engine, user: dict) -> str | None:
    """The session's company for a page, re-validated against the user's list (None when it has none)."""
    company = st.session_state.get(COMPANY_KEY)
    return company if company in access.companies_of(engine, user) else None


def stamp_text(snapshot: Snapshot | None) -> str:
    """'Datos a fecha 31/12/2025 · publicados el 15/01/2026 10:30' from the snapshot's manifest, or 'Sin datos…'."""
    if snapshot is None:
        return NO_DATA
    last = snapshot.manifest.get("last_date")
    when = fmt.datetime_es(snapshot.created_at)
    if not last:
        return f"{NO_DATA} de diario (carga del {when})"
    return f"Datos a fecha {fmt.date_es(last)} · carga del {when}"


def show_stamp(settings: Settings, engine: Engine, user: dict, company: str, snapshot: Snapshot | None = None) -> None:
    """The company's name and the «datos a fecha» stamp of its published snapshot, as a caption."""
    if snapshot is None:
        snapshot = Store(settings.stores).current(company)
    st.caption(_ui.plain(f"{company_name(engine, user, company)} · {stamp_text(snapshot)}"))
