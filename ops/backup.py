"""Backup and restore of the portal: database, published snapshots, uploads and settings, with checksums."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url

from etl.store import CURRENT, FILE_NAME, PENDING, SNAPSHOTS, Store, StoreError, fsync_dir, is_snapshot_id
from etl.store import MANIFEST as SNAPSHOT_MANIFEST
from portal.codes import is_company_code
from portal.db import MIGRATIONS_DIR, get_engine
from portal.errors import PortalError
from portal.settings import Settings

FORMAT = "portal-del-cliente-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SETTINGS_FILE = "settings.json"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
SECRET_SETTINGS = ("PORTAL_SMTP_PASSWORD",)
SECRET_FILES = ("cookie_key", "demo_credentials.txt")  # secrets the portal keeps in its data folder
UPLOAD_NAME = re.compile(r"\A[0-9a-f]{32}\Z")  # services.documents stores uploads under 32 random hex digits
ALLOWED = re.compile(
    r"\A(?:settings\.json|database\.(?:sqlite3|pgdump)|uploads/[0-9a-f]{32}"
    r"|stores/(?P<company>[^/]+)/(?:CURRENT|PENDING|snapshots/(?P<snapshot>[^/]+)/(?P<file>[^/]+)))\Z"
)
BACKUP_FILE, BACKUP_DIR = 0o600, 0o700  # the backup is its owner's only
DATA_FILE, DATA_DIR = 0o640, 0o750  # restored stores and uploads, as the portal writes them
SQLITE_FILE_MODE = 0o600
CHUNK = 1 << 20
NOTE = (
    "Esta copia contiene datos personales (nóminas, clientes), los hashes de las contraseñas y los secretos del "
    "segundo factor: guárdela cifrada y con acceso restringido. Los secretos de «left_out» no están en ella: "
    "guárdelos aparte y vuelva a ponerlos en el servidor restaurado."
)


class BackupError(PortalError):
    """A backup or restore refused or failed; the message says why."""


@dataclass(frozen=True)
class Summary:
    """What a backup or a restore did, for the command line."""

    path: Path
    database: str
    revision: str
    companies: dict[str, dict[str, str | None]]
    uploads: int
    files: int
    size: int
    left_out: list[str] = field(default_factory=list)
    manifest_sha256: str = ""

    def lines(self, action: str) -> list[str]:
        """Spanish lines describing it (``action``: 'backup' or 'restore')."""
        done = "Copia de seguridad creada en" if action == "backup" else "Restaurada la copia de"
        snapshots = sum(len({i for i in p.values() if i}) for p in self.companies.values())
        out = [
            f"{done} {self.path}: base de datos {self.database} (revisión {self.revision}), "
            f"{len(self.companies)} empresas, {snapshots} cargas, {self.uploads} documentos subidos; "
            f"{self.files} ficheros, {self.size / 1e6:.1f} MB."
        ]
        for company, pointers in sorted(self.companies.items()):
            pending = f", pendiente {pointers[PENDING]}" if pointers.get(PENDING) else ""
            out.append(f"  {company}: publicada {pointers.get(CURRENT) or '—'}{pending}")
        if action == "backup":
            out.append(f"Huella SHA-256 de manifest.json (anótela aparte): {self.manifest_sha256}")
        out.append("No incluido (guárdelo aparte y repóngalo en el servidor restaurado):")
        out.extend(f"  - {item}" for item in self.left_out)
        return out


# --- files ------------------------------------------------------------------------------------------------------------


def _digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy(source: Path, target: Path, mode: int) -> tuple[str, int]:
    """Copy a file to a new file with ``mode`` (fsynced); the SHA-256 and size of what was copied."""
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with source.open("rb") as inp, os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), mode)
        while chunk := inp.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _write(target: Path, data: bytes, mode: int) -> None:
    """A new file with ``data`` and ``mode``, fsynced."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), mode)
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _dirs(path: Path, mode: int) -> None:
    """Create ``path`` and its missing parents, each with ``mode``."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=mode)
        os.chmod(folder, mode)


def _fsync_tree(root: Path) -> None:
    """Make every folder's entries under ``root`` durable (files were fsynced when written)."""
    for folder, _, _ in os.walk(root):
        fsync_dir(Path(folder))


