"""Backups and restores (security.md §4, test 50): the restore drill on SQLite and PostgreSQL, and every refusal."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from streamlit.testing.v1 import AppTest

from auth import passwords, sessions, users
from etl import service
from etl.store import Store
from ops import backup
from ops.__main__ import main
from portal.db import audit_log, get_engine
from portal.settings import Settings, load_settings
from reports import periods, statements
from services import documents
from tests.app_cookies import sign_in_with_form
from tests.pg import _forget_engine, fresh_postgresql_database
from tests.reports_books import JOURNAL
from tests.test_accounting_pages import OTRA, write_company
from tests.test_app import shows_sign_in_form
from tests.test_security import PASSWORD, client, open_page, signed_in

ROOT = Path(__file__).resolve().parents[1]
SMTP_SECRET = "smtp-secreto-que-no-debe-salir"
DEMO_SECRET = "clave-demo-que-no-debe-salir"
PDF = b"%PDF-1.4\n% informe de cierre\n%%EOF\n"
OTRA_LATER = (
    OTRA + "20/06/2025;2;4300009;Venta Otra dos;100,00;;normal\n20/06/2025;2;7000000;Venta Otra dos;;100,00;normal\n"
)


@dataclass
class Origin:
    """The portal that is backed up: two companies (one with a held publication), users, sessions, an upload."""

    settings: Settings
    engine: Engine
    live: str  # lola's session cookie, still valid
    revoked: str  # lola's other session, signed out
    locked_users_session: str  # duo's session, opened before duo got locked
    document_id: int


def use_portal(monkeypatch, data: Path, db_url: str, extra: dict[str, str] | None = None) -> Settings:
    """Point the environment (what the CLI and the app read) at this data folder and database."""
    for name in [n for n in os.environ if n.startswith("PORTAL_")]:
        monkeypatch.delenv(name)
    for name, value in {"PORTAL_DATA_DIR": str(data), "PORTAL_DATABASE_URL": db_url, **(extra or {})}.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def build_origin(settings: Settings) -> Origin:
    """mano (hand-known P&L) and otra published; otra in manual mode with a newer load held; lola, duo (locked)."""
    write_company(settings, "mano", JOURNAL, {"nombre": "Mano SL", "modelo_pgc": "pymes", "ejercicios": [2024, 2025]})
    write_company(settings, "otra", OTRA, {"nombre": "Otra SL", "modelo_pgc": "pymes", "ejercicios": [2025]})
    assert [r.outcome for r in service.load_all(settings)] == ["published", "published"]
    service.set_publish_mode(settings, "otra", "manual", actor="test")
    (settings.sources / "otra" / "diario.csv").write_text(OTRA_LATER, encoding="utf-8")
    assert [r.outcome for r in service.load_all(settings, companies=["otra"])] == ["staged"]
    engine = get_engine(settings.db_url)
    client(engine, "lola", {"mano": ["contabilidad"]})
    client(engine, "duo", {"mano": ["contabilidad"], "otra": ["contabilidad"]})
    lola, duo = users.get_user(engine, "lola"), users.get_user(engine, "duo")
    live = sessions.create(settings, engine, lola["id"], mfa=True, user_agent="AppTest")
    revoked = sessions.create(settings, engine, lola["id"], mfa=True, user_agent="AppTest")
    sessions.revoke_token(engine, revoked)
    duo_session = sessions.create(settings, engine, duo["id"], mfa=True, user_agent="AppTest")
    for _ in range(duo["max_attempts"]):
        users.record_failed_attempt(engine, "duo")
    assert users.access_problem(users.get_user(engine, "duo")) == "locked"
    document_id = documents.store(
        engine,
        settings,
        company="mano",
        direction="firm",
        name="informe.pdf",
        content=PDF,
        actor="gestor",
        actor_role="staff",
        category="contable",
        year=2025,
        title="Informe de cierre",
    )
    (settings.data_dir / "demo_credentials.txt").write_text(DEMO_SECRET, encoding="utf-8")
    return Origin(settings, engine, live, revoked, duo_session, document_id)


def figures(settings: Settings) -> dict[str, pd.DataFrame]:
    """The statements of mano's published snapshot, computed by the read side."""
    snapshot = Store(settings.stores).current("mano")
    year = periods.fiscal_year(statements.calendar_of(snapshot), 2025)
    return {
        "pyg": statements.profit_and_loss(snapshot, year).lines,
        "balance": statements.balance_sheet(snapshot, date(2025, 12, 31)).lines,
    }


