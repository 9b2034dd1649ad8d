"""``python -m auth`` through ``main([...])`` on a real SQLite file and SMTP server, and the demo client users."""

from __future__ import annotations

import getpass
import io
import stat

import pytest
import sqlalchemy as sa

from auth import access, demo, users
from auth.__main__ import main
from portal import audit
from portal.db import companies, get_engine
from portal.settings import load_settings
from tests.smtp_server import SmtpServer

GOOD = "tortuga ventana azul montaña"
NAMES = {
    "levante": "Suministros Industriales Levante SL",
    "norte": "Norte Consultores Asociados SL",
    "labrasa": "La Brasa de Triana SL",
    "mgarcia": "María García López",
    "mediterraneo": "Transportes y Logística Mediterráneo SA",
}


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def engine(tmp_path, monkeypatch, smtp):
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    for name, value in smtp.env().items():
        monkeypatch.setenv(name, value)
    engine = get_engine(load_settings().db_url)
    with engine.begin() as conn:
        conn.execute(sa.insert(companies).values([dict(code=c, name=n) for c, n in NAMES.items()]))
    return engine


def run(capsys, *args: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def with_client(capsys) -> None:
    assert run(capsys, "add-client", "grupo", "--name", "Grupo Levante", "--companies", "levante,mediterraneo")[0] == 0


def test_add_user_with_modules_options_expiry_and_e_mailed_link(engine, capsys, smtp):
    with_client(capsys)
    code, out, err = run(
        capsys,
        "add-user", "ana", "--email", "ana@cliente.es", "--office-email", "gestor@asesoria.es",
        "--client", "grupo", "--companies", "levante,mediterraneo", "--modules", "expedientes,laboral,impuestos",
        "--cases", "open", "--labour-tables", "resumen_nominas,altas_bajas",
        "--max-attempts", "3", "--expires", "31/12/2026", "--send",
    )  # fmt: skip
    assert code == 0, err
    assert "Usuario «ana» creado" in out and "Enlace de activación enviado a ana@cliente.es" in out
    user = users.get_user(engine, "ana")
    assert user["password_hash"] is None and user["max_attempts"] == 3 and str(user["expires_on"]) == "2026-12-31"
    assert access.client_of(engine, user["id"]) == "grupo"
    held = {(g.company, g.module): g.options for g in access.grants_of(engine, "ana")}
    assert set(held) == {(c, m) for c in ("levante", "mediterraneo") for m in ("expedientes", "laboral", "impuestos")}
    assert held[("levante", "expedientes")] == {"cases": "open"}
    assert held[("mediterraneo", "laboral")] == {"tables": ["resumen_nominas", "altas_bajas"]}
    (received,) = smtp.wait_for(1)
    assert received.rcpt_tos == ["ana@cliente.es"] and received.message["Reply-To"] == "gestor@asesoria.es"
    assert "?activar=" in received.body
    created = audit.entries(engine, event="user_created")[0]
    assert created["actor"] == f"cli:{getpass.getuser()}" and created["actor_role"] == "system"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--companies", "levante", "--modules", "nominas"), "Módulo desconocido: «nominas»"),
        (("--companies", "norte", "--modules", "impuestos"), "no vinculadas al cliente «grupo»: norte"),
        (("--modules", "impuestos"), "Indique con --companies"),
        (("--companies", "levante", "--modules", "impuestos", "--expires", "31-12-2026"), "Fecha no válida"),
        (("--companies", "levante", "--modules", "impuestos", "--max-attempts", "0"), "de 1 a 20"),
    ],
)
def test_add_user_refusals_create_nothing(engine, capsys, args, message):
    with_client(capsys)
    code, _out, err = run(capsys, "add-user", "ana", "--email", "ana@cliente.es", "--client", "grupo", *args)
    assert code == 1 and message in err and err.startswith("Error: ")
    assert users.get_user(engine, "ana") is None


