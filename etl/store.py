"""Per-company snapshot store: immutable Parquet snapshots, atomic publish pointers, lock, rollback and retention.

Layout (the contract between the ETL, which writes, and the portal, which reads)::

    <store_root>/<company>/
      snapshots/<snapshot_id>/        immutable once committed: *.parquet + manifest.json
      snapshots/.tmp-<snapshot_id>/   being written: never read, removed by cleanup() after a crash
      snapshots/.trash-<snapshot_id>/ being deleted by cleanup() (renamed first so a crash never leaves half a snapshot)
      CURRENT                         JSON pointer to the published snapshot, with the publish history
      PENDING                         JSON pointer to a staged snapshot (manual publish mode); absent otherwise
      CURRENT.tmp, PENDING.tmp        a pointer being written (fsync, then os.replace); removed by cleanup()
      .lock                           fcntl.flock: one writer per company (loads, publish, rollback, cleanup)

``snapshot_id`` is ``<UTC time %Y%m%dT%H%M%S%fZ>-<first 8 hex of the source hash>``, e.g.
``20261128T101530123456Z-1a2b3c4d``: it sorts by creation time and is unique within a company (a new id is
always later than every id already in ``snapshots/``).

``manifest.json`` of a snapshot::

    {"snapshot_id", "company", "created_at" (ISO UTC), "source_hash", "schema_version",
     "files": {"journal.parquet": {"sha256", "bytes", "rows"}, ...},   # rows from the Parquet footer
     ...whatever the loader adds (run_id, formats, date range, totals...)}

``CURRENT`` is ``{"snapshot_id", "published_at", "history": [ids published, newest first, CURRENT first]}`` and
``PENDING`` is ``{"snapshot_id", "staged_at"}``.

Commit protocol: the loader writes its Parquet files into ``.tmp-<id>/``; ``commit()`` fsyncs every file, writes and
fsyncs ``manifest.json``, fsyncs the directory, renames it to ``<id>`` and fsyncs ``snapshots/``. Publishing writes
``CURRENT.tmp``, fsyncs it, ``os.replace``-s it over ``CURRENT`` and fsyncs the company folder: that replace is the
commit point. Readers resolve ``CURRENT`` once and then only use the versioned paths of that snapshot.

Writers (``new_snapshot``, ``publish``, ``stage``, ``rollback``, ``cleanup``...) hold the company lock. The lock is
re-entrant within a thread, so a loader holding ``lock()`` can call ``publish()`` without deadlocking; another thread
or process gets ``StoreLocked``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import pyarrow.parquet as pq

from portal.codes import is_company_code
from portal.errors import PortalError

CRASH_ENV = "PORTAL_CRASH_AT"
CRASH_DELAY_ENV = "PORTAL_CRASH_DELAY"  # test hook: seconds to sleep at every crash point (random-kill tests)
SCHEMA_VERSION = 1
HISTORY_LIMIT = 50
MANIFEST = "manifest.json"
SNAPSHOTS = "snapshots"
CURRENT = "CURRENT"
PENDING = "PENDING"
LOCK = ".lock"
CLUSTER_LOCK_PREFIX = "portal-store:"  # + company code: the name of its lock on every machine
TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
ID_TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"
SNAPSHOT_ID = re.compile(r"\A(\d{8}T\d{12}Z)-([0-9a-f]{8})\Z")
SOURCE_HASH = re.compile(r"\A[0-9a-f]{8,128}\Z")
FILE_NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
RESERVED_KEYS = ("snapshot_id", "company", "created_at", "source_hash", "files")


class StoreError(PortalError):
    """The store refuses an operation or finds its files inconsistent."""


class StoreLocked(StoreError):
    """Another load or publish of the same company holds the lock."""

    def __init__(self, company: str) -> None:
        super().__init__(f"Ya hay una carga en curso para la empresa {company}")
        self.company = company


def crash_point(name: str) -> None:
    """Die by SIGKILL here when ``PORTAL_CRASH_AT`` names this point (crash tests); otherwise a no-op."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    delay = os.environ.get(CRASH_DELAY_ENV)
    if delay:
        with contextlib.suppress(ValueError):
            time.sleep(float(delay))