def _temp_beside(target: Path, purpose: str) -> Path:
    """A hidden sibling name of ``target`` (same file system, so a rename moves it into place)."""
    return target.parent / f".{target.name}.{purpose}-{secrets.token_hex(4)}"


def _move_into_place(temp: Path, target: Path) -> None:
    """Rename a finished folder over an absent or empty ``target``, durably."""
    os.rename(temp, target)
    fsync_dir(target.parent)


class _Files:
    """The files of a backup being written, with their checksums for the manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.table: dict[str, dict[str, object]] = {}

    def target(self, rel: str) -> Path:
        path = self.root / rel
        _dirs(path.parent, BACKUP_DIR)
        return path

    def copy(self, rel: str, source: Path) -> tuple[str, int]:
        digest, size = _copy(source, self.target(rel), BACKUP_FILE)
        self.table[rel] = {"sha256": digest, "bytes": size}
        return digest, size

    def write(self, rel: str, data: bytes) -> None:
        _write(self.target(rel), data, BACKUP_FILE)
        self.table[rel] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    def add_written(self, rel: str) -> None:
        """A file a tool wrote at ``rel`` (pg_dump, the SQLite backup API): made 0600 and checksummed."""
        path = self.root / rel
        os.chmod(path, BACKUP_FILE)
        digest, size = _digest(path)
        self.table[rel] = {"sha256": digest, "bytes": size}


# --- the database ---------------------------------------------------------------------------------------------------


def database_kind(url: str) -> str:
    """'sqlite' or 'postgresql' (the two databases the portal supports); BackupError for any other."""
    kind = make_url(url).get_backend_name()
    if kind not in DATABASE_FILES:
        raise BackupError("Solo se pueden copiar y restaurar bases de datos SQLite o PostgreSQL (PORTAL_DATABASE_URL).")
    return kind


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("PORTAL_DATABASE_URL no señala un fichero SQLite.")
    return Path(database)


def _pg_tool(name: str) -> str:
    """The newest Debian ``/usr/lib/postgresql/<version>/bin/<name>`` (a client at least as new as the server)."""

    def version(path: str) -> int:
        found = re.search(r"/postgresql/(\d+)/", path)
        return int(found.group(1)) if found else 0

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version, reverse=True)
    tool = found[0] if found else shutil.which(name)
    if not tool:
        raise BackupError(
            f"No se encuentra {name}: instale el cliente de PostgreSQL (apt-get install postgresql-client)."
        )
    return tool


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump/pg_restore without the password, which goes in PGPASSWORD (never on a command line)."""
    parsed = make_url(url)
    uri = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    ).render_as_string(hide_password=False)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return uri, env


def _run_tool(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} ha fallado (código {done.returncode}): {done.stderr.strip()[-2000:]}")


def _pg_revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.SQLAlchemyError as exc:
        raise BackupError(f"No se puede leer la base de datos del portal: {type(exc).__name__}") from exc
    finally:
        engine.dispose()


def _dump_database(url: str, files: _Files) -> tuple[str, str]:
    """Copy the database, consistent while the portal writes; (kind, schema revision)."""
    kind = database_kind(url)
    rel = DATABASE_FILES[kind]
    if kind == "postgresql":
        revision = _pg_revision(url)
        uri, env = _libpq(url)
        _run_tool(
            [_pg_tool("pg_dump"), "--format=custom", "--file", str(files.root / rel), "--dbname", uri], env, "pg_dump"
        )
    else:
        source = _sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"No existe la base de datos del portal: {source}")
        _write(files.root / rel, b"", BACKUP_FILE)
        with (
            contextlib.closing(sqlite3.connect(source, timeout=30)) as src,
            contextlib.closing(sqlite3.connect(files.root / rel)) as copy,
        ):
            src.backup(copy)  # the online backup API: a consistent copy, page by page, while others write
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    if not revision:
        raise BackupError("La base de datos no tiene el esquema del portal (falta alembic_version).")
    files.add_written(rel)
    return kind, revision


