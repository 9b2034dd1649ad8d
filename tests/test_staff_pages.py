"""The office's pages through AppTest: clients and companies, users, modules and the audit log; clients kept out."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from auth import access, users
from etl import service
from portal import audit, clock
from portal.db import companies, get_engine
from portal.settings import Settings, load_settings
from tests.app_cookies import give_session
from tests.smtp_server import SmtpServer, free_port
from views import _staff

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "una frase de acceso bastante larga"
HEADER = "fecha;asiento;cuenta;concepto;debe;haber\n"
JOURNAL = HEADER + (
    "15/01/2025;1;4300001;Factura 1;1.210,00;\n"
    "15/01/2025;1;7000000;Factura 1;;1.000,00\n"
    "15/01/2025;1;4770000;Factura 1;;210,00\n"
)
PAGES = {
    "clientes": ("views/clientes.py", "Clientes y empresas"),
    "usuarios": ("views/usuarios.py", "Usuarios del portal"),
    "modulos": ("views/modulos.py", "Módulos"),
    "auditoria": ("views/auditoria.py", "Auditoría"),
    "correo": ("views/correo.py", "Correo"),
}


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    """A data dir in tmp, two published companies (acme, beta) and the staff user ana."""
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    for name in [n for n in os.environ if n.startswith("PORTAL_") and n != "PORTAL_DATA_DIR"]:
        monkeypatch.delenv(name)
    current = load_settings()
    for code in ("acme", "beta"):
        folder = current.sources / code
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "diario.csv").write_text(JOURNAL, encoding="utf-8")
    results = service.load_all(current)
    assert [r.outcome for r in results] == ["published", "published"]
    users.create_user(engine(current), "ana", PASSWORD, role="staff", name="Ana García")
    return current


def engine(settings: Settings):
    return get_engine(settings.db_url)


def with_client(settings: Settings) -> None:
    """The client «grupo» linked to acme and beta, with the client user «luis» (no password yet)."""
    access.create_client(engine(settings), "grupo", "Grupo Levante", "B12345674", actor="test")
    for code in ("acme", "beta"):
        access.link_company(engine(settings), "grupo", code, actor="test")
    access.create_client_user(
        engine(settings), "luis", client_code="grupo", email="luis@cliente.es", name="Luis Pérez", actor="test"
    )


def signed_in(username: str = "ana") -> AppTest:
    """A fresh app whose browser holds a session of ``username`` (as after a full sign-in)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    give_session(at, username)
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(name: str) -> AppTest:
    at = signed_in()
    at.switch_page(PAGES[name][0]).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == [PAGES[name][1]]
    return at


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("title", "subheader", "markdown", "caption", "info", "error", "warning", "success")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts).replace("\\", "")


def widget(at: AppTest, kind: str, label: str):
    [found] = [w for w in getattr(at, kind) if w.label == label]
    return found


def click(at: AppTest, label: str) -> AppTest:
    widget(at, "button", label).click().run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest, index: int = 0) -> list[dict]:
    return at.dataframe[index].value.to_dict("records")


def events(settings: Settings, event: str) -> list[dict]:
    return audit.entries(engine(settings), event=event)


# --- Clientes y empresas ------------------------------------------------------------------------------------------


def test_staff_create_a_client_after_a_nif_error_then_link_and_unlink_companies(settings):
    at = open_page("clientes")
    assert "No hay clientes." in texts(at)
    widget(at, "text_input", "Código del cliente").input("grupo")
    widget(at, "text_input", "Nombre o razón social").input("Grupo Levante")
    widget(at, "text_input", "NIF").input("B12345678")
    click(at, "Crear cliente")
    assert "NIF no válido: «B12345678»" in texts(at)
    assert access.list_clients(engine(settings)) == []

    widget(at, "text_input", "NIF").input("B12345674")  # the form kept the other fields
    click(at, "Crear cliente")
    assert "Cliente grupo creado." in texts(at)
    [client] = access.list_clients(engine(settings))
    assert (client["code"], client["name"], client["nif"]) == ("grupo", "Grupo Levante", "B12345674")
    assert table(at) == [
        {"Código": "grupo", "Nombre": "Grupo Levante", "NIF": "B12345674", "Empresas": "—", "Usuarios": "0"}
    ]

    picker = widget(at, "multiselect", "Empresas a vincular")
    assert picker.options == ["acme — acme", "beta — beta"]
    picker.set_value(["acme", "beta"]).run()
    click(at, "Vincular")
    assert access.client_companies(engine(settings), "grupo") == ["acme", "beta"]
    assert table(at)[0]["Empresas"] == "acme, beta"
    assert widget(at, "multiselect", "Empresas a vincular").options == []  # linked ones are not offered again

    widget(at, "selectbox", "Empresa a desvincular").set_value("beta")
    click(at, "Desvincular")
    assert access.client_companies(engine(settings), "grupo") == ["acme"]
    assert [e["company"] for e in events(settings, "client_company_unlinked")] == ["beta"]

    widget(at, "text_input", "Buscar").input("levante").run()
    assert len(table(at)) == 1
    widget(at, "text_input", "Buscar").input("otro cliente").run()
    assert "Ningún cliente coincide con la búsqueda." in texts(at) and len(at.dataframe) == 0