# --- the company lock -----------------------------------------------------------------------------------------------


class ClusterLocks(Protocol):
    """Locks shared by every machine of the installation (``portal.db.AdvisoryLocks`` on PostgreSQL)."""

    def try_acquire(self, name: str) -> Any | None: ...

    def release(self, name: str, token: Any) -> None: ...


@dataclass
class _Held:
    """A company lock this process holds: file descriptor, owning thread, re-entry depth and its cluster lock."""

    fd: int
    owner: int
    depth: int
    cluster: ClusterLocks | None = None
    name: str = ""
    token: Any = None  # what the cluster lock needs to let go (a database connection)


_guard = threading.Lock()
_held: dict[str, _Held] = {}  # lock file path -> holder (this process only)
_active_tmp: set[str] = set()  # .tmp dirs of writers alive in this process (cleanup() must not remove them)
_published: dict[tuple[str, str], tuple[tuple, Snapshot]] = {}  # (store root, company) -> (file stamps, CURRENT)
_inherited: list[Any] = []  # cluster-lock connections a forked child got from its parent: kept, never closed


def _file_stamps(*paths: Path) -> tuple | None:
    """Device, inode, modification time and size of each file (following links); None when one is missing."""
    try:
        return tuple((s.st_dev, s.st_ino, s.st_mtime_ns, s.st_size) for s in map(os.stat, paths))
    except OSError:
        return None


def _forget_locks_after_fork() -> None:
    """A forked child does not own its parent's locks: close the inherited descriptors and forget them."""
    global _guard
    _guard = threading.Lock()  # another thread of the parent may have held it at fork time
    for held in _held.values():
        with contextlib.suppress(OSError):
            os.close(held.fd)
        if held.token is not None:  # closing it here would end the parent's database session, and its lock
            _inherited.append(held.token)
    _held.clear()
    _active_tmp.clear()


os.register_at_fork(after_in_child=_forget_locks_after_fork)


def _try_acquire(key: str, cluster: ClusterLocks | None, name: str) -> bool:
    """Take the lock at ``key`` (or re-enter it in the owning thread) without waiting.

    The file lock comes first (this machine), then the cluster lock ``name`` (every machine): both or neither.
    """
    with _guard:
        held = _held.get(key)
        if held is not None:
            if held.owner != threading.get_ident():
                return False
            held.depth += 1
            return True
        fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        token = None
        if cluster is not None:
            try:
                token = cluster.try_acquire(name)
            finally:
                if token is None:  # held on another machine, or the database failed: let go of this one too
                    _unlock(fd)
            if token is None:
                return False
        _held[key] = _Held(fd=fd, owner=threading.get_ident(), depth=1, cluster=cluster, name=name, token=token)
        return True