# --- the stores and uploads -----------------------------------------------------------------------------------------


def _pointer_id(raw: bytes, company: str, name: str) -> str:
    try:
        snapshot_id = json.loads(raw.decode("utf-8")).get("snapshot_id")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise BackupError(f"El puntero {name} de la empresa {company} está dañado.") from exc
    if not is_snapshot_id(snapshot_id):
        raise BackupError(f"El puntero {name} de la empresa {company} está dañado.")
    return snapshot_id


def _copy_snapshot(store: Store, company: str, snapshot_id: str, files: _Files) -> None:
    """Copy exactly the files a committed snapshot's manifest lists (plus the manifest), checked against it."""
    gone = BackupError(
        f"La carga {snapshot_id} de la empresa {company} ha desaparecido durante la copia "
        "(una limpieza simultánea): repita la copia."
    )
    try:
        snapshot = store.snapshot(company, snapshot_id)
    except StoreError as exc:
        if (store.company_dir(company) / SNAPSHOTS / snapshot_id).exists():
            raise BackupError(f"No se copia una carga dañada: {exc}") from exc
        raise gone from exc
    prefix = f"stores/{company}/{SNAPSHOTS}/{snapshot_id}"
    try:
        files.copy(f"{prefix}/{SNAPSHOT_MANIFEST}", snapshot.path / SNAPSHOT_MANIFEST)
        for name, info in sorted(snapshot.files.items()):
            copied = files.copy(f"{prefix}/{name}", snapshot.path / name) if FILE_NAME.match(name) else None
            if copied != (info["sha256"], info["bytes"]):
                raise BackupError(
                    f"El fichero {name} de la carga {snapshot_id} de la empresa {company} no coincide con su "
                    "manifiesto: no se copia una carga dañada."
                )
    except FileNotFoundError as exc:
        raise gone from exc


def _copy_stores(root: Path, files: _Files) -> dict[str, dict[str, str | None]]:
    """Per company: the pointers first, then the snapshots they name (never ``.tmp-``/``.trash-`` folders)."""
    store = Store(root)
    copied: dict[str, dict[str, str | None]] = {}
    for company in store.companies():
        cdir = store.company_dir(company)
        raw: dict[str, bytes] = {}
        for name in (CURRENT, PENDING):
            with contextlib.suppress(FileNotFoundError):
                raw[name] = (cdir / name).read_bytes()
        if not raw:
            continue
        pointers = {name: _pointer_id(data, company, name) for name, data in raw.items()}
        for name, data in raw.items():
            files.write(f"stores/{company}/{name}", data)
        for snapshot_id in dict.fromkeys(pointers.values()):
            _copy_snapshot(store, company, snapshot_id, files)
        copied[company] = {CURRENT: pointers.get(CURRENT), PENDING: pointers.get(PENDING)}
    return copied


def _copy_uploads(root: Path, files: _Files) -> int:
    """Every uploaded document (random 32-hex names); anything else in the folder is not the portal's."""
    if not root.is_dir():
        return 0
    count = 0
    for path in sorted(root.iterdir()):
        if UPLOAD_NAME.match(path.name) and path.is_file() and not path.is_symlink():
            files.copy(f"uploads/{path.name}", path)
            count += 1
    return count


# --- settings and what stays out ------------------------------------------------------------------------------------


def settings_without_secrets(settings: Settings) -> dict[str, object]:
    """Every PORTAL_* setting as the portal sees it, without the secret ones (the database password masked)."""
    values: dict[str, object] = {}
    for f in fields(Settings):
        env = f.metadata["env"]
        if env in SECRET_SETTINGS:
            continue
        value = getattr(settings, f.name)
        if env == "PORTAL_DATABASE_URL" and value:
            value = make_url(value).render_as_string(hide_password=True)
        values[env] = value if value is None or isinstance(value, bool | int | float) else str(value)
    return values


