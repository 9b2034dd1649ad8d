"""The adversarial plan of security.md §4 through AppTest and the real stores: 3, 6, 13, 16–21, 23–25, 28 and 36.

Two client companies with hand-written journals: ``alfa`` (A) and ``beta`` (B). Every test compares what a page
drew with those control rows, so "B's data never reaches A" is checked on real rendered tables.
"""

from __future__ import annotations

import ast
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from auth import access, accounts, passwords, signin, users
from etl import service
from etl.store import Store, StoreError
from portal import audit, clock
from portal.db import get_engine
from portal.settings import Settings, load_settings
from reports import journal
from tests.app_cookies import give_session, sign_in_with_form
from tests.test_app import request_url_path, shows_sign_in_form, texts
from views import _client

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "marmota violeta sobre tejado de zinc"
OTHER_PASSWORD = "otra frase distinta para el segundo cliente"
HEADER = "fecha;asiento;cuenta;concepto;debe;haber\n"
ALFA = HEADER + (
    "10/01/2025;1;4300001;Venta Alfa uno;1.210,00;\n"
    "10/01/2025;1;7000000;Venta Alfa uno;;1.000,00\n"
    "10/01/2025;1;4770000;Venta Alfa uno;;210,00\n"
    "20/02/2025;2;5720001;Cobro Alfa uno;1.210,00;\n"
    "20/02/2025;2;4300001;Cobro Alfa uno;;1.210,00\n"
)
BETA = HEADER + ("05/03/2025;1;6000000;Compra Beta secreta;500,00;\n05/03/2025;1;4000001;Compra Beta secreta;;500,00\n")
# The control rows, by hand: (fecha, asiento, cuenta, concepto, debe, haber), newest entry first, then file order.
ALFA_ROWS = [
    ("20/02/2025", "2", "5720001", "Cobro Alfa uno", "1.210,00", ""),
    ("20/02/2025", "2", "4300001", "Cobro Alfa uno", "", "1.210,00"),
    ("10/01/2025", "1", "4300001", "Venta Alfa uno", "1.210,00", ""),
    ("10/01/2025", "1", "7000000", "Venta Alfa uno", "", "1.000,00"),
    ("10/01/2025", "1", "4770000", "Venta Alfa uno", "", "210,00"),
]
BETA_ROWS = [
    ("05/03/2025", "1", "6000000", "Compra Beta secreta", "500,00", ""),
    ("05/03/2025", "1", "4000001", "Compra Beta secreta", "", "500,00"),
]
BETA_WORDS = ("Beta", "secreta", "6000000", "4000001", "500,00")


@dataclass
class World:
    """A data dir with alfa and beta published and client users: ana (alfa), bea (beta), duo (both)."""

    settings: Settings
    engine: Engine

    def store(self) -> Store:
        return Store(self.settings.stores)


def write_journal(settings: Settings, code: str, text: str) -> None:
    folder = settings.sources / code
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "diario.csv").write_text(text, encoding="utf-8")


def client(engine: Engine, username: str, grants: dict[str, list[str]], password: str = PASSWORD) -> None:
    """A client user with a password and modules per company."""
    users.create_user(engine, username, password, role="client", name=username.capitalize())
    for company, modules in grants.items():
        for module in modules:
            access.grant(engine, username, company, module, actor="test")


def build_world(data: Path) -> None:
    """Load alfa and beta and create the three client users in ``data`` (done once, then copied per test)."""
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_journal(settings, "alfa", ALFA)
    write_journal(settings, "beta", BETA)
    results = service.load_all(settings, companies=["alfa", "beta"])
    assert [r.outcome for r in results] == ["published", "published"], [r.message for r in results]
    engine = get_engine(settings.db_url)
    client(engine, "ana", {"alfa": ["contabilidad", "impuestos"]})
    client(engine, "bea", {"beta": ["contabilidad"]}, OTHER_PASSWORD)
    client(engine, "duo", {"alfa": ["contabilidad"], "beta": ["contabilidad"]})
    engine.dispose()


