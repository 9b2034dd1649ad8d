"""Portal del Cliente: sign-in, per-role navigation and the gate in front of every page (no queries, no charts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from auth import signin
from portal.db import get_engine
from portal.errors import PortalError
from portal.settings import load_settings


@dataclass(frozen=True)
class PageSpec:
    """A page of the portal and who may open it."""

    path: str
    title: str
    url_path: str
    icon: str
    roles: tuple[str, ...]
    module: str | None = None  # client modules (contabilidad, impuestos, ...) arrive with client pages


# The one table of pages: every URL is registered in every state, so a forbidden or signed-out visit
# runs a stub instead of the page (and never shows Streamlit's "Page not found" modal).
# Page scripts live in views/, never in pages/: with a pages/ folder next to app.py, Streamlit 1.67 serves
# the first run of each server process (and every AppTest run) in its legacy mode, where pages/<name>.py
# opens at /<name> without running this gate.
PAGES = (PageSpec("views/cargas.py", "Cargas de datos", "cargas", ":material/sync:", roles=("staff",)),)


def allowed(spec: PageSpec, user: dict) -> bool:
    """Whether the user's role opens the page (module grants for clients come with the next issue)."""
    return user["role"] in spec.roles


def stub(url_path: str, body: Callable[[], None], title: str) -> st.Page:
    """A hidden page that keeps ``url_path`` known without running its real script."""
    return st.Page(body, title=title, url_path=url_path, visibility="hidden")


def no_access() -> None:
    """What a signed-in user sees at the URL of a page they may not open."""
    st.warning("No tiene acceso a esta página.")


def no_modules() -> None:
    """Home of a client user before the firm enables any module."""
    st.title("Portal del Cliente")
    st.info("Su despacho aún no ha activado módulos para su usuario.")


def signed_out_navigation() -> None:
    """Only the sign-in page (drawn above by app.py) is reachable; every known URL falls on it."""
    pages = [st.Page(lambda: None, title="Iniciar sesión", url_path="acceso", default=True)]
    pages += [stub(spec.url_path, lambda: None, "Iniciar sesión") for spec in PAGES]
    st.navigation(pages, position="hidden").run()


def signed_in_navigation(user: dict, *, just_signed_in: bool) -> None:
    """The user's own pages; the others' URLs lead to a «no access» stub; the root opens the first page.

    Right after a password sign-in the root only lists the pages: switching page in that run would drop
    the component writing the sign-in cookie, and the component's round trip reruns the app anyway.
    """
    own = [st.Page(s.path, title=s.title, url_path=s.url_path, icon=s.icon) for s in PAGES if allowed(s, user)]
    others = [stub(s.url_path, no_access, s.title) for s in PAGES if not allowed(s, user)]

    def home() -> None:
        if own and not just_signed_in:
            st.switch_page(own[0])
        for page in own:
            st.page_link(page)
        if not own:
            no_modules()

    root = st.Page(home, title="Inicio", url_path="inicio", default=True, visibility="hidden" if own else "visible")
    st.navigation([root, *own, *others], position="sidebar").run()


st.set_page_config(page_title="Portal del Cliente", page_icon=":material/account_balance:", layout="wide")
try:
    settings = load_settings()
    engine = get_engine(settings.db_url)
    auth, entries = signin.authenticator(settings, engine)
except PortalError as exc:  # e.g. a weak PORTAL_COOKIE_KEY: say so, open nothing
    st.error(str(exc))
    st.stop()

current_user = signin.signed_in_user(settings, engine, auth, entries)
if current_user is None:
    signed_out_navigation()
else:
    with st.sidebar:
        st.caption(f"{settings.firm_name} · {current_user['name']}")
    signin.sign_out_button(auth, engine)
    signed_in_navigation(current_user, just_signed_in=signin.just_signed_in())