def left_out(settings: Settings) -> list[str]:
    """What the backup deliberately does not contain, for the manifest and the operator."""
    items = [f"{env}: secreto, no se copia" for env in SECRET_SETTINGS]
    if make_url(settings.db_url).password:
        items.append("La contraseña de PORTAL_DATABASE_URL (en settings.json aparece como ***)")
    secret_files = [settings.data_dir / name for name in SECRET_FILES]
    items += [f"{path}: secreto, no se copia" for path in secret_files if path.exists()]
    items += [
        ".streamlit/secrets.toml y las demás variables de entorno que no son PORTAL_*, si las hay",
        f"Las exportaciones del despacho ({settings.sources}): se vuelven a obtener del programa de contabilidad",
        "Las cargas anteriores a la publicada que no están pendientes (el historial para «volver atrás»)",
    ]
    return items


def _app_commit() -> str | None:
    """The git commit of the running code, when it is a git checkout (informative only)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(Path(__file__).resolve().parents[1]), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def migration_head() -> str:
    """The newest schema revision this code knows."""
    return str(ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head())


# --- backup ---------------------------------------------------------------------------------------------------------


def backup(settings: Settings, dest: Path, *, now: datetime | None = None) -> Summary:
    """Back the portal up into ``dest`` (a new or empty folder), while it runs; 0700 folders, 0600 files::

        manifest.json                      every file's SHA-256 and size, schema revision, what was left out
        database.sqlite3|database.pgdump   SQLite online backup API or ``pg_dump --format=custom``: consistent
        stores/<company>/CURRENT|PENDING   the pointers, read first ...
        stores/<company>/snapshots/<id>/   ... then exactly the immutable snapshots they name, checked on the way
        uploads/<random name>              after the database: every upload a row names is already on disk
        settings.json                      the PORTAL_* settings without secrets

    Written into a hidden sibling folder renamed into place at the end: a folder with the destination's name is
    always a whole backup.
    """
    dest = Path(dest).absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"El destino {dest} ya existe y no está vacío: indique una carpeta nueva o vacía.")
    _dirs(dest.parent, BACKUP_DIR)
    work = _temp_beside(dest, "tmp")
    _dirs(work, BACKUP_DIR)
    try:
        files = _Files(work)
        kind, revision = _dump_database(settings.db_url, files)  # first: every upload a row names is on disk by now
        companies = _copy_stores(Path(settings.stores), files)
        uploads = _copy_uploads(Path(settings.uploads), files)
        data = json.dumps(settings_without_secrets(settings), ensure_ascii=False, indent=2).encode("utf-8")
        files.write(SETTINGS_FILE, data)
        skipped = left_out(settings)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": (now or datetime.now(UTC)).isoformat(),
            "portal": {"migration_head": migration_head(), "commit": _app_commit()},
            "database": {"kind": kind, "file": DATABASE_FILES[kind], "schema_revision": revision},
            "companies": companies,
            "uploads": uploads,
            "left_out": skipped,
            "note": NOTE,
            "files": dict(sorted(files.table.items())),
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
        _write(work / MANIFEST, text, BACKUP_FILE)
        _fsync_tree(work)
        os.rename(work, dest)  # a folder with the destination's name is always a whole backup
        fsync_dir(dest.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    size = sum(int(info["bytes"]) for info in files.table.values())
    return Summary(
        dest, kind, revision, companies, uploads, len(files.table), size, skipped, hashlib.sha256(text).hexdigest()
    )


# --- restore --------------------------------------------------------------------------------------------------------


def _allowed(rel: str) -> bool:
    """Only the paths a backup writes: nothing can land outside the stores, the uploads or the database."""
    found = ALLOWED.match(rel)
    if found is None:
        return False
    if found["company"] is not None and not is_company_code(found["company"]):
        return False
    return found["snapshot"] is None or (is_snapshot_id(found["snapshot"]) and bool(FILE_NAME.match(found["file"])))


def read_manifest(src: Path) -> dict:
    """The backup's manifest; BackupError when there is none or it is not a portal backup."""
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"{src} no es una copia de seguridad del portal (falta {MANIFEST}).") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"El manifiesto de la copia {src} está dañado.") from exc
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("files"), dict)
        or not isinstance(manifest.get("database"), dict)
    ):
        raise BackupError(f"{src} no es una copia de seguridad del portal o su manifiesto está dañado.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"La copia tiene un formato ({manifest.get('format_version')}) que esta versión no conoce.")
    return manifest


def verify(src: Path, manifest: dict) -> None:
    """Every file of the backup is in the manifest with its SHA-256 and size, and nothing else is there."""
    problems: list[str] = []
    on_disk: set[str] = set()
    for folder, dirnames, filenames in os.walk(src):
        for name in [*dirnames, *filenames]:
            path = Path(folder) / name
            rel = path.relative_to(src).as_posix()
            if path.is_symlink():
                problems.append(f"{rel}: enlace simbólico, no admitido")
            elif path.is_file() and rel != MANIFEST:
                on_disk.add(rel)
    files = manifest["files"]
    problems += [f"{rel}: no figura en el manifiesto" for rel in sorted(on_disk - set(files))]
    database = manifest["database"]
    if DATABASE_FILES.get(str(database.get("kind"))) != database.get("file") or database.get("file") not in files:
        problems.append("la base de datos no figura en el manifiesto")
    for rel, info in sorted(files.items()):
        if not _allowed(rel):
            problems.append(f"{rel}: ruta no admitida")
        elif rel not in on_disk:
            problems.append(f"{rel}: falta")
        elif not isinstance(info, dict) or _digest(src / rel) != (info.get("sha256"), info.get("bytes")):
            problems.append(f"{rel}: la suma SHA-256 o el tamaño no coinciden con el manifiesto")
    if problems:
        shown = problems[:20] + ([f"… y {len(problems) - 20} más"] if len(problems) > 20 else [])
        raise BackupError(
            "La copia de seguridad no supera la verificación; no se ha restaurado nada:\n  - " + "\n  - ".join(shown)
        )


def _sqlite_empty(path: Path) -> bool:
    """No database there yet, or one without a single table (a stale journal beside it counts as content)."""
    if path.exists() and path.stat().st_size > 0:
        try:
            with contextlib.closing(sqlite3.connect(path)) as conn:
                if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    return False
        except sqlite3.DatabaseError:  # not a database at all: not ours to overwrite either
            return False
    return not any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))


