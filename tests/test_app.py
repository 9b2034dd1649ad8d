"""The app through AppTest: sign-in, the per-rerun gate, per-role navigation and «Cargas de datos» on a real store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from auth import signin, users
from etl import jobs, service
from etl.store import Store, StoreError
from portal import clock
from portal.db import companies, get_engine, sessions
from portal.settings import Settings, load_settings
from tests.app_cookies import give_session, sign_in_with_form

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "una frase de acceso bastante larga"
HEADER = "fecha;asiento;cuenta;concepto;debe;haber\n"
ACME_V1 = HEADER + (
    "15/01/2025;1;4300001;Factura 1;1.210,00;\n"
    "15/01/2025;1;7000000;Factura 1;;1.000,00\n"
    "15/01/2025;1;4770000;Factura 1;;210,00\n"
)
ACME_V2 = ACME_V1 + ("20/02/2025;2;5720001;Cobro factura 1;1.210,00;\n20/02/2025;2;4300001;Cobro factura 1;;1.210,00\n")
UNBALANCED = HEADER + ("31/01/2025;7;6290000;Gastos varios;1.000,00;\n31/01/2025;7;5720001;Gastos varios;;999,99\n")


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    """A data dir in tmp (the app reads PORTAL_* from the environment), a staff user and acme published."""
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    for name in [n for n in os.environ if n.startswith("PORTAL_") and n != "PORTAL_DATA_DIR"]:
        monkeypatch.delenv(name)
    current = load_settings()
    write_journal(current, "acme", ACME_V1)
    [result] = service.load_all(current, companies=["acme"])
    assert result.outcome == "published", result.message
    users.create_user(engine(current), "ana", PASSWORD, role="staff", name="Ana García")
    return current


def engine(settings: Settings):
    return get_engine(settings.db_url)


def write_journal(settings: Settings, code: str, text: str) -> None:
    folder = settings.sources / code
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "diario.csv").write_text(text, encoding="utf-8")


def current_id(settings: Settings, code: str = "acme") -> str | None:
    snapshot = Store(settings.stores).current(code)
    return snapshot.snapshot_id if snapshot else None


def new_app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def sign_in(at: AppTest, username: str = "ana", password: str = PASSWORD) -> AppTest:
    """Through the form (password, second factor when asked) and the cookie hand-off, as a browser does."""
    sign_in_with_form(at, username, password)
    assert not at.exception, at.exception
    return at


def signed_in(username: str = "ana") -> AppTest:
    """A fresh app whose browser holds a session of ``username`` (as after a full sign-in)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    give_session(at, username)
    at.run()
    assert not at.exception, at.exception
    return at


def request_url_path(at: AppTest, url_path: str) -> AppTest:
    """Ask for a page by its URL path, as a browser does for /<url_path> (st.Page hashes its url_path)."""
    at._page_hash = calc_hash(url_path)
    return at.run()


def texts(at: AppTest) -> str:
    """Every text the run drew (titles, markdown, alerts, captions), markdown escapes removed."""
    parts = [
        e.value
        for kind in ("title", "subheader", "markdown", "caption", "info", "error", "warning", "success")
        for e in getattr(at, kind)
    ]
    parts += [e.value for e in at.sidebar.caption]
    return "\n".join(str(p) for p in parts).replace("\\", "")


def shows_sign_in_form(at: AppTest) -> bool:
    return [t.label for t in at.text_input] == ["Usuario", "Contraseña"]


def button(at: AppTest, label: str):
    [found] = [b for b in at.button if b.label == label]
    return found


def company_table(at: AppTest) -> list[dict]:
    return at.dataframe[0].value.to_dict("records")