def pyg_page(username: str) -> dict[str, dict]:
    """The P&L table a signed-in client sees, by line code."""
    at = open_page(signed_in(username), "contabilidad_pyg")
    return {row["Código"]: row for row in at.dataframe[0].value.to_dict("records")}


def new_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def pointers(settings: Settings) -> dict[str, tuple[str | None, str | None]]:
    store = Store(settings.stores)
    return {
        c: (store.current(c).snapshot_id, getattr(store.pending(c), "snapshot_id", None)) for c in store.companies()
    }


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def everything_in(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def is_empty(url: str) -> bool:
    kind = backup.database_kind(url)
    return backup._sqlite_empty(backup._sqlite_path(url)) if kind == "sqlite" else backup._pg_empty(url)


def tamper(folder: Path) -> str:
    """Change one byte of a snapshot file of the backup; its path in the backup."""
    target = sorted(folder.glob("stores/mano/snapshots/*/journal.parquet"))[0]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    return target.relative_to(folder).as_posix()


@pytest.fixture
def empty_db_url(request, db_url, tmp_path):
    """A second, empty database of the same kind as ``db_url``: where the backup is restored."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'restaurado' / 'portal.db'}"
        yield url
        _forget_engine(url)
        return
    with fresh_postgresql_database(request.getfixturevalue("pg_cluster")) as url:
        yield url


@pytest.fixture
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)  # the same sign-in path with a cheaper hash


# --- the drill ------------------------------------------------------------------------------------------------------


def test_restore_drill_the_restored_portal_serves_the_same_figures_and_keeps_revocations_and_locks(
    db_url, empty_db_url, tmp_path, monkeypatch, capsys, cheap_hashes
):
    origin = build_origin(use_portal(monkeypatch, tmp_path / "origen", db_url, {"PORTAL_SMTP_PASSWORD": SMTP_SECRET}))
    before = {"figures": figures(origin.settings), "page": pyg_page("lola"), "pointers": pointers(origin.settings)}
    with origin.engine.connect() as conn:
        audit_rows = conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar()
    assert before["pointers"]["otra"][1] is not None  # a held publication travels too

    dest = tmp_path / "copias" / "noche"
    assert main(["backup", str(dest)]) == 0
    out = capsys.readouterr().out
    assert "Copia de seguridad creada" in out and "PORTAL_SMTP_PASSWORD" in out

    # the backup: private, with a manifest of every file, and no secret in it
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    assert mode(dest) == 0o700 and all(mode(p) == (0o700 if p.is_dir() else 0o600) for p in dest.rglob("*"))
    listed = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == listed
    assert manifest["database"]["schema_revision"] == backup.migration_head()
    assert any("PORTAL_SMTP_PASSWORD" in item for item in manifest["left_out"])
    assert any("demo_credentials.txt" in item for item in manifest["left_out"])
    content = everything_in(dest)
    assert SMTP_SECRET.encode() not in content and DEMO_SECRET.encode() not in content
    if make_url(db_url).password:
        assert make_url(db_url).password.encode() not in content
    assert not list(dest.parent.glob(".*"))  # no temporary folder left beside it

    restored_data = tmp_path / "restaurado"
    settings = use_portal(monkeypatch, restored_data, empty_db_url)

    # a tampered copy is refused before anything is written
    bad = tmp_path / "copias" / "manipulada"
    shutil.copytree(dest, bad)
    changed = tamper(bad)
    assert main(["restore", str(bad)]) == 2
    assert changed in capsys.readouterr().err
    assert not (restored_data / "stores").exists() and not (restored_data / "uploads").exists()
    assert is_empty(empty_db_url)

    assert main(["restore", str(dest)]) == 0
    assert "Restaurada la copia" in capsys.readouterr().out
    engine = get_engine(empty_db_url)

    # the same snapshots, the same figures to the cent, the same page
    assert pointers(settings) == before["pointers"]
    after = figures(settings)
    for name, frame in before["figures"].items():
        pd.testing.assert_frame_equal(after[name], frame)
    assert after["pyg"].set_index("line_code").loc["49500", "amount"] == Decimal("-150.00")
    page = pyg_page("lola")
    assert page == before["page"]
    assert page["49500"]["Ejercicio 2025"] == "-150,00 €" and page["49500"]["Ejercicio 2024"] == "400,00 €"

    # sessions and locks are rows: the signed-out session stays dead, the live one works, the locked user stays out
    assert sessions.check(settings, engine, origin.revoked) is None
    assert sessions.check(settings, engine, origin.locked_users_session) is None
    assert sessions.check(settings, engine, origin.live).user["username"] == "lola"
    assert users.access_problem(users.get_user(engine, "duo")) == "locked"
    assert shows_sign_in_form(sign_in_with_form(new_app(), "duo", PASSWORD))
    assert not shows_sign_in_form(sign_in_with_form(new_app(), "lola", PASSWORD))

    # the uploaded document, the audit log (still append-only) and the schema at head
    assert documents.read_document(engine, settings, "mano", f"portal:{origin.document_id}").content == PDF
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar() >= audit_rows
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == backup.migration_head()
    with pytest.raises(sa.exc.DatabaseError), engine.begin() as conn:
        conn.execute(sa.update(audit_log).values(detail="borrado"))
    written = [p for p in (restored_data / "stores").rglob("*")]
    assert written and all(mode(p) & 0o027 == 0 for p in written)

    # a second restore over what is now a full portal is refused, and changes nothing
    assert main(["restore", str(dest)]) == 2
    err = capsys.readouterr().err
    assert "no está vacía" in err and "ya tiene tablas" in err
    assert pointers(settings) == before["pointers"]


# --- refusals and details, on one SQLite backup -------------------------------------------------------------------


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Settings, Path]:
    """A SQLite portal (mano published twice, otra held) with debris of crashed loads, and its backup."""
    data = tmp_path_factory.mktemp("origen") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        build_origin(settings)
    (settings.sources / "mano" / "diario.csv").write_text(JOURNAL.replace("Factura 1", "Factura uno"), "utf-8")
    assert [r.outcome for r in service.load_all(settings, companies=["mano"])] == ["published"]
    mano = settings.stores / "mano"
    (mano / "snapshots" / ".tmp-20991231T000000000000Z-deadbeef").mkdir()
    (mano / "snapshots" / ".tmp-20991231T000000000000Z-deadbeef" / "journal.parquet").write_bytes(b"a medias")
    (mano / "CURRENT.tmp").write_text("{", encoding="utf-8")
    (settings.uploads / "no-es-del-portal.txt").write_text("x", encoding="utf-8")
    dest = tmp_path_factory.mktemp("copias") / "copia"
    backup.backup(settings, dest)
    _forget_engine(settings.db_url)
    return settings, dest


@pytest.fixture
def copy_of(made, tmp_path) -> Path:
    folder = tmp_path / "copia"
    shutil.copytree(made[1], folder)
    return folder


@pytest.fixture
def target(tmp_path) -> Settings:
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "destino")})
    yield settings
    _forget_engine(settings.db_url)


def nothing_written(settings: Settings) -> bool:
    return not settings.data_dir.exists()


def test_only_the_pointers_and_the_snapshots_they_name_are_copied(made):
    settings, dest = made
    named = {(company, i) for company, ids in pointers(settings).items() for i in ids if i}
    copied = {(p.parts[-3], p.name) for p in dest.glob("stores/*/snapshots/*")}
    assert copied == named  # not the earlier mano snapshot, not the half-written .tmp- folder
    assert len(Store(settings.stores).snapshots("mano")) == 2
    assert {p.name for p in dest.glob("stores/*/*") if p.is_file()} == {"CURRENT", "PENDING"}
    assert [p.name for p in (dest / "uploads").iterdir()] == [
        p.name for p in settings.uploads.iterdir() if p.suffix != ".txt"
    ]


def test_settings_are_kept_without_secrets(made):
    settings, dest = made
    kept = json.loads((dest / "settings.json").read_text(encoding="utf-8"))
    assert "PORTAL_SMTP_PASSWORD" not in kept
    assert kept["PORTAL_DATA_DIR"] == str(settings.data_dir) and kept["PORTAL_SNAPSHOTS_KEPT"] == 7
    assert backup.settings_without_secrets(load_settings({"PORTAL_DATABASE_URL": "postgresql://u:clave@h/db"}))[
        "PORTAL_DATABASE_URL"
    ] == ("postgresql://u:***@h/db")


@pytest.mark.parametrize("damage", ["changed", "missing", "extra", "outside", "manifest"])
def test_a_damaged_backup_is_refused_before_anything_is_written(copy_of, target, damage):
    if damage == "changed":
        expected = tamper(copy_of)
    elif damage == "missing":
        expected = next(iter(sorted(copy_of.glob("uploads/*")))).relative_to(copy_of).as_posix()
        (copy_of / expected).unlink()
    elif damage == "extra":
        expected = "stores/mano/PENDING"
        (copy_of / expected).write_text("{}", encoding="utf-8")
    else:  # a manifest rewritten to carry a file out of the data folder, or not a manifest at all
        manifest = json.loads((copy_of / "manifest.json").read_text(encoding="utf-8"))
        expected = "../../fuera"
        manifest["files"][expected] = {"sha256": "0" * 64, "bytes": 0}
        text = json.dumps(manifest) if damage == "outside" else "{no es json"
        expected = expected if damage == "outside" else "está dañado"
        (copy_of / "manifest.json").write_text(text, encoding="utf-8")
    with pytest.raises(backup.BackupError, match=r"no se ha restaurado nada|dañado") as refused:
        backup.restore(target, copy_of)
    assert expected in str(refused.value)
    assert nothing_written(target)


def test_a_target_with_data_is_refused_with_nothing_changed(made, target):
    (target.stores / "mano").mkdir(parents=True)
    with pytest.raises(
        backup.BackupError, match="Solo se restaura sobre una carpeta de datos y una base de datos vacías"
    ):
        backup.restore(target, made[1])
    assert [p.name for p in target.stores.iterdir()] == ["mano"] and not (target.data_dir / "portal.db").exists()


def test_a_backup_into_a_folder_with_files_is_refused(made, tmp_path):
    (tmp_path / "ocupada").mkdir()
    (tmp_path / "ocupada" / "algo").write_text("x", encoding="utf-8")
    with pytest.raises(backup.BackupError, match="no está vacío"):
        backup.backup(made[0], tmp_path / "ocupada")


@pytest.mark.parametrize("failing", ["_copy", "_load_database"])
def test_a_restore_that_fails_midway_leaves_no_store_visible(made, target, monkeypatch, failing):
    real, calls = getattr(backup, failing), []

    def fails_later(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3 or failing == "_load_database":
            raise OSError("disco lleno")
        return real(*args, **kwargs)

    monkeypatch.setattr(backup, failing, fails_later)
    with pytest.raises(OSError):
        backup.restore(target, made[1])
    assert not target.stores.exists() and not target.uploads.exists()
    assert [p.name for p in target.data_dir.iterdir() if p.name.startswith(".")] == []  # temporary folders removed
    assert is_empty(target.db_url)


def test_the_commands_write_private_files_whatever_the_umask(made, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    old = os.umask(0o022)  # the usual umask of a shell
    try:
        done = subprocess.run(
            [sys.executable, "-m", "portal", "backup", str(tmp_path / "copia")],
            cwd=ROOT,
            env={**env, "PORTAL_DATA_DIR": str(made[0].data_dir)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        restored = tmp_path / "restaurado"
        done = subprocess.run(
            [sys.executable, "-m", "portal", "restore", str(tmp_path / "copia")],
            cwd=ROOT,
            env={**env, "PORTAL_DATA_DIR": str(restored)},
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stdout + done.stderr
    copy = tmp_path / "copia"
    assert all(mode(p) == (0o700 if p.is_dir() else 0o600) for p in [copy, *copy.rglob("*")])
    assert mode(restored / "portal.db") == 0o600
    assert all(mode(p) & 0o027 == 0 for p in [*(restored / "stores").rglob("*"), *(restored / "uploads").rglob("*")])