# --- Usuarios del portal ------------------------------------------------------------------------------------------


def test_staff_create_a_user_without_any_password_field_and_the_link_is_e_mailed(settings, monkeypatch):
    with_client(settings)
    with SmtpServer() as smtp:
        for name, value in smtp.env().items():
            monkeypatch.setenv(name, value)
        at = open_page("usuarios")
        assert table(at)[0]["Estado"] == "sin activar"
        labels = [t.label for t in at.text_input]
        assert not any("ontraseña" in label for label in labels)
        assert all(t.proto.type != t.proto.PASSWORD for t in at.text_input)
        at.text_input(key="nuevo-codigo").input("Marta")
        at.text_input(key="nuevo-nombre").input("Marta Ruiz")
        at.text_input(key="nuevo-correo").input("marta@cliente.es")
        at.text_input(key="nuevo-despacho").input("gestor@despacho.es")
        at.date_input(key="nuevo-caduca").set_value(date(2030, 12, 31))
        at.number_input(key="nuevo-intentos").set_value(3)
        click(at, "Crear usuario")
        assert "Usuario marta creado. Credenciales enviadas a marta." in texts(at)
        [message] = smtp.wait_for(1)
        widget(at, "selectbox", "Usuario").set_value("marta").run()
        click(at, "Reenviar credenciales")
        resent = smtp.wait_for(2)[1]
    assert "Credenciales enviadas a marta." in texts(at)
    assert resent.rcpt_tos == ["marta@cliente.es"] and resent.token("activar") != message.token("activar")
    assert [e["target"] for e in events(settings, "credentials_sent")] == ["marta", "marta"]
    created = users.get_user(engine(settings), "marta")
    assert created["password_hash"] is None and created["role"] == "client"
    assert (created["email"], created["office_email"], created["max_attempts"]) == (
        "marta@cliente.es",
        "gestor@despacho.es",
        3,
    )
    assert created["expires_on"] == date(2030, 12, 31)
    assert access.client_of(engine(settings), created["id"]) == "grupo"
    assert message.rcpt_tos == ["marta@cliente.es"] and message.token("activar")
    row = next(r for r in table(at) if r["Usuario"] == "marta")
    assert (row["Estado"], row["Cliente"], row["Caduca"]) == ("sin activar", "grupo", "31/12/2030")


def test_an_unreachable_mail_server_queues_the_credentials_says_so_and_correo_delivers_them(settings, monkeypatch):
    with_client(settings)
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PORTAL_SMTP_PORT", str(free_port()))  # nobody listens there
    at = open_page("usuarios")
    click(at, "Reenviar credenciales")
    [warning] = [w.value.replace("\\", "") for w in at.warning]
    assert warning.startswith("El servidor de correo no lo ha aceptado ahora (No se pudo conectar con el servidor")
    assert "queda en cola (página Correo)" in warning
    [event] = events(settings, "credentials_sent")
    assert "en cola" in event["detail"]
    assert users.get_user(engine(settings), "luis")["password_hash"] is None
    at = open_page("correo")
    [row] = table(at)
    assert (row["Tipo"], row["Para"], row["Estado"], row["Intentos"]) == (
        "Credenciales",
        "luis@cliente.es",
        "En cola",
        1,
    )
    assert "No se pudo conectar" in row["Motivo del último fallo"]
    with SmtpServer() as smtp:  # the server is back: «Reintentar ahora» delivers the link, once
        monkeypatch.setenv("PORTAL_SMTP_PORT", str(smtp.port))
        click(at, "Reintentar ahora")
        [message] = smtp.wait_for(1)
    assert message.rcpt_tos == ["luis@cliente.es"] and message.token("activar")
    assert "Enviados 1 de 1 mensajes en cola." in [s.value.replace("\\", "") for s in at.success]
    [row] = table(at)
    assert (row["Estado"], row["Intentos"]) == ("Enviado", 2)