def make_world(template: Path, tmp_path: Path, monkeypatch) -> World:
    """A private copy of the template world; the app reads PORTAL_DATA_DIR from the environment."""
    data = tmp_path / "data"
    shutil.copytree(template, data, symlinks=True)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(data))
    for name in [n for n in os.environ if n.startswith("PORTAL_") and n != "PORTAL_DATA_DIR"]:
        monkeypatch.delenv(name)
    settings = load_settings()
    return World(settings, get_engine(settings.db_url))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("template") / "data"
    build_world(data)
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    return make_world(template, tmp_path, monkeypatch)


def registered_pages() -> list[tuple[str, str, tuple[str, ...]]]:
    """(script path, url_path, roles) of every PageSpec in app.py's PAGES, read from the source (importing app.py
    would run it as a script)."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    pages = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "PageSpec":
            values = [ast.literal_eval(a) for a in node.args]
            keywords = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            roles = keywords.get("roles", values[4] if len(values) > 4 else ())
            pages.append((values[0], values[2], tuple(roles)))
    assert pages
    return pages


# --- AppTest helpers ------------------------------------------------------------------------------------------------


def new_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def sign_in(at: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    """Through the form (password, second factor when asked) and the cookie hand-off, as a browser does."""
    sign_in_with_form(at, username, password)
    assert not at.exception, at.exception
    return at


def signed_in(username: str, password: str = PASSWORD, query: dict | None = None) -> AppTest:
    """A fresh app whose browser holds a session of ``username`` (as after a full sign-in)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.query_params.update(query or {})
    give_session(at, username)
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def open_tab(at: AppTest, key_prefix: str, label: str) -> AppTest:
    """Open a page's lazy tab (``on_change="rerun"``: only the open one runs), as a click on it does; the tabs' key
    is the one in the session starting with ``key_prefix`` (pages key them per company and snapshot)."""
    [key] = [k for k in at.session_state.keys() if str(k).startswith(key_prefix)]  # noqa: SIM118 (no __iter__)
    at.session_state[key] = label
    at.run()
    assert not at.exception, at.exception
    return at


def journal_rows(at: AppTest) -> list[tuple]:
    """The «Últimos asientos» table as (fecha, asiento, cuenta, concepto, debe, haber) tuples; [] when absent."""
    if not at.dataframe:
        return []
    frame = at.dataframe[0].value
    columns = ["Fecha", "Asiento", "Cuenta", "Concepto", "Debe", "Haber"]
    return [tuple(row) for row in frame[columns].itertuples(index=False)]


def everything_drawn(at: AppTest) -> str:
    """Texts plus every table cell: what reached the user's screen."""
    cells = [str(v) for df in at.dataframe for v in df.value.astype(str).to_numpy().ravel()]
    return texts(at) + "\n" + "\n".join(cells)


def denied_events(engine: Engine, actor: str) -> list[dict]:
    return audit.entries(engine, actor=actor, event="access_denied")


# --- 3: a locked or expired user with a live session is signed out at the next rerun -------------------------------


@pytest.mark.parametrize("change", ["locked", "expired"])
def test_03_locked_or_expired_user_with_a_live_session_is_out_at_the_next_rerun(world, change):
    at = open_page(signed_in("ana"), "contabilidad")
    assert journal_rows(at) == ALFA_ROWS
    with world.engine.begin() as conn:
        values = (
            {"locked_at": clock.now_utc(), "failed_attempts": 5}
            if change == "locked"
            else {"expires_on": clock.today_madrid() - timedelta(days=1)}
        )
        conn.execute(users.users.update().where(users.users.c.username == "ana").values(**values))
    at.run()
    assert not at.exception
    assert signin.SESSION_ENDED in texts(at)
    assert journal_rows(at) == [] and "Diario" not in [t.value for t in at.title]
    at.run()
    assert shows_sign_in_form(at)
    assert "Venta Alfa" not in everything_drawn(at)