def _acquire(key: str, company: str, timeout: float, cluster: ClusterLocks | None = None) -> None:
    """Take the lock, polling until ``timeout`` seconds have passed; StoreLocked after that."""
    deadline = time.monotonic() + max(timeout, 0.0)
    while not _try_acquire(key, cluster, f"{CLUSTER_LOCK_PREFIX}{company}"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StoreLocked(company)
        time.sleep(min(0.02, remaining))


def _unlock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _release(key: str) -> None:
    """Leave the lock once; the file lock is dropped when the outermost holder leaves."""
    with _guard:
        held = _held.get(key)
        if held is None:
            return
        held.depth -= 1
        if held.depth == 0:
            del _held[key]
            try:
                if held.cluster is not None:
                    held.cluster.release(held.name, held.token)
            finally:
                _unlock(held.fd)


# --- small file helpers ---------------------------------------------------------------------------------------------


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (creations, renames, deletions) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json_default(value: object) -> object:
    """JSON for the values loaders put in manifests: dates, decimals (exact, as text), paths."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} no se puede guardar en el manifiesto")


def _write_durable(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write a small text file and fsync it before returning."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _hash_and_sync(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, fsyncing it on the way."""
    return _file_digest(path, sync=True)


def _file_digest(path: Path, *, sync: bool = False) -> tuple[str, int]:
    """SHA-256 and size of a file (and an fsync of it when asked)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
            size += len(chunk)
        if sync:
            os.fsync(fh.fileno())
    return digest.hexdigest(), size


def _now() -> datetime:
    return datetime.now(UTC)


def _id_time(snapshot_id: str) -> datetime:
    """The creation time encoded in a snapshot id."""
    stamp = SNAPSHOT_ID.match(snapshot_id)
    if stamp is None:
        raise StoreError(f"Identificador de carga no válido: {snapshot_id!r}")
    return datetime.strptime(stamp.group(1), ID_TIME_FORMAT).replace(tzinfo=UTC)


def is_snapshot_id(snapshot_id: object) -> bool:
    """True for a well-formed snapshot id (time stamp and 8 hex digits, nothing else)."""
    return isinstance(snapshot_id, str) and SNAPSHOT_ID.match(snapshot_id) is not None


# --- snapshots ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """A committed, immutable snapshot of one company: its folder and its manifest."""

    company: str
    snapshot_id: str
    path: Path
    manifest: dict[str, Any] = field(compare=False, hash=False, repr=False)

    @property
    def created_at(self) -> str:
        """When the snapshot was created (ISO 8601, UTC)."""
        return str(self.manifest["created_at"])

    @property
    def source_hash(self) -> str:
        """Hash of the source files the snapshot was built from."""
        return str(self.manifest["source_hash"])

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        """The manifest's file table: name -> {sha256, bytes, rows}."""
        return dict(self.manifest["files"])

    @property
    def rows(self) -> dict[str, int | None]:
        """Row count of every file (from the Parquet footers at commit time)."""
        return {name: info.get("rows") for name, info in self.manifest["files"].items()}

    def _entry(self, name: str) -> str | None:
        files = self.manifest["files"]
        if name in files:
            return name
        return f"{name}.parquet" if f"{name}.parquet" in files else None

    def has(self, name: str) -> bool:
        """Whether the snapshot contains the file (``journal`` or ``journal.parquet``)."""
        return self._entry(name) is not None

    def file(self, name: str) -> Path:
        """Path of one file of the snapshot (``journal`` or ``journal.parquet``), checked to exist."""
        entry = self._entry(name)
        if entry is None or not FILE_NAME.match(entry):
            raise StoreError(f"La carga {self.snapshot_id} de la empresa {self.company} no contiene «{name}»")
        path = self.path / entry
        if not path.is_file():
            raise StoreError(f"Falta el fichero {entry} en la carga {self.snapshot_id} de la empresa {self.company}")
        return path

    def verify(self) -> None:
        """Recompute every file's SHA-256 and size against the manifest; StoreError on any difference."""
        for name, info in self.manifest["files"].items():
            digest, size = _file_digest(self.file(name))
            if digest != info["sha256"] or size != info["bytes"]:
                raise StoreError(
                    f"El fichero {name} de la carga {self.snapshot_id} de la empresa {self.company} "
                    "no coincide con su manifiesto"
                )


class SnapshotWriter:
    """A snapshot being written: the caller puts Parquet files in ``path``, then calls ``commit`` or ``abort``.

    The writer holds the company lock from ``Store.new_snapshot`` until ``commit`` or ``abort``. Used as a context
    manager it aborts when the block raises (or ends without committing).
    """

    def __init__(self, store: Store, company: str, snapshot_id: str, source_hash: str, lock_key: str) -> None:
        self.store = store
        self.company = company
        self.snapshot_id = snapshot_id
        self.source_hash = source_hash
        self.path = store.company_dir(company) / SNAPSHOTS / f"{TMP_PREFIX}{snapshot_id}"
        self._lock_key = lock_key
        self._open = True

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._open:
            self.abort()

    def _close(self) -> None:
        if self._open:
            self._open = False
            with _guard:
                _active_tmp.discard(str(self.path))
            _release(self._lock_key)

    def _file_table(self) -> dict[str, dict[str, Any]]:
        """Checksums, sizes and row counts of the files the caller wrote (each fsynced)."""
        entries = sorted(self.path.iterdir(), key=lambda p: p.name)
        table: dict[str, dict[str, Any]] = {}
        for path in entries:
            if path.is_symlink() or not path.is_file() or not FILE_NAME.match(path.name) or path.name == MANIFEST:
                raise StoreError(f"La carga contiene una entrada no admitida: «{path.name}»")
            digest, size = _hash_and_sync(path)
            rows: int | None = None
            if path.suffix == ".parquet":
                try:
                    rows = pq.read_metadata(path).num_rows
                except Exception as exc:
                    raise StoreError(f"El fichero {path.name} de la carga no es un Parquet válido") from exc
            table[path.name] = {"sha256": digest, "bytes": size, "rows": rows}
        if not table:
            raise StoreError(f"La carga de la empresa {self.company} no contiene ningún fichero")
        return table

    def _manifest(self, files: dict[str, dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
        clash = [key for key in RESERVED_KEYS if key in extra]
        if clash:
            raise StoreError(f"El manifiesto no admite estas claves del cargador: {', '.join(clash)}")
        manifest: dict[str, Any] = {
            "snapshot_id": self.snapshot_id,
            "company": self.company,
            "created_at": _id_time(self.snapshot_id).isoformat(),
            "source_hash": self.source_hash,
            "schema_version": SCHEMA_VERSION,
        }
        manifest.update(extra)
        manifest["files"] = files
        return manifest

    def commit(self, extra_manifest: dict[str, Any] | None = None) -> Snapshot:
        """Seal the snapshot: checksums and rows into a fsynced manifest, then rename the folder into place."""
        if not self._open:
            raise StoreError(f"La carga {self.snapshot_id} ya está cerrada")
        try:
            files = self._file_table()
            crash_point("after_files_before_manifest")
            manifest = self._manifest(files, dict(extra_manifest or {}))
            text = json.dumps(manifest, ensure_ascii=False, indent=2, default=_json_default)
            _write_durable(self.path / MANIFEST, text, exclusive=True)
            for name in files:
                (self.path / name).chmod(0o440)  # immutable, and no one outside the group reads it
            fsync_dir(self.path)
            crash_point("after_manifest_before_rename")
            final = self.path.parent / self.snapshot_id
            if final.exists():
                raise StoreError(f"La carga {self.snapshot_id} ya existe en la empresa {self.company}")
            os.rename(self.path, final)
            fsync_dir(final.parent)
            crash_point("after_rename_before_pointer")
        except BaseException:
            self.abort()
            raise
        self._close()
        return Snapshot(self.company, self.snapshot_id, final, manifest)

    def abort(self) -> None:
        """Drop the snapshot being written and release the lock."""
        if not self._open:
            return
        try:
            shutil.rmtree(self.path, ignore_errors=True)
        finally:
            self._close()


# --- the store ------------------------------------------------------------------------------------------------------


class Store:
    """The snapshot stores of every company under one root folder. Cheap to create; holds no state but paths."""

    def __init__(self, root: Path, *, keep: int = 7, cluster: ClusterLocks | None = None) -> None:
        if keep < 1:
            raise StoreError("El número de cargas a conservar debe ser al menos 1")
        self.root = Path(root)
        self.keep = keep
        self.cluster = cluster  # writers on several machines (PostgreSQL): the company lock is also taken there

    # paths and validation

    def companies(self) -> list[str]:
        """Codes of the companies that have a store folder, sorted."""
        if not self.root.is_dir():
            return []
        found = []
        for entry in self.root.iterdir():
            try:
                if self.company_dir(entry.name).is_dir():
                    found.append(entry.name)
            except StoreError:
                continue
        return sorted(found)

    def company_dir(self, company: str) -> Path:
        """The company's folder, after checking the code and that the folder lies inside the root (no symlinks)."""
        if not isinstance(company, str) or "\n" in company or not is_company_code(company):
            raise StoreError(f"Código de empresa no válido: {company!r}")
        root = self.root.resolve()
        path = root / company
        if path.resolve() != path:
            raise StoreError(f"La carpeta de la empresa {company} sale del almacén")
        return path

    def _snapshots_dir(self, company: str) -> Path:
        path = self.company_dir(company) / SNAPSHOTS
        if path.resolve() != path:
            raise StoreError(f"La carpeta de cargas de la empresa {company} sale del almacén")
        return path

    def _ensure_dirs(self, company: str) -> Path:
        """Create the company folder and its snapshots folder (durably); returns the company folder."""
        cdir = self.company_dir(company)
        if not cdir.is_dir():
            cdir.parent.mkdir(parents=True, exist_ok=True)
            cdir.mkdir(exist_ok=True)
            fsync_dir(cdir.parent)
        snaps = self._snapshots_dir(company)
        if not snaps.is_dir():
            snaps.mkdir(exist_ok=True)
            fsync_dir(cdir)
        return cdir

    # lock

    def _lock_key(self, company: str) -> str:
        return str(self._ensure_dirs(company) / LOCK)

    @contextlib.contextmanager
    def lock(self, company: str, timeout: float = 0.0) -> Iterator[None]:
        """Hold the company's writer lock (re-entrant in the same thread); StoreLocked after ``timeout`` seconds."""
        key = self._lock_key(company)
        _acquire(key, company, timeout, self.cluster)
        try:
            yield
        finally:
            _release(key)

    # writing snapshots

    def _new_id(self, snaps: Path, source_hash: str) -> str:
        """A fresh id, later than every id (committed, tmp or trash) already in the folder."""
        stamp = _now().replace(tzinfo=None)
        for entry in snaps.iterdir():
            name = entry.name.removeprefix(TMP_PREFIX).removeprefix(TRASH_PREFIX)
            if is_snapshot_id(name):
                seen = _id_time(name).replace(tzinfo=None)
                if seen >= stamp:
                    stamp = seen + timedelta(microseconds=1)
        return f"{stamp.strftime(ID_TIME_FORMAT)}-{source_hash[:8]}"

    def new_snapshot(self, company: str, source_hash: str) -> SnapshotWriter:
        """Start a snapshot: takes the company lock (StoreLocked if busy) and creates ``snapshots/.tmp-<id>/``."""
        source_hash = str(source_hash).lower()
        if not SOURCE_HASH.match(source_hash):
            raise StoreError(f"Huella de origen no válida: {source_hash!r}")
        key = self._lock_key(company)
        _acquire(key, company, 0.0, self.cluster)
        try:
            snaps = self._snapshots_dir(company)
            snapshot_id = self._new_id(snaps, source_hash)
            writer = SnapshotWriter(self, company, snapshot_id, source_hash, key)
            writer.path.mkdir()
            fsync_dir(snaps)
            with _guard:
                _active_tmp.add(str(writer.path))
        except BaseException:
            _release(key)
            raise
        crash_point("after_tmp_created")
        return writer

    # reading

    def snapshot(self, company: str, snapshot_id: str) -> Snapshot:
        """A committed snapshot by id; StoreError when the id is malformed or the snapshot is missing or damaged."""
        if not is_snapshot_id(snapshot_id):
            raise StoreError(f"Identificador de carga no válido: {snapshot_id!r}")
        path = self._snapshots_dir(company) / snapshot_id
        missing = StoreError(f"La carga {snapshot_id} de la empresa {company} no existe o está incompleta")
        if path.resolve() != path:
            raise StoreError(f"La carga {snapshot_id} de la empresa {company} sale del almacén")
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise missing from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StoreError(f"El manifiesto de la carga {snapshot_id} de la empresa {company} está dañado") from exc
        if (
            not isinstance(manifest, dict)
            or manifest.get("snapshot_id") != snapshot_id
            or manifest.get("company") != company
            or not isinstance(manifest.get("files"), dict)
        ):
            raise StoreError(f"El manifiesto de la carga {snapshot_id} no corresponde a la empresa {company}")
        return Snapshot(company, snapshot_id, path, manifest)

    def _read_pointer(self, company: str, name: str) -> dict[str, Any] | None:
        """The raw JSON of CURRENT or PENDING (read once), None when absent."""
        path = self.company_dir(company) / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StoreError(f"El puntero {name} de la empresa {company} está dañado") from exc
        if not isinstance(data, dict) or not is_snapshot_id(data.get("snapshot_id")):
            raise StoreError(f"El puntero {name} de la empresa {company} está dañado")
        return data

    def publication(self, company: str) -> dict[str, Any] | None:
        """The CURRENT pointer as read (snapshot_id, published_at, history), None when nothing was published."""
        return self._read_pointer(company, CURRENT)

    def _pointer_id(self, company: str, name: str) -> str | None:
        data = self._read_pointer(company, name)
        return None if data is None else str(data["snapshot_id"])

    def current(self, company: str) -> Snapshot | None:
        """The published snapshot, or None when nothing was ever published.

        Read on every click of every page: the checked reading (pointer, folder checks, manifest) is kept per store
        and company and served again while the pointer and the manifest files are the very same files (device,
        inode, modification time, size); a publication or rollback replaces the pointer, so the next call reads again.
        """
        if not isinstance(company, str) or not is_company_code(company):
            raise StoreError(f"Código de empresa no válido: {company!r}")
        key, pointer = (str(self.root), company), self.root / company / CURRENT
        kept = _published.get(key)
        if kept is not None and kept[0] == _file_stamps(pointer, kept[1].path / MANIFEST):
            return kept[1]
        snapshot_id = self._pointer_id(company, CURRENT)
        if snapshot_id is None:
            return None
        stamps = _file_stamps(pointer, self.root / company / SNAPSHOTS / snapshot_id / MANIFEST)
        snapshot = self.snapshot(company, snapshot_id)  # the checked reading (folders inside the store, manifest)
        if stamps is not None:  # taken before reading: a pointer replaced meanwhile differs at the next call
            _published[key] = (stamps, snapshot)
        return snapshot

    def pending(self, company: str) -> Snapshot | None:
        """The staged snapshot awaiting staff approval, or None."""
        snapshot_id = self._pointer_id(company, PENDING)
        if snapshot_id is None or snapshot_id == self._pointer_id(company, CURRENT):
            return None
        return self.snapshot(company, snapshot_id)

    def snapshots(self, company: str) -> list[Snapshot]:
        """Every committed snapshot of the company, newest first (damaged ones skipped)."""
        snaps = self._snapshots_dir(company)
        if not snaps.is_dir():
            return []
        found = []
        for entry in snaps.iterdir():
            if is_snapshot_id(entry.name):
                with contextlib.suppress(StoreError):
                    found.append(self.snapshot(company, entry.name))
        return sorted(found, key=lambda s: s.snapshot_id, reverse=True)

    def history(self, company: str) -> list[str]:
        """Ids published, newest first; the first one is CURRENT (empty when nothing was published).

        Older entries may name snapshots that retention has removed: check with ``snapshot()`` before offering them.
        """
        data = self._read_pointer(company, CURRENT)
        if data is None:
            return []
        history = [str(i) for i in data.get("history", []) if is_snapshot_id(i)]
        if not history or history[0] != data["snapshot_id"]:
            history.insert(0, str(data["snapshot_id"]))
        return history

    def find_source_hash(self, company: str, source_hash: str) -> Snapshot | None:
        """The current or pending snapshot built from exactly these sources, if any (idempotent loads)."""
        for read in (self.current, self.pending):
            try:
                snapshot = read(company)
            except StoreError:  # a damaged pointer must not block the load that will repair it
                continue
            if snapshot is not None and snapshot.source_hash == str(source_hash).lower():
                return snapshot
        return None

    # pointers

    def _write_pointer(self, company: str, name: str, data: dict[str, Any]) -> None:
        """Replace a pointer atomically and durably: temp file, fsync, os.replace, fsync the folder."""
        cdir = self.company_dir(company)
        tmp = cdir / f"{name}.tmp"
        _write_durable(tmp, json.dumps(data, ensure_ascii=False, indent=2))
        crash_point("after_pointer_tmp_before_replace")
        os.replace(tmp, cdir / name)
        crash_point("after_pointer_replace")
        fsync_dir(cdir)

    def _remove_pointer(self, company: str, name: str) -> None:
        cdir = self.company_dir(company)
        with contextlib.suppress(FileNotFoundError):
            (cdir / name).unlink()
            fsync_dir(cdir)

    def _set_current(self, company: str, snapshot_id: str, history: list[str]) -> None:
        data = {"snapshot_id": snapshot_id, "published_at": _now().isoformat(), "history": history[:HISTORY_LIMIT]}
        self._write_pointer(company, CURRENT, data)

    def _publish_locked(self, company: str, snapshot_id: str) -> None:
        """Publish with the lock already held by the caller."""
        self.snapshot(company, snapshot_id)  # must exist, complete
        try:
            history = self.history(company)
        except StoreError:  # a damaged CURRENT is repaired by publishing; its history is lost
            history = []
        if not history or history[0] != snapshot_id:
            self._set_current(company, snapshot_id, [snapshot_id, *history])
        if self._pointer_id(company, PENDING) == snapshot_id:
            self._remove_pointer(company, PENDING)

    def publish(self, company: str, snapshot_id: str) -> None:
        """Make a committed snapshot the one clients see (the previous one goes on the history)."""
        with self.lock(company):
            self._publish_locked(company, snapshot_id)

    def stage(self, company: str, snapshot_id: str) -> None:
        """Leave a committed snapshot pending staff approval; what clients see does not change."""
        with self.lock(company):
            self.snapshot(company, snapshot_id)
            if snapshot_id == self._pointer_id(company, CURRENT):
                self._remove_pointer(company, PENDING)
                return
            self._write_pointer(company, PENDING, {"snapshot_id": snapshot_id, "staged_at": _now().isoformat()})

    def publish_pending(self, company: str) -> str:
        """Publish the staged snapshot; returns its id."""
        with self.lock(company):
            pending = self.pending(company)
            if pending is None:
                self._remove_pointer(company, PENDING)
                raise StoreError(f"No hay ninguna carga pendiente para la empresa {company}")
            self._publish_locked(company, pending.snapshot_id)
            return pending.snapshot_id

    def discard_pending(self, company: str) -> None:
        """Forget the staged snapshot (retention deletes its files later)."""
        with self.lock(company):
            self._remove_pointer(company, PENDING)

    def _on_disk(self, company: str, snapshot_id: str) -> bool:
        try:
            self.snapshot(company, snapshot_id)
        except StoreError:
            return False
        return True

    def rollback(self, company: str) -> str:
        """Point CURRENT back to the previously published snapshot still on disk; returns its id."""
        with self.lock(company):
            history = self.history(company)
            current = history[0] if history else None
            for index, snapshot_id in enumerate(history[1:], start=1):
                if snapshot_id != current and self._on_disk(company, snapshot_id):
                    self._set_current(company, snapshot_id, history[index:])
                    return snapshot_id
            raise StoreError(f"No hay ninguna carga anterior a la que volver para la empresa {company}")

    # retention

    def _remove_dir(self, path: Path, trash_name: str) -> None:
        """Delete a folder crash-safely: rename it to a trash name first, then remove it."""
        trash = path.parent / trash_name
        if path != trash:
            os.rename(path, trash)
            fsync_dir(path.parent)
        shutil.rmtree(trash)

    def cleanup(self, company: str) -> list[str]:
        """Remove leftovers of crashed loads and snapshots beyond retention; returns the names removed.

        Takes the lock (StoreLocked if another load runs). Removes ``.tmp-*`` and ``.trash-*`` folders (reported
        as their folder names) and pointer temp files, then every committed snapshot outside the newest ``keep``
        that is neither CURRENT, PENDING nor among the last ``keep`` published (reported by id).
        """
        cdir = self.company_dir(company)
        if not cdir.is_dir():
            return []
        removed: list[str] = []
        with self.lock(company):
            snaps = self._snapshots_dir(company)
            for entry in sorted(snaps.iterdir()):
                if not entry.name.startswith((TMP_PREFIX, TRASH_PREFIX)):
                    continue
                with _guard:
                    active = str(entry) in _active_tmp
                if not active:
                    self._remove_dir(entry, entry.name)
                    removed.append(entry.name)
            for name in (CURRENT, PENDING):
                with contextlib.suppress(FileNotFoundError):
                    (cdir / f"{name}.tmp").unlink()
            protected = set(self.history(company)[: self.keep])
            protected.update(i for i in (self._pointer_id(company, CURRENT), self._pointer_id(company, PENDING)) if i)
            for snapshot in self.snapshots(company)[self.keep :]:
                if snapshot.snapshot_id not in protected:
                    self._remove_dir(snapshot.path, f"{TRASH_PREFIX}{snapshot.snapshot_id}")
                    removed.append(snapshot.snapshot_id)
            fsync_dir(snaps)
        return removed