def test_set_password_reads_stdin_and_checks_the_policy(engine, capsys, monkeypatch):
    with_client(capsys)
    run(capsys, "add-user", "ana", "--email", "ana@cliente.es", "--client", "grupo")
    code, _out, err = run(capsys, "set-password", "ana", stdin="corta\n", monkeypatch=monkeypatch)
    assert code == 1 and "al menos 15 caracteres" in err
    code, _out, err = run(capsys, "set-password", "ana", stdin="mi levante de siempre 2025\n", monkeypatch=monkeypatch)
    assert code == 1 and "no puede contener «levante»" in err  # the client's company name
    code, out, err = run(capsys, "set-password", "ana", stdin=GOOD + "\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert GOOD not in out and users.verify(engine, "ana", GOOD)["username"] == "ana"


def test_grant_revoke_and_list(engine, capsys, monkeypatch):
    with_client(capsys)
    run(capsys, "add-user", "ana", "--email", "ana@cliente.es", "--client", "grupo", "--companies", "levante",
        "--modules", "impuestos")  # fmt: skip
    assert run(capsys, "grant", "ana", "--company", "levante", "--modules", "tesoreria,documentos")[0] == 0
    assert [g.module for g in access.grants_of(engine, "ana")] == ["documentos", "impuestos", "tesoreria"]
    assert run(capsys, "revoke", "ana", "--company", "levante", "--modules", "impuestos")[0] == 0
    assert [g.module for g in access.grants_of(engine, "ana")] == ["documentos", "tesoreria"]
    code, _out, err = run(capsys, "grant", "ana", "--company", "norte", "--modules", "impuestos")
    assert code == 1 and "no está vinculada al cliente «grupo»" in err
    run(capsys, "set-password", "ana", stdin=GOOD + "\n", monkeypatch=monkeypatch)
    code, out, _err = run(capsys, "list")
    assert code == 0
    assert "ana" in out and "activo" in out and "grupo" in out and "levante: documentos, tesoreria" in out
    assert "$2b$" not in out


def test_unlock_deactivate_activate_and_logout_write_audit_events(engine, capsys, monkeypatch):
    with_client(capsys)
    run(capsys, "add-user", "ana", "--email", "ana@cliente.es", "--client", "grupo")
    run(capsys, "set-password", "ana", stdin=GOOD + "\n", monkeypatch=monkeypatch)
    for _ in range(5):
        users.record_failed_attempt(engine, "ana")
    assert "bloqueado" in run(capsys, "list")[1]
    for command in ("unlock", "deactivate", "activate", "logout"):
        assert run(capsys, command, "ana")[0] == 0
    events = [e["event"] for e in audit.entries(engine, actor=f"cli:{getpass.getuser()}", limit=4)]
    assert events == ["sessions_revoked", "user_activated", "user_deactivated", "unlock"]
    assert users.verify(engine, "ana", GOOD) is not None
    code, _out, err = run(capsys, "unlock", "nadie")
    assert code == 1 and "No existe el usuario «nadie»" in err
    code, _out, err = run(capsys, "send-credentials", "nadie")
    assert code == 1 and "No existe el usuario «nadie»" in err


def test_import_users_creates_every_line(engine, capsys, tmp_path):
    with_client(capsys)
    path = tmp_path / "usuarios.csv"
    path.write_text(
        "\ufeffusuario;email;email_despacho;cliente;empresas;modulos;intentos;caduca\n"
        "ana;ana@cliente.es;gestor@asesoria.es;grupo;levante,mediterraneo;impuestos,documentos;3;31/12/2026\n"
        "\n"
        "bea;bea@cliente.es;;grupo;levante;contabilidad;;\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "import-users", str(path))
    assert code == 0, err
    assert "2 usuarios creados" in out
    pairs = [(g.company, g.module) for g in access.grants_of(engine, "ana")]
    assert pairs == [(c, m) for c in ("levante", "mediterraneo") for m in ("documentos", "impuestos")]
    bea = users.get_user(engine, "bea")
    assert bea["max_attempts"] == 5 and bea["expires_on"] is None and bea["password_hash"] is None


def test_import_users_with_comma_separator(engine, capsys, tmp_path):
    with_client(capsys)
    path = tmp_path / "usuarios.csv"
    path.write_text(
        'usuario,email,email_despacho,cliente,empresas,modulos,intentos,caduca\nana,ana@cliente.es,,grupo,"levante",'
        '"impuestos,documentos",,2026-12-31\n',
        encoding="utf-8",
    )
    assert run(capsys, "import-users", str(path))[0] == 0
    assert {g.module for g in access.grants_of(engine, "ana")} == {"impuestos", "documentos"}


def test_import_users_with_bad_lines_reports_each_and_creates_nothing(engine, capsys, tmp_path):
    with_client(capsys)
    path = tmp_path / "usuarios.csv"
    path.write_text(
        "usuario;email;email_despacho;cliente;empresas;modulos;intentos;caduca\n"
        "ana;ana@cliente.es;;grupo;levante;impuestos;;\n"
        "bea;no-es-un-correo;;grupo;levante;impuestos;;\n"
        "ana;otra@cliente.es;;grupo;levante;impuestos;;\n"
        "carla;carla@cliente.es;;grupo;norte;nominas;;\n"
        "dani;dani@cliente.es;;grupo;levante;impuestos;muchos;\n"
        "eva;eva@cliente.es;;grupo;levante;impuestos;;30/02/2026\n",
        encoding="utf-8",
    )
    code, _out, err = run(capsys, "import-users", str(path))
    assert code == 1
    assert "no se ha creado ningún usuario" in err
    assert "línea 3: Correo electrónico del usuario no válido: «no-es-un-correo»" in err
    assert "línea 4: el usuario «ana» está repetido" in err
    assert "línea 5: Módulo desconocido: «nominas»" in err
    assert "línea 6: intentos no válido: «muchos»" in err
    assert "línea 7: Fecha no válida: «30/02/2026»" in err
    assert "línea 2" not in err
    assert users.list_users(engine) == []


def test_import_users_refuses_a_file_without_the_columns(engine, capsys, tmp_path):
    path = tmp_path / "usuarios.csv"
    path.write_text("usuario;correo\nana;ana@cliente.es\n", encoding="utf-8")
    code, _out, err = run(capsys, "import-users", str(path))
    assert code == 1 and "Faltan columnas" in err and "email_despacho" in err


def test_audit_command_filters_and_shows_spanish_labels(engine, capsys):
    with_client(capsys)
    run(capsys, "add-user", "ana", "--email", "ana@cliente.es", "--client", "grupo")
    code, out, _err = run(capsys, "audit", "--event", "user_created")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1 and "Alta de usuario" in lines[0] and "ana" in lines[0]
    assert "Empresa vinculada a cliente" in run(capsys, "audit", "--company", "mediterraneo")[1]
    assert "No hay eventos" in run(capsys, "audit", "--until", "2000-01-01")[1]


# --- demo client users ----------------------------------------------------------------------------------------


def test_demo_clients_have_varied_modules_and_states_and_are_created_once(engine, tmp_path):
    settings = load_settings()
    path = tmp_path / "demo_credentials.txt"
    staff = users.ensure_demo_staff(engine, path)
    created = demo.ensure_demo_clients(engine, settings, path)
    assert [name for name, _ in created] == [d.username for d in demo.DEMO_USERS]
    passwords = dict(created)
    states = {name: access.user_state(users.get_user(engine, name)) for name in passwords}
    assert states == {
        "levante.todo": "activo",
        "norte.fiscal": "activo",
        "grupo.levante": "activo",
        "labrasa.caducado": "caducado",
        "mgarcia.bloqueado": "bloqueado",
    }
    assert [g.module for g in access.grants_of(engine, "levante.todo")] == list(access.MODULES)
    assert {g.module for g in access.grants_of(engine, "norte.fiscal")} == {"impuestos", "documentos"}
    assert {g.company for g in access.grants_of(engine, "grupo.levante")} == {"levante", "mediterraneo"}
    assert users.verify(engine, "levante.todo", passwords["levante.todo"]) is not None
    assert users.verify(engine, "labrasa.caducado", passwords["labrasa.caducado"]) is None
    assert users.verify(engine, "mgarcia.bloqueado", passwords["mgarcia.bloqueado"]) is None
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"usuario: despacho\ncontraseña: {staff[1]}\n")
    for name, password in created:
        assert f"usuario: {name}\ncontraseña: {password}\n" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert demo.ensure_demo_clients(engine, settings, path) == []
    assert path.read_text(encoding="utf-8") == text
    names = {d.username: users.get_user(engine, d.username)["name"] for d in demo.DEMO_USERS}
    assert all(len(name.split()) >= 2 for name in names.values()), names  # a person's name: «Hola, Vicente …»
    assert len(set(names.values())) == len(names)


def test_demo_users_created_without_a_name_get_one_and_a_name_set_by_staff_is_kept(engine, tmp_path):
    """Demo databases made before the demo users had names: the next start names them (only the unnamed ones)."""
    settings = load_settings()
    path = tmp_path / "demo_credentials.txt"
    demo.ensure_demo_clients(engine, settings, path)
    with engine.begin() as conn:
        conn.execute(sa.update(users.users).values(name=""))
    access.update_client_user(engine, "norte.fiscal", actor="test", name="Nombre puesto por el despacho")
    assert demo.ensure_demo_clients(engine, settings, path) == []  # nobody created again
    names = {d.username: users.get_user(engine, d.username)["name"] for d in demo.DEMO_USERS}
    assert names == {
        d.username: "Nombre puesto por el despacho" if d.username == "norte.fiscal" else d.name for d in demo.DEMO_USERS
    }
    assert all(names.values())


def test_no_demo_clients_outside_the_demo_firm(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'other.db'}")
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path)})
    assert demo.ensure_demo_clients(engine, settings, tmp_path / "creds.txt") == []
    assert users.list_users(engine) == [] and not (tmp_path / "creds.txt").exists()