def _pg_empty(url: str) -> bool:
    """No table, sequence, view or function of anyone's in the database (it must exist already)."""
    engine = sa.create_engine(url)
    user_schemas = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
    query = sa.text(
        f"SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {user_schemas})"
        f" + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {user_schemas})"
    )
    try:
        with engine.connect() as conn:
            return conn.execute(query).scalar() == 0
    except sa.exc.SQLAlchemyError as exc:
        raise BackupError(
            "No se puede abrir la base de datos de destino (PORTAL_DATABASE_URL): créela vacía antes de restaurar "
            f"({type(exc).__name__})."
        ) from exc
    finally:
        engine.dispose()


def _refuse_non_empty(settings: Settings, kind: str) -> None:
    busy = [
        f"la carpeta {folder} no está vacía"
        for folder in (Path(settings.stores), Path(settings.uploads))
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir()))
    ]
    empty = _sqlite_empty(_sqlite_path(settings.db_url)) if kind == "sqlite" else _pg_empty(settings.db_url)
    if not empty:
        busy.append("la base de datos (PORTAL_DATABASE_URL) ya tiene tablas")
    if busy:
        raise BackupError(
            "Solo se restaura sobre una carpeta de datos y una base de datos vacías: "
            + "; ".join(busy)
            + ". No se ha modificado nada."
        )