def test_staff_unlock_edit_log_out_and_deactivate_a_user(settings):
    with_client(settings)
    locked_at = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    with engine(settings).begin() as conn:
        conn.execute(
            users.users.update()
            .where(users.users.c.username == "luis")
            .values(password_hash="x", failed_attempts=5, locked_at=locked_at)
        )
    at = open_page("usuarios")
    [row] = table(at)
    assert row["Estado"] == "bloqueado desde 02/03/2026 10:15 (tras 5 intentos fallidos)"  # Madrid time

    click(at, "Desbloquear")
    luis = users.get_user(engine(settings), "luis")
    assert (luis["failed_attempts"], luis["locked_at"]) == (0, None)
    assert [(e["actor"], e["target"]) for e in events(settings, "unlock")] == [("ana", "luis")]
    assert "Usuario luis desbloqueado." in texts(at) and table(at)[0]["Estado"] == "activo"

    at.text_input(key="ed-nombre-luis").input("Luis Pérez Gil")
    at.number_input(key="ed-intentos-luis").set_value(8)
    at.date_input(key="ed-caduca-luis").set_value(date(2031, 1, 15))
    click(at, "Guardar cambios")
    luis = users.get_user(engine(settings), "luis")
    assert (luis["name"], luis["max_attempts"], luis["email"]) == ("Luis Pérez Gil", 8, "luis@cliente.es")
    assert luis["expires_on"] == date(2031, 1, 15) and table(at)[0]["Caduca"] == "15/01/2031"
    at.checkbox(key="ed-sincad-luis").check()
    click(at, "Guardar cambios")
    assert users.get_user(engine(settings), "luis")["expires_on"] is None

    click(at, "Cerrar sesiones")
    assert users.get_user(engine(settings), "luis")["tokens_valid_after"] is not None
    assert [e["target"] for e in events(settings, "sessions_revoked")] == ["luis"]

    click(at, "Desactivar")
    luis = users.get_user(engine(settings), "luis")
    assert luis["active"] is False and luis["tokens_valid_after"] is not None
    assert [e["target"] for e in events(settings, "user_deactivated")] == ["luis"]
    assert table(at)[0]["Estado"] == "desactivado"
    click(at, "Reactivar")
    assert users.get_user(engine(settings), "luis")["active"] is True


# --- Módulos ------------------------------------------------------------------------------------------------------


def test_staff_set_modules_per_company_and_the_grants_are_in_the_database(settings):
    with_client(settings)
    at = open_page("modulos")
    assert "siguiente clic del usuario" in texts(at)
    assert [s.value for s in at.subheader] == ["acme — acme", "beta — beta"]
    for module in ("expedientes", "laboral", "contabilidad"):
        at.checkbox(key=f"mod-luis-acme-{module}").check()
    at.radio(key="casos-luis-acme").set_value("open")
    at.multiselect(key="tablas-luis-acme").set_value([])
    at.button[[b.label for b in at.button].index("Guardar")].click().run()  # acme's form comes first
    assert "Laboral: elija al menos una tabla laboral" in texts(at)
    assert access.grants_of(engine(settings), "luis") == []  # nothing saved on an error

    at.multiselect(key="tablas-luis-acme").set_value(["altas_bajas", "resumen_nominas"])
    at.button[[b.label for b in at.button].index("Guardar")].click().run()
    assert not at.exception
    assert access.grants_of(engine(settings), "luis") == [
        access.Grant("acme", "expedientes", {"cases": "open"}),
        access.Grant("acme", "laboral", {"tables": ["resumen_nominas", "altas_bajas"]}),
        access.Grant("acme", "contabilidad", {}),
    ]
    assert publish_modes(settings) == {"acme": "auto", "beta": "auto"}
    assert "Módulos de luis en acme guardados." in texts(at)

    at.checkbox(key="mod-luis-acme-laboral").uncheck()
    at.button[[b.label for b in at.button].index("Guardar")].click().run()
    assert [g.module for g in access.grants_of(engine(settings), "luis")] == ["expedientes", "contabilidad"]


def publish_modes(settings: Settings) -> dict[str, str]:
    with engine(settings).connect() as conn:
        return dict(conn.execute(sa.select(companies.c.code, companies.c.publish_mode)).all())


