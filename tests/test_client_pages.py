"""The client side through AppTest on real stores: navigation from the grants, company selector and stamp,
Contabilidad (filters, Spanish formats, CSV), Mi cuenta, Contacto (a real SMTP server), activation and reset links."""

from __future__ import annotations

import csv
import io
import os
from datetime import date

import pytest

from auth import access, accounts, signin, users
from etl import service
from portal import audit, mail
from portal.db import get_engine
from portal.settings import load_settings
from reports import journal
from tests.smtp_server import SmtpServer, free_port
from tests.test_security import (
    ALFA,
    ALFA_ROWS,
    BETA,
    BETA_ROWS,
    PASSWORD,
    World,
    build_world,
    client,
    denied_events,
    journal_rows,
    make_world,
    new_app,
    open_page,
    request_url_path,
    shows_sign_in_form,
    sign_in,
    signed_in,
    texts,
    write_journal,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("template") / "data"
    build_world(data)
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    return make_world(template, tmp_path, monkeypatch)


@pytest.fixture
def world_on(db_url, tmp_path, monkeypatch) -> World:
    """alfa and beta published and «duo» (contabilidad on both), with the portal database on SQLite or PostgreSQL."""
    for name in [n for n in os.environ if n.startswith("PORTAL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PORTAL_DATABASE_URL", db_url)
    settings = load_settings()
    write_journal(settings, "alfa", ALFA)
    write_journal(settings, "beta", BETA)
    assert [r.outcome for r in service.load_all(settings, companies=["alfa", "beta"])] == ["published", "published"]
    engine = get_engine(settings.db_url)
    client(engine, "duo", {"alfa": ["contabilidad"], "beta": ["contabilidad"]})
    return World(settings, engine)


@pytest.fixture
def smtp(world, monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PORTAL_SMTP_PORT", str(server.port))
        monkeypatch.setenv("PORTAL_OFFICE_EMAIL", "despacho@asesoria.example")
        yield server


def wait_for(predicate, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def button(at, label: str):
    [found] = [b for b in at.button if b.label == label]
    return found


def main_links(at) -> list[str]:
    """The page links a page drew (the sidebar menu's are left out)."""
    return [link.label for link in at.main.get("page_link")]


def sidebar_links(at) -> list[str]:
    """The sidebar menu, top to bottom."""
    return [link.label for link in at.sidebar.get("page_link")]


# --- navigation ----------------------------------------------------------------------------------------------------


def test_a_client_lands_on_inicio_with_the_stamp_and_its_modules(world):
    at = signed_in("ana")
    assert [t.value for t in at.title] == ["Portal del Cliente"]
    shown = texts(at)
    assert "Datos a fecha 20/02/2025" in shown  # the last date of alfa's journal
    assert "Impuestos · Sin datos publicados todavía" in shown
    assert main_links(at) == ["Contabilidad"]
    assert not at.sidebar.selectbox  # one company: no selector
    assert [b.label for b in at.sidebar.button] == ["Cerrar sesión"]


def test_a_client_without_modules_sees_the_notice_and_no_data_page(world):
    client(world.engine, "nadie", {})
    at = signed_in("nadie")
    assert "Su despacho aún no ha activado módulos para su usuario." in texts(at)
    at = request_url_path(at, "contabilidad")
    assert "No tiene acceso a esta página." in texts(at) and journal_rows(at) == []


@pytest.mark.parametrize("url_path", ["cargas", "clientes", "usuarios", "modulos", "auditoria"])
def test_clients_never_open_staff_pages(world, url_path):
    at = request_url_path(signed_in("ana"), url_path)
    assert "No tiene acceso a esta página." in texts(at)
    assert len(at.dataframe) == 0


@pytest.mark.parametrize("url_path", ["contabilidad", "contacto"])  # Mi cuenta is everyone's
def test_staff_never_open_client_pages(world, url_path):
    users.create_user(world.engine, "gestor", PASSWORD, role="staff", name="Gestor")
    at = request_url_path(signed_in("gestor"), url_path)
    assert "No tiene acceso a esta página." in texts(at)
    assert journal_rows(at) == [] and not [t for t in at.text_input if t.label == "Asunto"]


# --- company selector -----------------------------------------------------------------------------------------------


def test_the_selector_switches_company_and_is_remembered_across_pages(world):
    at = open_page(signed_in("duo"), "contabilidad")
    [selector] = at.sidebar.selectbox
    assert selector.label == "Empresa" and selector.options == ["alfa", "beta"]
    assert journal_rows(at) == ALFA_ROWS
    selector.select("beta").run()
    assert journal_rows(at) == BETA_ROWS
    assert "Datos a fecha 05/03/2025" in texts(at)
    open_page(at, "inicio")
    assert "Datos a fecha 05/03/2025" in texts(at)
    open_page(at, "contabilidad")
    assert journal_rows(at) == BETA_ROWS and at.sidebar.selectbox[0].value == "beta"


def test_a_new_session_opens_on_the_company_last_chosen_while_it_is_still_held(world_on):
    """Item 7 of issue 16: the choice is remembered per user server-side (users.last_company), and a remembered
    company the user no longer holds is ignored without an error (nor an access_denied: nobody tampered)."""
    engine = world_on.engine
    at = open_page(signed_in("duo"), "contabilidad")
    assert at.sidebar.selectbox[0].value == "alfa" and journal_rows(at) == ALFA_ROWS
    assert users.get_user(engine, "duo")["last_company"] is None  # nothing written until the user chooses
    at.sidebar.selectbox[0].select("beta").run()
    assert journal_rows(at) == BETA_ROWS
    assert users.get_user(engine, "duo")["last_company"] == "beta"

    again = signed_in("duo")  # a new session of the same user (another browser, or after a reload)
    assert again.sidebar.selectbox[0].value == "beta"
    assert "Datos a fecha 05/03/2025" in texts(again)
    assert journal_rows(open_page(again, "contabilidad")) == BETA_ROWS

    access.revoke(engine, "duo", "beta", "contabilidad", actor="test")
    later = open_page(signed_in("duo"), "contabilidad")
    assert not later.exception and not later.error and not later.warning
    assert not later.sidebar.selectbox  # only alfa is left: no selector
    assert journal_rows(later) == ALFA_ROWS and "Datos a fecha 20/02/2025" in texts(later)
    assert denied_events(engine, "duo") == []


def test_the_company_selector_is_the_first_thing_in_the_sidebar(world):
    at = signed_in("duo")
    kinds = [node.type for node in at.sidebar if node.type in ("selectbox", "caption", "page_link", "button")]
    assert kinds[:3] == ["selectbox", "caption", "page_link"]  # above who is signed in and the whole menu
    assert kinds[-2:] == ["button", "caption"] and at.sidebar.button[0].label == "Cerrar sesión"  # at the bottom,
    assert "AGPL" in at.sidebar.caption[-1].value  # then only the licence notice


def test_the_menu_lists_the_modules_together_and_the_account_pages_last(world):
    client(world.engine, "todo", {"alfa": list(access.MODULES)})
    at = signed_in("todo")
    assert sidebar_links(at) == [
        "Inicio",
        "Laboral",
        "Tesorería",
        "Facturas del despacho",
        "Expedientes",
        "Documentos",
        "Solicitudes de documentación",
        "Diario",
        "Pérdidas y ganancias",
        "Balance de situación",
        "Sumas y saldos",
        "Mayor",
        "Ratios",
        "Cuadres",
        "Umbrales legales",
        "Impuestos",
        "Libros de IVA",
        "Calendario fiscal",
        "Alertas",
        "Mi cuenta",
        "Contacto",
    ]
    headings = [c.value for c in at.sidebar.caption if c.value.startswith("**")]
    assert headings == ["**Contabilidad**", "**Impuestos**", "**Cuenta**"]
    assert sidebar_links(signed_in("ana")) == [
        "Inicio",
        *["Diario", "Pérdidas y ganancias", "Balance de situación", "Sumas y saldos", "Mayor", "Ratios"],
        *["Cuadres", "Umbrales legales", "Impuestos", "Libros de IVA", "Calendario fiscal"],
        *["Alertas", "Mi cuenta", "Contacto"],
    ]


def test_the_sidebar_names_a_user_without_a_name_by_the_username(world):
    users.create_user(world.engine, "sin.nombre", PASSWORD, role="client")
    access.grant(world.engine, "sin.nombre", "alfa", "contabilidad", actor="test")
    at = signed_in("sin.nombre")
    caption = at.sidebar.caption[0].value  # who is signed in, above the menu
    assert caption.replace("\\", "").endswith(" · sin.nombre")
    assert "Hola, sin.nombre." in texts(at)


def test_pages_follow_the_grants_of_the_selected_company(world):
    client(world.engine, "mixta", {"alfa": ["impuestos"], "beta": ["contabilidad"]})
    at = signed_in("mixta")
    assert main_links(at) == []
    assert "Impuestos · Sin datos publicados todavía" in texts(at)
    at.sidebar.selectbox[0].select("beta").run()
    assert main_links(at) == ["Contabilidad"]
    assert journal_rows(open_page(at, "contabilidad")) == BETA_ROWS


def test_the_stamp_says_when_nothing_is_published(world):
    from views import _client

    assert _client.stamp_text(None) == "Sin datos publicados"
    snapshot = world.store().current("alfa")
    assert _client.stamp_text(snapshot).startswith("Datos a fecha 20/02/2025 · carga del ")


# --- Contabilidad ---------------------------------------------------------------------------------------------------


def test_contabilidad_shows_the_latest_entries_and_filters_them(world):
    at = open_page(signed_in("ana"), "contabilidad")
    assert [t.value for t in at.title] == ["Diario"]
    assert "Últimos asientos" in texts(at)
    assert journal_rows(at) == ALFA_ROWS
    at.text_input[0].input("VENTA").run()
    assert journal_rows(at) == ALFA_ROWS[2:]
    at.text_input[0].input("").run()
    at.date_input[0].set_value((date(2025, 2, 1), date(2025, 2, 20))).run()
    assert journal_rows(at) == ALFA_ROWS[:2]
    at.date_input[0].set_value((date(2025, 1, 10), date(2025, 1, 10))).run()
    assert journal_rows(at) == ALFA_ROWS[2:]
    assert not at.exception


def test_recent_entries_limit_text_and_dates(world):
    snapshot = world.store().current("alfa")
    assert len(journal.recent_entries(snapshot, limit=2)) == 2
    frame = journal.recent_entries(snapshot, text="cóbro")
    assert list(frame["account"]) == ["5720001", "4300001"]
    assert [str(v) for v in frame["debit"]] == ["1210.00", "0.00"]
    frame = journal.recent_entries(snapshot, date_from=date(2025, 1, 11), date_to=date(2025, 12, 31))
    assert list(frame["entry"]) == [2, 2]
    assert journal.data_dates(snapshot) == (date(2025, 1, 10), date(2025, 2, 20))


def test_a_page_of_recent_entries_is_the_head_of_the_whole_list_whatever_its_size(world):
    """The newest lines are found from the date of the limit-th one: ties on that date keep file order."""
    snapshot = world.store().current("alfa")
    frame = journal.recent_entries(snapshot, limit=3)
    assert [(str(d), e, a) for d, e, a in zip(frame["date"], frame["entry"], frame["account"], strict=True)] == [
        ("2025-02-20", 2, "5720001"),
        ("2025-02-20", 2, "4300001"),
        ("2025-01-10", 1, "4300001"),
    ]
    whole = journal.recent_entries(snapshot, limit=journal.MAX_LIMIT)
    for limit in range(0, 7):
        page = journal.recent_entries(snapshot, limit=limit)
        assert page.values.tolist() == whole.head(limit).values.tolist(), limit
    later = journal.recent_entries(snapshot, limit=3, date_from=date(2025, 2, 1))
    assert list(later["entry"]) == [2, 2]
    for size in range(1, 6):  # pages of every size, one after the other, are the whole list
        pages = [journal.recent_entries(snapshot, limit=size, offset=n) for n in range(0, 5, size)]
        assert [r for page in pages for r in page.values.tolist()] == whole.values.tolist(), size
    assert journal.recent_entries(snapshot, limit=2, offset=5).empty
    assert journal.count_entries(snapshot) == 5
    assert journal.count_entries(snapshot, text="venta") == 3
    assert journal.count_entries(snapshot, date_from=date(2025, 2, 1)) == 2


def test_the_diario_pages_through_every_line_and_tells_how_many(world, monkeypatch):
    monkeypatch.setattr(journal, "PAGE_SIZE", 2)
    at = open_page(signed_in("ana"), "contabilidad")
    assert [t.value for t in at.title] == ["Diario"]
    assert journal_rows(at) == ALFA_ROWS[:2]
    assert "Apuntes 1 a 2 de 5 que cumplen el filtro" in texts(at)
    assert "página 1 de 3" in texts(at)
    assert at.dataframe[0].value["Tipo"].tolist() == ["Normal", "Normal"]  # the entry type, never blank
    [pager] = [n for n in at.number_input if n.label == "Página (de 3)"]
    pager.set_value(3).run()
    assert journal_rows(at) == ALFA_ROWS[4:] and "Apuntes 5 a 5 de 5" in texts(at)
    at.text_input[0].input("venta").run()  # a new filter starts again at the newest lines
    assert journal_rows(at) == ALFA_ROWS[2:4] and "Apuntes 1 a 2 de 3" in texts(at)
    monkeypatch.setattr(journal, "PAGE_SIZE", 200)
    at.run()
    assert "Se muestran los 3 apuntes que cumplen el filtro" in texts(at) and not at.number_input


def test_the_csv_is_excel_friendly_spanish_and_formula_safe(world):
    snapshot = world.store().current("alfa")
    data = journal.to_csv(journal.recent_entries(snapshot))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Fecha", "Asiento", "Cuenta", "Concepto", "Debe", "Haber", "Tipo"]
    assert rows[1] == ["20/02/2025", "2", "5720001", "Cobro Alfa uno", "1210,00", "", "Normal"]
    assert rows[4] == ["10/01/2025", "1", "7000000", "Venta Alfa uno", "", "1000,00", "Normal"]
    assert len(rows) == 6
    assert journal._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and journal._cell("Cobro") == "Cobro"


def test_the_download_button_is_offered(world):
    at = open_page(signed_in("ana"), "contabilidad")
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Descargar CSV (Excel)"]


# --- Mi cuenta ------------------------------------------------------------------------------------------------------


def change_password(at, current: str, new: str, again: str | None = None):
    form = {t.label: t for t in at.text_input}
    form["Contraseña actual"].input(current)
    form["Nueva contraseña"].input(new)
    form["Repita la nueva contraseña"].input(new if again is None else again)
    button(at, "Cambiar la contraseña").click().run()
    assert not at.exception
    return at


def test_mi_cuenta_refuses_a_wrong_current_password_and_a_weak_new_one(world):
    at = open_page(signed_in("ana"), "cuenta")
    change_password(at, "esta no es la contraseña actual", "una nueva frase de acceso larga")
    assert "La contraseña actual no es correcta." in texts(at)
    assert users.get_user(world.engine, "ana")["failed_attempts"] == 1
    change_password(at, PASSWORD, "corta")
    assert any("15" in e.value for e in at.error)
    change_password(at, PASSWORD, "una nueva frase de acceso larga", "otra cosa distinta y larga")
    assert "Las dos contraseñas nuevas no coinciden." in texts(at)
    assert users.verify(world.engine, "ana", PASSWORD) is not None


def test_mi_cuenta_changes_the_password_and_stays_signed_in(world):
    new = "una nueva frase de acceso larga"
    at = change_password(open_page(signed_in("ana"), "cuenta"), PASSWORD, new)
    assert "Contraseña cambiada" in texts(at)
    at.run()
    assert [t.value for t in at.title] == ["Mi cuenta"]  # still signed in after the next click
    assert shows_sign_in_form(sign_in(new_app(), "ana", PASSWORD))
    assert "Datos a fecha" in texts(sign_in(new_app(), "ana", new))


# --- Contacto -------------------------------------------------------------------------------------------------------


def test_contacto_e_mails_the_office_about_the_selected_company(world, smtp):
    at = open_page(signed_in("duo"), "contacto")
    at.sidebar.selectbox[0].select("beta").run()
    at.text_input[0].input("Duda sobre el IVA")
    at.text_area[0].input("¿Cuándo presentamos el modelo 303?")
    button(at, "Enviar").click().run()
    assert not at.exception
    assert "Mensaje enviado al despacho." in texts(at)
    wait_for(lambda: len(smtp.messages) == 1)
    [message] = smtp.messages
    assert message.rcpt_tos == ["despacho@asesoria.example"]
    assert "Duda sobre el IVA" in message.message["Subject"] and "(beta)" in message.body
    assert "modelo 303" in message.body
    [event] = audit.entries(world.engine, event="contact_message")
    assert (event["actor"], event["company"]) == ("duo", "beta")


def test_contacto_keeps_the_message_when_the_mail_server_is_down_and_says_so(world, monkeypatch):
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PORTAL_SMTP_PORT", str(free_port()))  # nobody listens there
    monkeypatch.setenv("PORTAL_OFFICE_EMAIL", "despacho@asesoria.example")
    at = open_page(signed_in("ana"), "contacto")
    at.text_input[0].input("Consulta")
    at.text_area[0].input("Hola, ¿recibieron el 303?")
    button(at, "Enviar").click().run()
    assert not at.exception
    assert "su mensaje queda guardado y el portal lo enviará en cuanto pueda" in texts(at)
    assert "Mensaje enviado al despacho." not in texts(at)
    [event] = audit.entries(world.engine, event="contact_message")
    assert "en cola" in event["detail"]
    assert mail.waiting_count(world.engine) == 1
    with SmtpServer() as smtp:  # the server is back: the outbox's retry delivers what the client wrote
        [outcome] = mail.retry_due(world.engine, load_settings({**smtp.env()}), force=True)
        assert outcome.sent
        [message] = smtp.wait_for(1)
    assert message.rcpt_tos == ["despacho@asesoria.example"] and "¿recibieron el 303?" in message.body
    assert mail.waiting_count(world.engine) == 0


# --- activation and reset links -------------------------------------------------------------------------------------


def set_password_through(query: dict, password: str, again: str | None = None):
    at = new_app(query)
    assert [t.label for t in at.text_input] == ["Nueva contraseña", "Repita la contraseña"]
    at.text_input[0].input(password)
    at.text_input[1].input(password if again is None else again)
    button(at, "Guardar contraseña").click().run()
    assert not at.exception
    return at


def test_an_activation_link_sets_the_first_password_once(world, smtp):
    access.create_client_user(world.engine, "nuevo", client_code=None, email="nuevo@cliente.example", actor="test")
    access.grant(world.engine, "nuevo", "alfa", "contabilidad", actor="test")
    accounts.send_credentials(load_settings(), world.engine, "nuevo", actor="test")  # with the SMTP server's port
    token = smtp.messages[0].token("activar")
    chosen = "mi primera frase de acceso al portal"
    refused = set_password_through({"activar": token}, chosen, "otra cosa que no coincide")
    assert "Las dos contraseñas no coinciden." in texts(refused)
    at = set_password_through({"activar": token}, chosen)
    assert shows_sign_in_form(at)
    assert "Contraseña guardada" in texts(at) and "activar" not in at.query_params
    assert "Datos a fecha" in texts(sign_in(at, "nuevo", chosen))
    again = set_password_through({"activar": token}, "un segundo intento con el mismo enlace")
    assert accounts.INVALID_LINK in texts(again)


def test_forgot_password_always_answers_the_same_and_the_reset_link_works(world, smtp):
    with world.engine.begin() as conn:
        conn.execute(users.users.update().where(users.users.c.username == "ana").values(email="ana@cliente.example"))
    answers = []
    for identifier in ("nadie@ninguna.example", "ana@cliente.example"):
        at = new_app()
        button(at, "¿Ha olvidado su contraseña?").click().run()
        [field] = [t for t in at.text_input if t.label == "Su usuario o su correo electrónico"]
        field.input(identifier)
        button(at, "Enviarme un enlace").click().run()
        assert not at.exception
        answers.append([s.value for s in at.success])
    assert answers[0] == answers[1] == [acceso_sent()]
    wait_for(lambda: len(smtp.messages) == 1)
    token = smtp.messages[0].token("restablecer")
    new = "una frase nueva tras olvidar la anterior"
    at = set_password_through({"restablecer": token}, new)
    assert "Contraseña guardada" in texts(at)
    assert users.verify(world.engine, "ana", new) is not None and users.verify(world.engine, "ana", PASSWORD) is None
    assert signin.FAILED not in texts(at)


def acceso_sent() -> str:
    from views import acceso

    return acceso.RESET_SENT