def _stage(src: Path, manifest: dict, prefix: str, target: Path) -> Path | None:
    """Copy the backup's ``prefix`` files into a hidden sibling of ``target`` (re-checked as copied); that folder."""
    chosen = sorted(rel for rel in manifest["files"] if rel.startswith(prefix))
    if not chosen:
        return None
    _dirs(target.parent, DATA_DIR)
    temp = _temp_beside(target, "restore")
    _dirs(temp, DATA_DIR)
    try:
        for rel in chosen:
            path = temp / rel.removeprefix(prefix)
            _dirs(path.parent, DATA_DIR)
            info = manifest["files"][rel]
            if _copy(src / rel, path, DATA_FILE) != (info["sha256"], info["bytes"]):
                raise BackupError(f"{rel} ha cambiado durante la restauración; no se ha restaurado nada.")
        _fsync_tree(temp)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return temp


def _load_database(src: Path, manifest: dict, url: str) -> None:
    database = manifest["database"]
    rel = database["file"]
    if database["kind"] == "postgresql":
        uri, env = _libpq(url)
        command = [_pg_tool("pg_restore"), "--dbname", uri, "--no-owner", "--no-privileges", "--exit-on-error"]
        _run_tool([*command, "--single-transaction", str(src / rel)], env, "pg_restore")
        return
    target = _sqlite_path(url).absolute()
    _dirs(target.parent, DATA_DIR)
    temp = _temp_beside(target, "restore")
    try:
        info = manifest["files"][rel]
        if _copy(src / rel, temp, SQLITE_FILE_MODE) != (info["sha256"], info["bytes"]):
            raise BackupError(f"{rel} ha cambiado durante la restauración; no se ha restaurado nada.")
        Path(f"{target}-shm").unlink(missing_ok=True)  # of the empty database, if one was ever opened
        os.replace(temp, target)
        fsync_dir(target.parent)
    finally:
        temp.unlink(missing_ok=True)


def restore(settings: Settings, src: Path) -> Summary:
    """Restore a backup into the empty data folder and database of ``settings``, then migrate to the head revision.

    Every file is checked against the manifest before anything is touched; a target that is not empty is refused.
    Uploads and stores are copied into hidden sibling folders (checked again as copied), the database is loaded
    (SQLite: a file replaced atomically; PostgreSQL: ``pg_restore --single-transaction``), then the folders are
    renamed into place: a crash leaves each part either absent or whole, never a half-visible store.
    """
    src = Path(src).absolute()
    manifest = read_manifest(src)
    verify(src, manifest)  # every checksum, before anything is touched
    kind = database_kind(settings.db_url)
    database = manifest["database"]
    if database["kind"] != kind:
        raise BackupError(
            f"La copia es de una base de datos {database['kind']} y PORTAL_DATABASE_URL es {kind}: "
            "restaure sobre una base de datos del mismo tipo."
        )
    try:
        ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(str(database.get("schema_revision")))
    except Exception as exc:
        raise BackupError(
            f"La copia es de una versión del portal más nueva (revisión {database.get('schema_revision')}): "
            "actualice el portal antes de restaurarla."
        ) from exc
    _refuse_non_empty(settings, kind)
    stores, uploads = Path(settings.stores).absolute(), Path(settings.uploads).absolute()
    staged: list[tuple[Path | None, Path]] = []
    try:
        for prefix, target in (("uploads/", uploads), ("stores/", stores)):
            staged.append((_stage(src, manifest, prefix, target), target))
        _load_database(src, manifest, settings.db_url)
        for temp, target in staged:  # the stores last: their companies appear whole, or not at all
            if temp is not None:
                _move_into_place(temp, target)
    finally:
        for temp, _ in staged:
            if temp is not None and temp.exists():
                shutil.rmtree(temp, ignore_errors=True)
    with get_engine(settings.db_url).connect() as conn:  # migrates to the head revision
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    files = manifest["files"]
    return Summary(
        src,
        kind,
        str(revision),
        manifest.get("companies", {}),
        sum(1 for rel in files if rel.startswith("uploads/")),
        len(files),
        sum(int(info["bytes"]) for info in files.values()),
        list(manifest.get("left_out", [])),
    )