def test_the_publish_mode_is_the_companys_own_form_and_a_users_modules_never_change_it(settings):
    """Item 10 of issue 16: saving one user's modules never touches the company's publish mode (for all its
    users); the company's own form, and only its button, changes it."""
    with_client(settings)
    at = open_page("modulos")
    assert [h.value for h in at.header] == ["Publicación de la contabilidad", "Módulos de luis"]
    assert [r.label for r in at.radio if r.key.startswith("modo-")] == ["acme — acme", "beta — beta"]
    assert [f.key for f in at.get("form")] == [
        "publicacion-acme",
        "cuadres-acme",
        "publicacion-beta",
        "cuadres-beta",
        "modulos-luis-acme",
        "modulos-luis-beta",
    ]
    at.radio(key="modo-acme-auto").set_value("manual")  # changed, but its form not sent
    at.checkbox(key="mod-luis-acme-contabilidad").check()
    at.button[[b.label for b in at.button].index("Guardar")].click().run()
    assert not at.exception
    assert [(g.company, g.module) for g in access.grants_of(engine(settings), "luis")] == [("acme", "contabilidad")]
    assert publish_modes(settings) == {"acme": "auto", "beta": "auto"}
    assert events(settings, "publish_mode_changed") == []

    at.radio(key="modo-acme-auto").set_value("manual")
    form_button(at, "publicacion-acme").click().run()
    assert not at.exception
    assert publish_modes(settings) == {"acme": "manual", "beta": "auto"}
    assert "Publicación de acme: manual (cuando la publique el despacho)." in texts(at)
    assert [(g.company, g.module) for g in access.grants_of(engine(settings), "luis")] == [("acme", "contabilidad")]
    assert at.radio(key="modo-acme-manual").value == "manual"  # the form shows the saved mode

    other = open_page("modulos")  # another staff session: saving a user's modules keeps the mode as it is
    other.checkbox(key="mod-luis-acme-impuestos").check()
    other.button[[b.label for b in other.button].index("Guardar")].click().run()
    assert publish_modes(settings) == {"acme": "manual", "beta": "auto"}


def form_button(at: AppTest, form_key: str):
    """The submit button of one form."""
    [form] = [f for f in at.get("form") if f.key == form_key]
    [button] = form.button
    return button


# --- Auditoría ----------------------------------------------------------------------------------------------------


def test_the_audit_page_filters_by_event_and_the_csv_holds_exactly_those_rows(settings, monkeypatch):
    with_client(settings)
    audit.record(engine(settings), "sign_in_failed", actor="=HYPERLINK(1)", detail="usuario desconocido")
    for _ in range(2):
        audit.record(engine(settings), "unlock", actor="ana", actor_role="staff", target="luis")
    downloads: list[bytes] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, data, mimetype, kind, filename=None):
        downloads.append(data)
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    at = open_page("auditoria")
    everything = audit.entries(engine(settings))
    assert len(table(at)) == len(everything) >= 7
    csv_rows = list(csv.reader(io.StringIO(downloads[-1].decode("utf-8-sig")), delimiter=";"))
    assert len(csv_rows) == len(everything) + 1
    assert "'=HYPERLINK(1)" in [row[1] for row in csv_rows]  # Excel will not run it as a formula

    widget(at, "selectbox", "Evento").set_value("unlock").run()
    rows = table(at)
    assert [(r["Evento"], r["Usuario"], r["Rol"], r["Objeto"]) for r in rows] == [
        ("Desbloqueo", "ana", "Despacho", "luis")
    ] * 2
    data = downloads[-1]
    assert data.startswith(b"\xef\xbb\xbf")
    csv_rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert csv_rows[0] == ["Fecha y hora", "Usuario", "Rol", "Evento", "Empresa", "Objeto", "Detalle"]
    assert csv_rows[1:] == [list(r.values()) for r in rows]

    widget(at, "selectbox", "Evento").set_value("client_company_linked").run()
    assert sorted(r["Empresa"] for r in table(at)) == ["acme", "beta"]
    widget(at, "selectbox", "Empresa").set_value("beta").run()
    assert [r["Empresa"] for r in table(at)] == ["beta"]
    today = clock.today_madrid()
    widget(at, "date_input", "Desde").set_value(today - timedelta(days=60))
    widget(at, "date_input", "Hasta").set_value(today - timedelta(days=1)).run()
    assert "Ningún evento coincide con los filtros." in texts(at)
    assert list(csv.reader(io.StringIO(downloads[-1].decode("utf-8-sig")), delimiter=";"))[1:] == []


# --- who may open them --------------------------------------------------------------------------------------------


def test_a_client_user_can_open_none_of_the_office_pages(settings):
    users.create_user(engine(settings), "cliente1", PASSWORD, role="client", name="Cliente Uno")
    at = signed_in("cliente1")
    for url_path, (path, title) in PAGES.items():
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(path)
        at._page_hash = calc_hash(url_path)  # as a browser asking for /<url_path>
        at.run()
        assert not at.exception
        assert "No tiene acceso a esta página." in texts(at)
        assert title not in [t.value for t in at.title]
        assert len(at.dataframe) == len(at.text_input) == len(at.selectbox) == len(at.download_button) == 0