def table_with(at: AppTest, column: str):
    """The first table on the page with ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


# --- signed out -----------------------------------------------------------------------------------------------


def test_signed_out_shows_the_branded_sign_in_form_and_no_staff_page(settings):
    at = new_app()
    assert shows_sign_in_form(at)
    assert "Portal del Cliente" in texts(at) and settings.firm_name in texts(at)
    assert "Cargas de datos" not in texts(at)
    assert len(at.dataframe) == 0
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/cargas.py")


def test_asking_for_cargas_signed_out_runs_a_stub_not_the_page(settings):
    at = request_url_path(new_app(), "cargas")
    assert not at.exception
    assert shows_sign_in_form(at)
    assert "Cargas de datos" not in texts(at) and len(at.dataframe) == 0


def test_the_page_itself_refuses_a_session_without_a_user(settings):
    at = AppTest.from_file(str(ROOT / "views" / "cargas.py"), default_timeout=30).run()
    assert "No tiene acceso a esta página." in texts(at)
    assert len(at.dataframe) == 0


def test_wrong_password_and_unknown_user_get_the_same_neutral_message(settings):
    wrong = sign_in(new_app(), "ana", PASSWORD + "!")
    unknown = sign_in(new_app(), "nadie", PASSWORD)
    assert [e.value for e in wrong.error] == [signin.FAILED]
    assert [e.value for e in unknown.error] == [signin.FAILED]
    assert shows_sign_in_form(wrong) and "Cargas de datos" not in texts(wrong)
    assert users.get_user(engine(settings), "ana")["failed_attempts"] == 1


def test_lockout_persists_across_sessions_and_beats_the_right_password(settings):
    with engine(settings).begin() as conn:
        conn.execute(users.users.update().values(max_attempts=3))
    for _ in range(3):
        at = sign_in(new_app(), "ana", "contraseña equivocada")
        assert [e.value for e in at.error] == [signin.FAILED]
    assert users.get_user(engine(settings), "ana")["locked_at"] is not None
    at = sign_in(new_app(), "ana", PASSWORD)
    assert [e.value for e in at.error] == [signin.FAILED]  # same words: no hint that the account exists
    assert shows_sign_in_form(at) and "Cargas de datos" not in texts(at)
    assert users.get_user(engine(settings), "ana")["failed_attempts"] == 4  # every attempt counted, none checked
    users.unlock(engine(settings), "ana")
    assert "Cargas de datos" in texts(sign_in(new_app(), "ana", PASSWORD))


# --- signed in ------------------------------------------------------------------------------------------------


def test_right_password_opens_cargas_with_the_published_snapshot(settings):
    at = sign_in(new_app())  # staff: the form asks to enrol a second factor first, then hands the cookie over
    assert "Cargas de datos" in [t.value for t in at.title]
    [row] = company_table(at)
    assert row["Empresa"] == "acme"
    assert row["Versión publicada"] == current_id(settings)
    assert row["Líneas del diario"] == "3"
    assert row["Publicación"] == "Automático" and row["Pendiente de publicar"] == "—"
    assert [b.label for b in at.sidebar.button] == ["Cerrar sesión"]
    assert "Ana García" in texts(at)
    [journal] = table_with(at, "Formato").to_dict("records")  # what the load detected in the journal file
    assert (journal["Formato"], journal["Codificación"], journal["Líneas"]) == ("Formato del portal", "utf-8", "3")
    assert users.get_user(engine(settings), "ana")["last_login_at"] is not None


def test_publish_pending_publishes_the_staged_snapshot(settings):
    service.set_publish_mode(settings, "acme", "manual", actor="test")
    write_journal(settings, "acme", ACME_V2)
    [result] = service.load_all(settings, companies=["acme"])
    assert result.outcome == "staged"
    before = current_id(settings)
    at = signed_in()
    assert company_table(at)[0]["Pendiente de publicar"] == result.snapshot_id
    button(at, "Publicar pendiente").click().run()
    assert not at.exception
    assert current_id(settings) == result.snapshot_id != before
    assert company_table(at)[0]["Pendiente de publicar"] == "—"
    assert f"publicada la versión {result.snapshot_id}" in texts(at)


def test_rollback_asks_for_confirmation_then_goes_back(settings):
    first = current_id(settings)
    write_journal(settings, "acme", ACME_V2)
    [result] = service.load_all(settings, companies=["acme"])
    assert result.outcome == "published" and current_id(settings) == result.snapshot_id
    at = signed_in()
    button(at, "Volver a la versión anterior").click().run()
    assert current_id(settings) == result.snapshot_id  # nothing happens before the confirmation
    assert any("dejarán de ver" in w.value for w in at.warning)
    button(at, "Cancelar").click().run()
    assert current_id(settings) == result.snapshot_id
    button(at, "Volver a la versión anterior").click().run()
    button(at, "Sí, volver a la versión anterior").click().run()
    assert not at.exception
    assert current_id(settings) == first
    assert company_table(at)[0]["Versión publicada"] == first


def test_the_publish_mode_is_editable(settings):
    at = signed_in()
    at.radio[0].set_value("manual").run()
    assert not at.exception
    with engine(settings).connect() as conn:
        mode = conn.execute(sa.select(companies.c.publish_mode).where(companies.c.code == "acme")).scalar_one()
    assert mode == "manual"
    assert company_table(at)[0]["Publicación"] == "Manual"


def test_load_now_queues_a_load_that_a_worker_runs(settings):
    before = current_id(settings)
    write_journal(settings, "acme", ACME_V2)
    at = signed_in()
    button(at, "Cargar ahora").click().run()
    assert not at.exception
    assert current_id(settings) == before  # queued, not run inside the web process
    assert "acme: carga en cola" in at.success[0].value.replace("\\", "")
    queue = table_with(at, "Pedida por")
    assert list(queue["Estado"]) == ["en cola"] and list(queue["Empresas"]) == ["acme"]
    assert list(queue["Pedida por"]) == ["ana"]
    button(at, "Cargar ahora").click().run()
    assert "ya había una carga en cola" in at.success[0].value.replace("\\", "")
    assert len(jobs.pending_loads(settings)) == 1
    assert jobs.drain(settings) == 1  # the worker's side of the queue, in this process
    button(at, "Actualizar").click().run()
    assert current_id(settings) != before
    latest = service.recent_runs(settings, limit=1)[0]
    assert latest["trigger"] == "portal" and latest["outcome"] == "published"
    assert company_table(at)[0]["Líneas del diario"] == "5"
    assert "No hay cargas en cola ni en curso." in [c.value for c in at.caption]


def test_every_validation_message_of_a_run_is_listed(settings):
    write_journal(settings, "beta", UNBALANCED)
    [result] = service.load_all(settings, companies=["beta"])
    assert result.outcome == "rejected"
    at = signed_in()
    runs = table_with(at, "Resultado")
    assert list(runs["Empresa"])[:2] == ["beta", "acme"]
    assert list(runs["Resultado"])[:2] == ["rechazada", "publicada"]
    [picker] = [s for s in at.selectbox if s.label.startswith("Mensajes")]
    picker.set_value(result.run_id).run()
    problems = table_with(at, "Gravedad")
    expected = service.run_problems(settings, result.run_id)
    assert len(problems) == len(expected) >= 1
    assert list(problems["Mensaje"]) == [p["message"] for p in expected]
    assert "Error" in set(problems["Gravedad"])


def test_known_errors_show_their_message_and_others_an_incident_id(settings, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise StoreError("La empresa acme está siendo cargada por otro proceso")

    def crash(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    service.set_publish_mode(settings, "acme", "manual", actor="test")
    write_journal(settings, "acme", ACME_V2)
    service.load_all(settings, companies=["acme"])
    at = signed_in()
    monkeypatch.setattr(service, "publish_pending", refuse)
    button(at, "Publicar pendiente").click().run()
    assert "La empresa acme está siendo cargada por otro proceso" in texts(at)
    monkeypatch.setattr(service, "company_statuses", crash)
    at.run()
    assert not at.exception
    assert "código de incidencia" in texts(at)
    assert "secret internal detail" not in texts(at) and "RuntimeError" not in texts(at)


# --- the gate on every rerun ----------------------------------------------------------------------------------


def test_a_deactivated_user_is_thrown_out_on_the_next_rerun(settings):
    at = signed_in()
    assert "Cargas de datos" in texts(at)
    users.set_active(engine(settings), "ana", False)
    at.run()
    assert not at.exception
    assert signin.SESSION_ENDED in texts(at)
    assert "Cargas de datos" not in texts(at) and len(at.dataframe) == 0
    at.run()
    assert shows_sign_in_form(at) and "Cargas de datos" not in texts(at)


def test_an_expired_user_is_thrown_out_too(settings):
    at = signed_in()
    with engine(settings).begin() as conn:
        conn.execute(users.users.update().values(expires_on=clock.today_madrid().replace(year=2000)))
    at.run()
    assert signin.SESSION_ENDED in texts(at) and len(at.dataframe) == 0


def test_sign_out_revokes_the_sessions_and_a_later_visit_to_cargas_shows_the_form(settings):
    at = signed_in()
    at.sidebar.button[0].click().run()
    with engine(settings).connect() as conn:
        [(revoked_at, reason)] = conn.execute(sa.select(sessions.c.revoked_at, sessions.c.revoked_reason)).all()
    assert revoked_at is not None and reason == "signed_out"
    at = request_url_path(at, "cargas")  # the same cookie, replayed: its session is over
    assert shows_sign_in_form(at)
    assert "Cargas de datos" not in texts(at) and len(at.dataframe) == 0
    assert "Cargas de datos" in texts(sign_in(at))  # and signing in again works


def test_a_client_user_gets_no_staff_page(settings):
    users.create_user(engine(settings), "cliente1", PASSWORD, role="client", name="Cliente Uno")
    at = signed_in("cliente1")
    assert "Su despacho aún no ha activado módulos para su usuario." in texts(at)
    assert "Cargas de datos" not in [t.value for t in at.title] and len(at.dataframe) == 0
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/cargas.py")
    at = request_url_path(at, "cargas")
    assert "No tiene acceso a esta página." in texts(at)
    assert len(at.dataframe) == 0


def test_no_pages_folder_next_to_the_entry_script():
    # With a pages/ folder beside app.py, Streamlit 1.67 runs the first script run of a server process (and every
    # AppTest run) in its legacy multipage mode, where pages/<name>.py opens at /<name> without app.py's gate.
    assert not (ROOT / "pages").exists()


def test_every_page_names_the_licence_and_links_the_source_when_configured(settings, monkeypatch):
    def notices(at: AppTest) -> list[str]:
        return [c.value for c in [*at.caption, *at.sidebar.caption] if "AGPL" in c.value]

    assert notices(new_app()) == ["Portal del Cliente, software libre (licencia AGPL-3.0 o posterior)"]
    monkeypatch.setenv("PORTAL_SOURCE_URL", "https://git.example.es/despacho/portal-del-cliente")
    assert notices(new_app()) == [
        "Portal del Cliente, software libre (licencia AGPL-3.0 o posterior)"
        " · [Código fuente](https://git.example.es/despacho/portal-del-cliente)"
    ]
    assert notices(sign_in(new_app()))[0].endswith("(https://git.example.es/despacho/portal-del-cliente)")
    monkeypatch.setenv("PORTAL_SOURCE_URL", "javascript:alert(1)")  # only http(s) addresses become a link
    assert "javascript" not in " ".join(notices(new_app()))