# --- 6: no enumeration ----------------------------------------------------------------------------------------------


def test_06_unknown_user_and_wrong_password_get_the_same_message(world):
    wrong = sign_in(new_app(), "ana", PASSWORD + " no")
    unknown = sign_in(new_app(), "nadie-conocido", PASSWORD)
    assert [e.value for e in wrong.error] == [e.value for e in unknown.error] == [signin.FAILED]
    assert shows_sign_in_form(wrong) and shows_sign_in_form(unknown)


def test_06_verify_costs_the_same_for_an_unknown_user_and_a_wrong_password(world, monkeypatch):
    """Same work either way, counted rather than timed: exactly one bcrypt check at the portal's cost."""
    client(world.engine, "timed", {})
    checks: list[bytes] = []
    real_checkpw = passwords.bcrypt.checkpw

    def counting_checkpw(candidate: bytes, hashed: bytes) -> bool:
        checks.append(hashed[:7])  # the algorithm and cost prefix, e.g. b"$2b$12$"
        return real_checkpw(candidate, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", counting_checkpw)
    for username in ("timed", "usuario-que-no-existe", "timed", "otro-que-tampoco"):
        assert users.verify(world.engine, username, "esta no es la contraseña correcta") is None
    assert checks == [f"$2b${passwords.BCRYPT_ROUNDS:02d}$".encode()] * 4


# --- 13: a password change ends the other sessions ------------------------------------------------------------------


def test_13_password_change_ends_the_other_sessions_and_keeps_this_one(world):
    other = open_page(signed_in("ana"), "contabilidad")
    assert journal_rows(other) == ALFA_ROWS
    time.sleep(0.01)  # the two sign-ins are distinct moments
    mine = open_page(signed_in("ana"), "cuenta")
    new_password = "nueva frase de acceso para la cuenta"
    form = {t.label: t for t in mine.text_input}
    form["Contraseña actual"].input(PASSWORD)
    form["Nueva contraseña"].input(new_password)
    form["Repita la nueva contraseña"].input(new_password)
    [submit] = [b for b in mine.button if b.label == "Cambiar la contraseña"]
    submit.click().run()
    assert not mine.exception
    assert "Contraseña cambiada" in texts(mine)
    other.run()
    assert signin.SESSION_ENDED in texts(other) and journal_rows(other) == []
    open_page(mine, "contabilidad")
    assert journal_rows(mine) == ALFA_ROWS  # this browser stays signed in
    assert [e["event"] for e in audit.entries(world.engine, actor="ana", event="password_changed")] == [
        "password_changed"
    ]
    assert users.verify(world.engine, "ana", new_password) is not None
    assert users.verify(world.engine, "ana", PASSWORD) is None


# --- 16: no page without a session ----------------------------------------------------------------------------------


INVENTED = ["nominas", "laboral", "tesoreria", "impuestos", "admin", "pages", "app", "views", "_client", "acceso"]


@pytest.mark.parametrize("url_path", [url_path for _, url_path, _ in registered_pages()] + INVENTED)
def test_16_no_page_without_a_session(world, url_path):
    at = request_url_path(new_app(), url_path)
    assert not at.exception
    assert shows_sign_in_form(at)
    assert len(at.dataframe) == 0 and not at.selectbox
    assert [t.value for t in at.title] == ["Portal del Cliente"]
    drawn = everything_drawn(at)
    assert "Venta Alfa" not in drawn and "Beta" not in drawn


def test_16_every_registered_page_script_exists_outside_pages_and_refuses_without_a_user(world):
    for path, _, roles in registered_pages():
        assert (ROOT / path).is_file() and path.startswith("views/")
        if "client" in roles:
            at = AppTest.from_file(str(ROOT / path), default_timeout=30).run()
            assert "No tiene acceso a esta página." in texts(at)
            assert len(at.dataframe) == 0


# --- 17: no company switch through query parameters -----------------------------------------------------------------


TENANT_QUERIES = [
    {"empresa": "beta"},
    {"company": "beta"},
    {"cliente": "beta"},
    {"client_id": "beta"},
    {"snapshot": "beta"},
    {"path": "../beta/"},
    {"empresa": ["alfa", "beta"]},
]


@pytest.mark.parametrize("query", TENANT_QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_17_query_parameters_never_select_another_company(world, query):
    at = open_page(signed_in("ana"), "contabilidad")
    at.query_params.update(query)
    at.run()
    assert not at.exception
    assert journal_rows(at) == ALFA_ROWS
    assert not any(word in everything_drawn(at) for word in BETA_WORDS)
    assert any("parámetro de URL" in e["detail"] for e in denied_events(world.engine, "ana"))
    # And a fresh visit that arrives with the parameter, signing in on that address, is no different.
    fresh = open_page(sign_in(new_app(query), "ana"), "contabilidad")
    assert journal_rows(fresh) == ALFA_ROWS


def test_17_even_a_user_of_both_companies_is_not_switched_by_the_address(world):
    at = open_page(signed_in("duo"), "contabilidad")
    assert journal_rows(at) == ALFA_ROWS  # the first company, by code
    at.query_params["empresa"] = "beta"
    at.run()
    assert journal_rows(at) == ALFA_ROWS  # only the selector changes company


# --- 18: no company switch through widget or session-state tampering ------------------------------------------------


def test_18_a_tampered_session_company_is_refused_and_the_own_company_shown(world):
    at = open_page(signed_in("ana"), "contabilidad")
    at.session_state[_client.COMPANY_KEY] = "beta"
    at.run()
    assert not at.exception
    assert journal_rows(at) == ALFA_ROWS
    assert not any(word in everything_drawn(at) for word in BETA_WORDS)
    [event] = denied_events(world.engine, "ana")
    assert event["company"] == "beta" and "fuera de su lista" in event["detail"]


def test_18_a_selector_value_outside_the_list_is_refused(world):
    client(world.engine, "tres", {"alfa": ["contabilidad"], "beta": ["impuestos"]})
    at = new_app()
    at.session_state[_client.CHOICE_KEY] = "gamma"  # not offered: what a forged widget message would carry
    give_session(at, "tres")
    at = open_page(at.run(), "contabilidad")
    assert not at.exception
    [selector] = at.sidebar.selectbox
    assert selector.label == "Empresa" and selector.options == ["alfa", "beta"]
    assert at.sidebar.selectbox[0].value == "alfa"
    assert journal_rows(at) == ALFA_ROWS
    assert any("selector" in e["detail"] for e in denied_events(world.engine, "tres"))
    # beta is in the list but without accounting: choosing it takes the page away instead of showing beta's books.
    at.sidebar.selectbox[0].select("beta").run()
    assert journal_rows(at) == []
    assert "No tiene acceso a esta página." in texts(at)


# --- 19: the module is enforced in the data path -------------------------------------------------------------------


def test_19_a_module_not_granted_has_no_page_and_its_data_path_refuses(world, monkeypatch):
    client(world.engine, "solo", {"alfa": ["impuestos"]})
    at = request_url_path(signed_in("solo"), "contabilidad")
    assert "No tiene acceso a esta página." in texts(at) and journal_rows(at) == []
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/contabilidad.py")

    opened = []
    real_current, real_recent = Store.current, journal.recent_entries
    monkeypatch.setattr(Store, "current", lambda self, c: opened.append(("current", c)) or real_current(self, c))
    monkeypatch.setattr(journal, "recent_entries", lambda *a, **k: opened.append("recent") or real_recent(*a, **k))
    # The page script itself, run with solo's session and company (as if the navigation had let it through).
    page = AppTest.from_file(str(ROOT / "views" / "contabilidad.py"), default_timeout=30)
    page.session_state[signin.USER_KEY] = dict(at.session_state[signin.USER_KEY])
    page.session_state[_client.COMPANY_KEY] = "alfa"
    page.run()
    assert not page.exception
    assert "No tiene acceso a estos datos." in texts(page)
    assert journal_rows(page) == [] and opened == []
    [event] = denied_events(world.engine, "solo")
    assert (event["company"], event["target"], event["detail"]) == ("alfa", "contabilidad", "módulo no concedido")
    # The guard alone, too.
    with pytest.raises(access.AccessDenied):
        access.guard(world.engine, users.get_user(world.engine, "solo"), "alfa", "contabilidad")


# --- 20: path traversal -------------------------------------------------------------------------------------------


TRAVERSALS = ["../beta", "..%2fbeta", "/etc/passwd", "alfa\x00", "alfa/../beta", "..", ".", "alfa\n", "ALFA/.."]


@pytest.mark.parametrize("code", TRAVERSALS, ids=repr)
def test_20_traversal_company_codes_are_refused_before_any_file_is_touched(world, monkeypatch, code):
    ana = users.get_user(world.engine, "ana")
    store = world.store()

    def no_filesystem(*_args, **_kwargs):
        raise AssertionError("the filesystem was touched")

    with monkeypatch.context() as m:
        for name in ("resolve", "read_text", "open", "exists", "is_file", "is_dir", "iterdir", "stat"):
            m.setattr(Path, name, no_filesystem)
        with pytest.raises(StoreError):
            store.current(code)
        with pytest.raises(StoreError):
            store.snapshot(code, "20250101T000000000000Z-00000000")
    with pytest.raises(access.AccessDenied):
        access.guard(world.engine, ana, code, "contabilidad")
    [event] = denied_events(world.engine, "ana")
    assert event["company"] is None and event["detail"].startswith("código de empresa no válido")


def test_20_a_symlinked_company_folder_is_refused(world):
    (world.settings.stores / "espejo").symlink_to(world.settings.stores / "beta")
    with pytest.raises(StoreError, match="sale del almacén"):
        world.store().current("espejo")


def test_20_a_traversal_code_in_the_session_never_reaches_the_store(world, monkeypatch):
    at = open_page(signed_in("ana"), "contabilidad")
    asked = []
    real_current = Store.current
    monkeypatch.setattr(Store, "current", lambda self, c: asked.append(c) or real_current(self, c))
    at.session_state[_client.COMPANY_KEY] = "../beta"
    at.run()
    assert journal_rows(at) == ALFA_ROWS
    assert asked and set(asked) == {"alfa"}
    assert any("../beta" in e["detail"] for e in denied_events(world.engine, "ana"))


# --- 21: cache isolation --------------------------------------------------------------------------------------------


def test_21_client_b_never_gets_client_a_cached_rows(world):
    first = open_page(signed_in("ana"), "contabilidad")
    assert journal_rows(first) == ALFA_ROWS
    again = open_page(signed_in("ana"), "contabilidad")  # a second session: the cache is warm
    assert journal_rows(again) == ALFA_ROWS
    other = open_page(signed_in("bea", OTHER_PASSWORD), "contabilidad")
    assert journal_rows(other) == BETA_ROWS
    assert "Alfa" not in everything_drawn(other)
    # duo switches company in one session: the same cached function, another company, other rows.
    duo = open_page(signed_in("duo"), "contabilidad")
    assert journal_rows(duo) == ALFA_ROWS
    duo.sidebar.selectbox[0].select("beta").run()
    assert journal_rows(duo) == BETA_ROWS


def test_21_a_new_publication_is_a_new_cache_entry(world):
    at = open_page(signed_in("ana"), "contabilidad")
    assert len(journal_rows(at)) == 5
    write_journal(
        world.settings,
        "alfa",
        ALFA + "28/02/2025;3;6290000;Gasto Alfa tres;50,00;\n28/02/2025;3;5720001;Gasto Alfa tres;;50,00\n",
    )
    [result] = service.load_all(world.settings, companies=["alfa"])
    assert result.outcome == "published"
    at.run()
    assert journal_rows(at)[0] == ("28/02/2025", "3", "6290000", "Gasto Alfa tres", "50,00", "")


def cached_functions() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for path in [*sorted((ROOT / "views").glob("*.py")), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    if isinstance(target, ast.Attribute) and target.attr in ("cache_data", "cache_resource"):
                        found.append((path.name, node))
    return found


def test_21_no_cached_function_hides_a_tenant_argument_from_its_key():
    functions = cached_functions()
    assert any(name == "_journal.py" for name, _ in functions)  # the Diario's cached reads
    for name, node in functions:
        arguments = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
        assert not [a for a in arguments if a.startswith("_")], (name, node.name, arguments)
        if name == "_journal.py":
            assert {"company", "snapshot_id"} <= set(arguments)


# --- 23: a revoked module disappears at the next click -------------------------------------------------------------


def test_23_a_revoked_module_disappears_at_the_next_click(world):
    at = open_page(signed_in("ana"), "contabilidad")
    assert journal_rows(at) == ALFA_ROWS
    access.revoke(world.engine, "ana", "alfa", "contabilidad", actor="test")
    at.run()
    assert not at.exception
    assert journal_rows(at) == [] and "No tiene acceso a esta página." in texts(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/contabilidad.py")
    home = open_page(at, "inicio")
    assert "Contabilidad" not in texts(home) and "Impuestos" in texts(home)


# --- 24: expiry -----------------------------------------------------------------------------------------------------


def set_expiry(engine: Engine, username: str, day) -> None:
    with engine.begin() as conn:
        conn.execute(users.users.update().where(users.users.c.username == username).values(expires_on=day))


def test_24_expired_yesterday_is_refused_and_today_is_still_allowed(world):
    today = clock.today_madrid()
    set_expiry(world.engine, "ana", today)
    at = open_page(signed_in("ana"), "contabilidad")
    assert journal_rows(at) == ALFA_ROWS  # the expiry date is the last day of access
    assert access.guard(world.engine, users.get_user(world.engine, "ana"), "alfa", "contabilidad").module == (
        "contabilidad"
    )
    set_expiry(world.engine, "ana", today - timedelta(days=1))
    at.run()
    assert signin.SESSION_ENDED in texts(at) and journal_rows(at) == []
    refused = sign_in(new_app(), "ana")
    assert [e.value for e in refused.error] == [signin.FAILED] and shows_sign_in_form(refused)
    with pytest.raises(access.AccessDenied):
        access.guard(world.engine, users.get_user(world.engine, "ana"), "alfa", "contabilidad")
    # Seen from tomorrow, today's expiry is over too.
    set_expiry(world.engine, "ana", today)
    with pytest.raises(access.AccessDenied):
        access.guard(
            world.engine, users.get_user(world.engine, "ana"), "alfa", "contabilidad", today=today + timedelta(days=1)
        )


# --- 25: SQL injection through the filters --------------------------------------------------------------------------


INJECTIONS = [
    "'; DROP TABLE journal; --",
    "' OR 1=1 --",
    "read_csv('/etc/passwd')",
    "%",
    "_",
    "\\",
    "') UNION SELECT * FROM read_parquet('../beta/*') --",
]


def test_25_filter_text_is_a_literal(world):
    at = open_page(signed_in("ana"), "contabilidad")
    for text in INJECTIONS:
        at.text_input[0].input(text).run()
        assert not at.exception, text
        assert journal_rows(at) == [], text
        assert "No hay apuntes que cumplan el filtro." in texts(at)
        drawn = everything_drawn(at)
        assert not any(word in drawn for word in ("Error", "Binder", "Parser", "duckdb", "Traceback", "SELECT")), text
    at.text_input[0].input("cobro").run()  # the page still works, accents and case ignored
    assert journal_rows(at) == ALFA_ROWS[:2]
    at.text_input[0].input("477").run()  # an account prefix
    assert journal_rows(at) == [ALFA_ROWS[4]]
    snapshot = world.store().current("alfa")
    assert len(journal.recent_entries(snapshot, text="' OR 1=1 --")) == 0
    assert len(journal.recent_entries(snapshot)) == 5  # the table is still there


# --- 28: no tracebacks ----------------------------------------------------------------------------------------------


def test_28_a_corrupt_snapshot_shows_an_incident_id_and_no_trace(world):
    snapshot = world.store().current("alfa")
    snapshot.file("journal").write_bytes(b"PAR1 this is not a parquet file at all")
    at = open_page(signed_in("ana"), "contabilidad")
    assert not at.exception
    drawn = everything_drawn(at)
    assert "código de incidencia" in drawn
    for leak in ("Traceback", "Error:", "duckdb", "parquet", str(world.settings.data_dir), 'File "', ".py"):
        assert leak not in drawn, leak
    assert journal_rows(at) == []


def test_28_error_details_are_off_in_the_server_config():
    config = (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert 'showErrorDetails = "none"' in config


# --- 36: authentication events are in the audit log -----------------------------------------------------------------


def test_36_sign_in_events_are_logged_with_actor_and_utc_time_and_never_the_password(world):
    start = datetime.now(UTC)
    with world.engine.begin() as conn:
        conn.execute(users.users.update().where(users.users.c.username == "bea").values(max_attempts=2))
    at = sign_in(new_app(), "ana")  # through the form: the sign-in itself is what is logged
    at.sidebar.button[0].click().run()  # «Cerrar sesión»
    wrong = ["primer intento equivocado largo", "segundo intento equivocado largo"]
    for password in wrong:
        sign_in(new_app(), "bea", password)
    sign_in(new_app(), "no-existe", "tercer intento equivocado largo")
    end = datetime.now(UTC)

    rows = audit.entries(world.engine, since=start.date() - timedelta(days=1))
    by_event = {}
    for row in rows:
        by_event.setdefault(row["event"], []).append(row)
    assert [(r["actor"], r["actor_role"]) for r in by_event["sign_in_ok"]] == [("ana", "client")]
    assert [(r["actor"], r["actor_role"]) for r in by_event["sign_out"]] == [("ana", "client")]
    failed = sorted((r["actor"], r["target"]) for r in by_event["sign_in_failed"])
    assert failed == [("", "no-existe"), ("bea", "bea"), ("bea", "bea")]
    [locked] = by_event["account_locked"]
    assert locked["actor"] == "bea" and users.get_user(world.engine, "bea")["locked_at"] is not None
    for row in rows:
        if row["event"] in ("sign_in_ok", "sign_in_failed", "account_locked", "sign_out"):
            assert row["at"].tzinfo is not None and row["at"].utcoffset() == timedelta(0)
            assert start - timedelta(seconds=1) <= row["at"] <= end + timedelta(seconds=1)
        flat = " ".join(str(v) for v in row.values())
        for secret in [PASSWORD, OTHER_PASSWORD, *wrong, "tercer intento equivocado largo"]:
            assert secret not in flat
        assert "$2b$" not in flat


def test_36_a_locked_account_is_refused_with_the_same_words_and_the_refusal_is_logged(world):
    accounts.unlock_user(world.engine, "ana", actor="test")  # a no-op unlock: also an audit row
    with world.engine.begin() as conn:
        conn.execute(users.users.update().where(users.users.c.username == "ana").values(locked_at=clock.now_utc()))
    at = sign_in(new_app(), "ana")
    assert [e.value for e in at.error] == [signin.FAILED]
    [event] = audit.entries(world.engine, actor="ana", event="sign_in_failed")
    assert event["target"] == "ana" and PASSWORD not in event["detail"]
    assert sa.inspect(world.engine).has_table("audit_log")