@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_refuses_a_session_without_a_staff_user(settings, name):
    at = AppTest.from_file(str(ROOT / PAGES[name][0]), default_timeout=30).run()
    assert [e.value for e in at.error] == ["No tiene acceso a esta página."]
    assert len(at.dataframe) == len(at.text_input) == 0


# --- helpers without Streamlit ------------------------------------------------------------------------------------


def test_search_matches_every_word_in_any_field():
    assert _staff.matches("", "x")
    assert _staff.matches("grupo LEV", "grupo", "Grupo Levante")
    assert not _staff.matches("grupo norte", "grupo", "Grupo Levante", None)


def test_state_labels():
    base = dict(
        active=True,
        password_hash="x",
        failed_attempts=0,
        max_attempts=5,
        locked_at=None,
        expires_on=None,
    )
    today = date(2026, 6, 1)
    assert _staff.state_label(base, today=today) == "activo"
    assert _staff.state_label({**base, "password_hash": None}, today=today) == "sin activar"
    assert _staff.state_label({**base, "active": False}, today=today) == "desactivado"
    assert _staff.state_label({**base, "expires_on": date(2026, 5, 31)}, today=today) == "caducado el 31/05/2026"
    locked = {**base, "failed_attempts": 1, "max_attempts": 1, "locked_at": datetime(2026, 1, 5, 23, 30)}
    assert _staff.state_label(locked, today=today) == "bloqueado desde 06/01/2026 00:30 (tras 1 intento fallido)"


def test_chosen_modules_keep_options_only_for_checked_modules():
    checked = {"impuestos": True, "laboral": False, "expedientes": True}
    assert _staff.chosen_modules(checked, "closed", []) == {"expedientes": {"cases": "closed"}, "impuestos": {}}
    with pytest.raises(access.AccessError, match="al menos una tabla"):
        _staff.chosen_modules({"laboral": True}, "both", [])


def test_csv_cells_never_start_a_formula():
    assert [_staff.csv_cell(v) for v in ("=1+1", "+34", "-5", "@x", "normal", "—")] == [
        "'=1+1",
        "'+34",
        "'-5",
        "'@x",
        "normal",
        "—",
    ]


def test_the_load_problems_name_their_rule_in_spanish_never_by_its_internal_name():
    from etl.problems import RULE_LABELS, rule_label
    from views import _ui

    found = {"rule": "tax_vat_journal", "severity": "warning", "file": "impuestos/casillas.csv", "line": 7}
    [row] = _ui.problem_rows([{**found, "entry": None, "message": "Modelo 303 de 1T 2025: casilla 27 …"}])
    assert row["Regla"] == "IVA: el modelo 303 no cuadra con el diario"
    assert (rule_label("labour_encoding"), rule_label("treasury_columns")) == (
        "Laboral: codificación del archivo",
        "Tesorería: columnas del archivo",
    )
    assert rule_label("something_new") == "Comprobación de los datos"
    # every rule the ETL names literally has a label of its own
    import re

    named = set()
    for path in (Path(__file__).resolve().parents[1] / "etl").rglob("*.py"):
        named |= set(re.findall(r'Problem\(\s*"([a-z0-9_]+)"', path.read_text(encoding="utf-8")))
    assert named and named <= set(RULE_LABELS), sorted(named - set(RULE_LABELS))


def test_the_run_picker_separates_thousands():
    from views import _ui

    run = {"id": 12, "company": "acme", "started_at": datetime(2025, 12, 31, 13, 5, tzinfo=UTC), "outcome": "rejected"}
    assert _ui.run_label({**run, "errors": 5000, "warnings": 1}).endswith("(5.000 errores, 1 aviso)")
    assert _ui.run_label({**run, "errors": 1, "warnings": 1234}).endswith("(1 error, 1.234 avisos)")


def test_staff_share_the_reconciliations_of_one_company_in_its_own_form(settings):
    with_client(settings)
    at = open_page("modulos")
    assert not access.reconciliations_visible(engine(settings), "acme")
    at.checkbox(key="cuadres-acme-False").check()
    [save] = [b for b in at.button if b.label == "Guardar cuadres" and b.form_id == "cuadres-acme"]
    save.click().run()
    assert not at.exception, at.exception
    assert access.reconciliations_visible(engine(settings), "acme")
    assert not access.reconciliations_visible(engine(settings), "beta")
    [event] = events(settings, "reconciliations_visibility")
    assert (event["company"], event["detail"]) == ("acme", "visibles para los clientes")
