"""Portal del Cliente: sign-in, per-user navigation from the grants and the gate in front of every page (no queries)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from auth import access, signin
from portal.db import get_engine
from portal.errors import PortalError
from portal.settings import load_settings
from views import _client, _ui, acceso
from views._pages import PageSpec  # a class defined here would be built again on every run (app.py is exec'd)

# The one table of pages: every URL is registered in every state, so a forbidden or signed-out visit
# runs a stub instead of the page (and never shows Streamlit's "Page not found" modal).
# Page scripts live in views/, never in pages/: with a pages/ folder next to app.py, Streamlit 1.67 serves
# the first run of each server process (and every AppTest run) in its legacy mode, where pages/<name>.py
# opens at /<name> without running this gate.
PAGES = (
    PageSpec("views/cargas.py", "Cargas de datos", "cargas", ":material/sync:", roles=("staff",)),
    PageSpec("views/clientes.py", "Clientes y empresas", "clientes", ":material/domain:", roles=("staff",)),
    PageSpec("views/usuarios.py", "Usuarios del portal", "usuarios", ":material/group:", roles=("staff",)),
    PageSpec("views/modulos.py", "Módulos", "modulos", ":material/tune:", roles=("staff",)),
    PageSpec("views/auditoria.py", "Auditoría", "auditoria", ":material/history:", roles=("staff",)),
    PageSpec("views/buzon.py", "Documentos y buzón", "buzon", ":material/inbox:", roles=("staff",)),
    PageSpec("views/correo.py", "Correo", "correo", ":material/outgoing_mail:", roles=("staff",)),
    PageSpec(
        "views/solicitudes_despacho.py",
        "Solicitudes de documentación",
        "solicitudes-despacho",
        ":material/checklist:",
        ("staff",),
    ),
    PageSpec(
        "views/alertas_clientes.py", "Alertas de clientes", "alertas-clientes", ":material/notifications:", ("staff",)
    ),
    PageSpec(
        "views/control_iva.py", "Control de IVA", "control-iva", ":material/fact_check:", ("staff",), None, "Controles"
    ),
    PageSpec(
        "views/control_cartera.py",
        "Control de cartera",
        "control-cartera",
        ":material/rule:",
        ("staff",),
        None,
        "Controles",
    ),
    PageSpec(
        "views/laboral_bloqueos.py",
        "Bloqueo de datos laborales",
        "laboral-bloqueos",
        ":material/lock_person:",
        ("staff",),
        None,
        "Controles",
    ),
    PageSpec("views/inicio.py", "Inicio", "inicio", ":material/home:", roles=("client",)),
    PageSpec(
        "views/contabilidad.py",
        "Diario",
        "contabilidad",
        ":material/book:",
        ("client",),
        "contabilidad",
        "Contabilidad",
    ),
    PageSpec(
        "views/contabilidad_pyg.py",
        "Pérdidas y ganancias",
        "contabilidad-pyg",
        ":material/trending_up:",
        ("client",),
        "contabilidad",
        "Contabilidad",
    ),
    PageSpec(
        "views/contabilidad_balance.py",
        "Balance de situación",
        "contabilidad-balance",
        ":material/balance:",
        ("client",),
        "contabilidad",
        "Contabilidad",
    ),
    PageSpec(
        "views/contabilidad_sumas.py",
        "Sumas y saldos",
        "contabilidad-sumas",
        ":material/functions:",
        ("client",),
        "contabilidad",
        "Contabilidad",
    ),
    PageSpec(
        "views/contabilidad_mayor.py",
        "Mayor",
        "contabilidad-mayor",
        ":material/menu_book:",
        ("client",),
        "contabilidad",
        "Contabilidad",
    ),
    PageSpec(
        "views/contabilidad_ratios.py",
        "Ratios",
        "contabilidad-ratios",
        ":material/speed:",
        ("client",),
        "contabilidad",
        "Contabilidad",
    ),
    PageSpec(
        "views/contabilidad_cuadres.py",
        "Cuadres",
        "contabilidad-cuadres",
        ":material/rule:",
        ("client",),
        "contabilidad",
        "Contabilidad",
    ),
    PageSpec(
        "views/contabilidad_umbrales.py",
        "Umbrales legales",
        "contabilidad-umbrales",
        ":material/gavel:",
        ("client",),
        "contabilidad",
        "Contabilidad",
    ),
    PageSpec(
        "views/impuestos.py", "Impuestos", "impuestos", ":material/receipt_long:", ("client",), "impuestos", "Impuestos"
    ),
    PageSpec(
        "views/libros_iva.py",
        "Libros de IVA",
        "libros-iva",
        ":material/library_books:",
        ("client",),
        "impuestos",
        "Impuestos",
    ),
    PageSpec(
        "views/impuestos_calendario.py",
        "Calendario fiscal",
        "impuestos-calendario",
        ":material/event:",
        ("client",),
        "impuestos",
        "Impuestos",
    ),
    PageSpec("views/laboral.py", "Laboral", "laboral", ":material/badge:", ("client",), "laboral"),
    PageSpec("views/tesoreria.py", "Tesorería", "tesoreria", ":material/account_balance:", ("client",), "tesoreria"),
    PageSpec(
        "views/facturas.py", "Facturas del despacho", "facturas", ":material/request_quote:", ("client",), "facturas"
    ),
    PageSpec(
        "views/expedientes.py", "Expedientes", "expedientes", ":material/folder_open:", ("client",), "expedientes"
    ),
    PageSpec("views/documentos.py", "Documentos", "documentos", ":material/description:", ("client",), "documentos"),
    PageSpec(
        "views/solicitudes.py",
        "Solicitudes de documentación",
        "solicitudes",
        ":material/checklist:",
        ("client",),
        "documentos",
    ),
    # The account pages last, under their own heading, after every module.
    PageSpec("views/alertas.py", "Alertas", "alertas", ":material/notifications:", ("client",), None, "Cuenta"),
    PageSpec("views/cuenta.py", "Mi cuenta", "cuenta", ":material/person:", ("client", "staff"), None, "Cuenta"),
    PageSpec("views/contacto.py", "Contacto", "contacto", ":material/mail:", ("client",), None, "Cuenta"),
)
PAGES_KEY = "portal_pages"  # (role and modules, the st.Page objects of this session's navigation)
HOME = "inicio"  # url_path of the client home; for staff the same URL opens their first page


def allowed(spec: PageSpec, user: dict, modules: dict | None = None) -> bool:
    """Whether the user opens the page: its role, and for a module page a grant of that module on the company."""
    return user["role"] in spec.roles and (spec.module is None or spec.module in (modules or {}))


def stub(url_path: str, body: Callable[[], None], title: str) -> st.Page:
    """A hidden page that keeps ``url_path`` known without running its real script."""
    return st.Page(body, title=title, url_path=url_path, visibility="hidden")


def no_access() -> None:
    """What a signed-in user sees at the URL of a page they may not open."""
    st.warning("No tiene acceso a esta página.")


def signed_out_navigation() -> None:
    """Only the sign-in page (drawn above by app.py) is reachable; every known URL falls on it."""
    pages = [st.Page(lambda: None, title="Iniciar sesión", url_path="acceso", default=True)]
    pages += [stub(spec.url_path, lambda: None, "Iniciar sesión") for spec in PAGES]
    st.navigation(pages, position="hidden").run()


Menu = list[tuple[str, list[st.Page]]]  # (sidebar heading, "" for none; its pages), in the order drawn


def navigation_pages(user: dict, modules: dict) -> tuple[list[st.Page], Menu]:
    """Every page st.navigation registers (the user's own; a «no access» stub at each other URL) and the user's menu.

    The menu groups the user's pages under their PageSpec.section headings, in order of first appearance in PAGES:
    a client's ungrouped pages (Inicio and the single-page modules), then Contabilidad and Impuestos, then Cuenta.
    Clients land on Inicio; for staff the root opens their first page.
    """
    client = user["role"] == "client"
    mine = [s for s in PAGES if allowed(s, user, modules)]
    others = [stub(s.url_path, no_access, s.title) for s in PAGES if not allowed(s, user, modules)]
    menu: dict[str, list[st.Page]] = {}
    own = []
    for s in mine:
        page = st.Page(s.path, title=s.title, url_path=s.url_path, icon=s.icon, default=client and s.url_path == HOME)
        menu.setdefault(s.section, []).append(page)
        own.append(page)
    if client:
        return [*own, *others], list(menu.items())
    others = [page for page in others if page.url_path != HOME]

    def home() -> None:
        if own:
            st.switch_page(own[0])

    root = st.Page(home, title="Inicio", url_path=HOME, default=True, visibility="hidden" if own else "visible")
    return [root, *own, *others], list(menu.items()) if own else [("", [root])]


def sidebar_menu(menu: Menu, place: DeltaGenerator) -> None:
    """The user's pages as links in ``place``, a slot of the sidebar below the company selector.

    Streamlit draws its own navigation menu above everything else in the sidebar (and, on a phone, the selector
    would sit behind the whole menu), so st.navigation runs hidden and the menu is drawn here instead.
    """
    with place.container(gap=None, key="portal-menu"):
        for heading, pages in menu:
            if heading:
                st.caption(f"**{heading}**")  # small and faded, as Streamlit's own menu draws its headings
            for page in pages:
                st.page_link(page, width="stretch")


def signed_in_navigation(user: dict, modules: dict, menu_place: DeltaGenerator) -> None:
    """Run the page asked for among the user's pages (every granted page in sight in the sidebar menu).

    The page objects are built once per session and set of pages (role and modules, read on every run), not per
    process: st.navigation marks on the object itself which page it lets run (``_can_be_called``), so two sessions
    sharing one object could refuse each other's page.
    """
    key = (user["role"], tuple(modules))
    built = st.session_state.get(PAGES_KEY)
    if built is None or built[0] != key:
        built = (key, *navigation_pages(user, modules))
        st.session_state[PAGES_KEY] = built
    _, pages, menu = built
    page = st.navigation(pages, position="hidden")
    sidebar_menu(menu, menu_place)
    page.run()


def served_behind_the_edge() -> bool:
    """True when the portal's HTTP edge (server.py: cookies, headers, media rules) is in front of this script."""
    import web

    return web.EDGE_ACTIVE or bool(st.config.get_option("global.appTest"))


# A local SVG: Streamlit inlines it as a data: URL (a material icon or emoji would be fetched from a CDN).
FAVICON = str(Path(__file__).with_name("web") / "static" / "favicon.svg")
STYLE = Path(__file__).with_name("web") / "static" / "portal.css"  # phone tables, Spanish labels
st.set_page_config(page_title="Portal del Cliente", page_icon=FAVICON, layout="wide")
st.html(STYLE)
try:
    settings = load_settings()
    engine = get_engine(settings.db_url)
except PortalError as exc:  # a setting the portal refuses: say so, open nothing
    st.error(str(exc))
    st.stop()
if not served_behind_the_edge():
    st.error("Inicie el portal con `make run` (servidor `server.py`): sin él no hay cookies de sesión seguras.")
    st.stop()

session = signin.current_session(settings, engine)  # the gate: this connection's cookie, checked on every rerun
if session is None:
    link = acceso.token_request()
    if link is not None:
        acceso.set_password_page(settings, engine, *link)  # ?activar=<token> / ?restablecer=<token> from an e-mail
    else:
        signin.sign_in_page(settings, engine, below_form=lambda: acceso.forgot_password(settings, engine))
    st.caption(_ui.licence_notice(settings.source_url))
    signed_out_navigation()
else:
    current_user = session.user
    with access.this_click(session.user_row, session.holdings):  # the gate's reading serves the whole click
        granted: dict = {}
        with st.sidebar:  # top to bottom: the company selector (first, on a phone too), who is signed in, the menu
            if current_user["role"] == "client":
                company = _client.select_company(engine, current_user)
                granted = access.modules_of(engine, current_user, company) if company else {}
            st.caption(_ui.plain(f"{settings.firm_name} · {current_user['name'] or current_user['username']}"))
            menu_place = st.container()  # filled by the navigation, above «Cerrar sesión»
        signin.sign_out_button(engine, session)
        st.sidebar.caption(_ui.licence_notice(settings.source_url))
        signed_in_navigation(current_user, granted, menu_place)
