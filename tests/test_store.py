"""Tests of the snapshot store: manifests, publish/stage/rollback, retention, validation and the company lock."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.store import Snapshot, Store, StoreError, StoreLocked, crash_point

REPO = Path(__file__).resolve().parents[1]
ID_PATTERN = r"^\d{8}T\d{12}Z-[0-9a-f]{8}$"

LOCK_SCRIPT = """
import sys, time
from pathlib import Path
from etl.store import Store, StoreLocked
store = Store(Path(sys.argv[1]))
mode = sys.argv[3]
if mode == "try":
    try:
        with store.lock(sys.argv[2]):
            print("free", flush=True)
    except StoreLocked as exc:
        print("busy", exc, flush=True)
    sys.exit(0)
with store.lock(sys.argv[2]):
    print("locked", flush=True)
    if mode == "stdin":
        sys.stdin.readline()
    else:
        time.sleep(float(mode))
print("released", flush=True)
"""


def hash_of(tag: str) -> str:
    return hashlib.sha256(tag.encode()).hexdigest()


def make_snapshot(store: Store, company: str = "ACME", tag: str = "a", rows: tuple[int, int] = (3, 2)) -> Snapshot:
    """Commit a snapshot with journal.parquet and accounts.parquet of the given row counts."""
    with store.new_snapshot(company, hash_of(tag)) as writer:
        pq.write_table(pa.table({"n": list(range(rows[0]))}), writer.path / "journal.parquet")
        pq.write_table(pa.table({"code": [str(i) for i in range(rows[1])]}), writer.path / "accounts.parquet")
        return writer.commit({"run_id": tag})


def lock_process(root: Path, company: str, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", LOCK_SCRIPT, str(root), company, mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def try_lock_elsewhere(root: Path, company: str) -> str:
    """'free' or 'busy …' as seen by another process trying the lock."""
    proc = lock_process(root, company, "try")
    out, _ = proc.communicate(timeout=30)
    return out.strip()


def lock_free_in_other_thread(store: Store, company: str) -> bool:
    result: list[bool] = []

    def attempt() -> None:
        try:
            with store.lock(company):
                result.append(True)
        except StoreLocked:
            result.append(False)

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join()
    return result[0]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "stores")


# --- snapshots and manifests ----------------------------------------------------------------------------------------


def test_commit_writes_a_manifest_that_matches_the_files(store: Store) -> None:
    snap = make_snapshot(store, tag="a", rows=(3, 2))
    assert snap.path == store.root.resolve() / "ACME" / "snapshots" / snap.snapshot_id
    assert snap.snapshot_id.endswith("-" + hash_of("a")[:8])
    assert re.match(ID_PATTERN, snap.snapshot_id)
    on_disk = json.loads((snap.path / "manifest.json").read_text())
    assert on_disk == snap.manifest
    assert on_disk["company"] == "ACME"
    assert on_disk["source_hash"] == hash_of("a")
    assert on_disk["schema_version"] == 1
    assert on_disk["run_id"] == "a"
    assert sorted(on_disk["files"]) == ["accounts.parquet", "journal.parquet"]
    for name in ("journal.parquet", "accounts.parquet"):
        data = (snap.path / name).read_bytes()
        assert on_disk["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert on_disk["files"][name]["bytes"] == len(data)
        assert (snap.path / name).stat().st_mode & 0o222 == 0  # read-only once committed
    assert snap.rows == {"journal.parquet": 3, "accounts.parquet": 2}
    created = datetime.fromisoformat(snap.created_at)
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0
    assert created.strftime("%Y%m%dT%H%M%S%fZ") == snap.snapshot_id.split("-")[0]
    assert snap.source_hash == hash_of("a")
    assert [p.name for p in (store.root / "ACME" / "snapshots").iterdir()] == [snap.snapshot_id]
    snap.verify()


def test_manifest_extra_values_dates_and_decimals(store: Store) -> None:
    with store.new_snapshot("ACME", hash_of("x")) as writer:
        pq.write_table(pa.table({"n": [1]}), writer.path / "journal.parquet")
        snap = writer.commit({"first_day": date(2025, 1, 1), "total": Decimal("1234.50"), "formats": {"csv"}})
    manifest = json.loads((snap.path / "manifest.json").read_text())
    assert manifest["first_day"] == "2025-01-01"
    assert manifest["total"] == "1234.50"
    assert manifest["formats"] == ["csv"]


@pytest.mark.parametrize("key", ["files", "snapshot_id", "company", "source_hash", "created_at"])
def test_commit_refuses_reserved_manifest_keys_and_leaves_nothing(store: Store, key: str) -> None:
    writer = store.new_snapshot("ACME", hash_of("x"))
    pq.write_table(pa.table({"n": [1]}), writer.path / "journal.parquet")
    with pytest.raises(StoreError, match="no admite"):
        writer.commit({key: "x"})
    assert list((store.root / "ACME" / "snapshots").iterdir()) == []
    assert lock_free_in_other_thread(store, "ACME")


def test_commit_refuses_bad_content(store: Store) -> None:
    writer = store.new_snapshot("ACME", hash_of("x"))
    (writer.path / "journal.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(StoreError, match=r"journal.parquet de la carga no es un Parquet válido"):
        writer.commit({})
    writer = store.new_snapshot("ACME", hash_of("x"))
    (writer.path / "sub").mkdir()
    with pytest.raises(StoreError, match="entrada no admitida: «sub»"):
        writer.commit({})
    writer = store.new_snapshot("ACME", hash_of("x"))
    with pytest.raises(StoreError, match="no contiene ningún fichero"):
        writer.commit({})
    assert store.snapshots("ACME") == []
    assert list((store.root / "ACME" / "snapshots").iterdir()) == []


@pytest.mark.parametrize("bad", ["", "xyz", "1234567", "g" * 64, "../" + "a" * 61])
def test_new_snapshot_refuses_bad_source_hash(store: Store, bad: str) -> None:
    with pytest.raises(StoreError, match="Huella de origen no válida"):
        store.new_snapshot("ACME", bad)


def test_writer_context_aborts_on_error_and_releases_the_lock(store: Store) -> None:
    with pytest.raises(RuntimeError), store.new_snapshot("ACME", hash_of("x")) as writer:
        pq.write_table(pa.table({"n": [1]}), writer.path / "journal.parquet")
        raise RuntimeError("boom")
    assert not writer.path.exists()
    assert lock_free_in_other_thread(store, "ACME")
    writer = store.new_snapshot("ACME", hash_of("y"))
    assert not lock_free_in_other_thread(store, "ACME")  # the open writer holds the lock
    writer.abort()
    assert not writer.path.exists()
    assert lock_free_in_other_thread(store, "ACME")
    with pytest.raises(StoreError, match="ya está cerrada"):
        writer.commit({})


def test_ids_are_unique_and_sortable_even_after_a_future_leftover(store: Store) -> None:
    ids = [make_snapshot(store, tag="same").snapshot_id for _ in range(3)]
    assert len(set(ids)) == 3 and ids == sorted(ids)
    assert [s.snapshot_id for s in store.snapshots("ACME")] == list(reversed(ids))
    (store.root / "ACME" / "snapshots" / ".tmp-20990101T000000000000Z-aaaaaaaa").mkdir()
    later = make_snapshot(store, tag="same").snapshot_id
    assert later == "20990101T000000000001Z-" + hash_of("same")[:8]


def test_snapshot_file_lookup_and_verify(store: Store) -> None:
    snap = make_snapshot(store)
    assert snap.file("journal") == snap.file("journal.parquet") == snap.path / "journal.parquet"
    assert snap.has("accounts") and not snap.has("payroll")
    with pytest.raises(StoreError, match="no contiene «payroll»"):
        snap.file("payroll")
    with pytest.raises(StoreError, match="no contiene"):
        snap.file("../CURRENT")
    target = snap.path / "accounts.parquet"
    target.chmod(0o644)
    with target.open("r+b") as fh:
        fh.seek(10)
        fh.write(b"X")
    with pytest.raises(StoreError, match=r"accounts.parquet .* no coincide con su manifiesto"):
        snap.verify()
    target.unlink()
    with pytest.raises(StoreError, match=r"Falta el fichero accounts.parquet"):
        snap.file("accounts")


# --- publish, stage, rollback ---------------------------------------------------------------------------------------


def test_publish_pushes_history_newest_first(store: Store) -> None:
    assert store.current("ACME") is None and store.history("ACME") == []
    a, b, c = (make_snapshot(store, tag=t) for t in "abc")
    for snap in (a, b, c):
        store.publish("ACME", snap.snapshot_id)
    store.publish("ACME", c.snapshot_id)  # again: no duplicate
    assert store.current("ACME") == c
    assert store.history("ACME") == [c.snapshot_id, b.snapshot_id, a.snapshot_id]
    pointer = json.loads((store.root / "ACME" / "CURRENT").read_text())
    assert pointer["snapshot_id"] == c.snapshot_id
    assert not (store.root / "ACME" / "CURRENT.tmp").exists()


def test_stage_keeps_current_until_publish_pending(store: Store) -> None:
    a, b = make_snapshot(store, tag="a"), make_snapshot(store, tag="b")
    store.publish("ACME", a.snapshot_id)
    store.stage("ACME", b.snapshot_id)
    assert store.current("ACME") == a
    assert store.pending("ACME") == b
    assert store.publish_pending("ACME") == b.snapshot_id
    assert store.current("ACME") == b
    assert store.pending("ACME") is None
    assert not (store.root / "ACME" / "PENDING").exists()
    assert store.history("ACME") == [b.snapshot_id, a.snapshot_id]
    with pytest.raises(StoreError, match="No hay ninguna carga pendiente para la empresa ACME"):
        store.publish_pending("ACME")


def test_discard_pending_leaves_current(store: Store) -> None:
    a, b = make_snapshot(store, tag="a"), make_snapshot(store, tag="b")
    store.publish("ACME", a.snapshot_id)
    store.stage("ACME", b.snapshot_id)
    store.discard_pending("ACME")
    assert store.pending("ACME") is None
    assert store.current("ACME") == a
    assert store.history("ACME") == [a.snapshot_id]
    store.discard_pending("ACME")  # nothing pending: no error


def test_publish_clears_pending_only_when_it_pointed_there(store: Store) -> None:
    a, b, c = (make_snapshot(store, tag=t) for t in "abc")
    store.publish("ACME", a.snapshot_id)
    store.stage("ACME", b.snapshot_id)
    store.publish("ACME", c.snapshot_id)
    assert store.pending("ACME") == b
    store.publish("ACME", b.snapshot_id)
    assert store.pending("ACME") is None
    store.stage("ACME", b.snapshot_id)  # staging what is already published: nothing pending
    assert store.pending("ACME") is None
    assert not (store.root / "ACME" / "PENDING").exists()


def test_rollback_walks_back_the_history(store: Store) -> None:
    with pytest.raises(StoreError, match="No hay ninguna carga anterior"):
        store.rollback("ACME")
    a, b, c = (make_snapshot(store, tag=t) for t in "abc")
    store.publish("ACME", a.snapshot_id)
    with pytest.raises(StoreError, match="No hay ninguna carga anterior a la que volver para la empresa ACME"):
        store.rollback("ACME")
    store.publish("ACME", b.snapshot_id)
    store.publish("ACME", c.snapshot_id)
    assert store.rollback("ACME") == b.snapshot_id
    assert store.current("ACME") == b
    assert store.history("ACME") == [b.snapshot_id, a.snapshot_id]
    assert store.rollback("ACME") == a.snapshot_id
    assert store.history("ACME") == [a.snapshot_id]
    with pytest.raises(StoreError, match="No hay ninguna carga anterior"):
        store.rollback("ACME")
    assert store.current("ACME") == a


def test_current_is_read_once_and_again_when_its_files_change(store: Store, tmp_path: Path, monkeypatch) -> None:
    """The published snapshot is kept per store and company while its pointer and manifest are the same files."""
    a, b = make_snapshot(store, tag="a"), make_snapshot(store, tag="b")
    store.publish("ACME", a.snapshot_id)
    assert store.current("ACME") == a
    reads: list[str] = []
    real = Store._read_pointer
    monkeypatch.setattr(Store, "_read_pointer", lambda self, c, n: reads.append(n) or real(self, c, n))
    assert store.current("ACME") is store.current("ACME")
    assert reads == []  # served again without reading
    store.publish("ACME", b.snapshot_id)  # the pointer is replaced: read again at the next call
    assert store.current("ACME") == b
    assert store.rollback("ACME") == a.snapshot_id
    assert store.current("ACME") == a
    assert len(reads) >= 2
    other = tmp_path / "other-store"
    shutil.copytree(store.root, other)
    assert Store(other).current("ACME").path == other / "ACME" / "snapshots" / a.snapshot_id  # not the first store's
    (a.path / "manifest.json").write_text("{", encoding="utf-8")  # damaged in place: read again and refused
    with pytest.raises(StoreError, match="está dañado"):
        store.current("ACME")
    shutil.rmtree(a.path)
    with pytest.raises(StoreError, match="no existe o está incompleta"):
        store.current("ACME")
    with pytest.raises(StoreError, match="Código de empresa no válido"):
        store.current("../ACME")


def test_rollback_skips_snapshots_deleted_by_hand(store: Store) -> None:
    a, b, c = (make_snapshot(store, tag=t) for t in "abc")
    for snap in (a, b, c):
        store.publish("ACME", snap.snapshot_id)
    shutil.rmtree(b.path)
    assert store.rollback("ACME") == a.snapshot_id
    assert store.history("ACME") == [a.snapshot_id]


def test_publish_refuses_unknown_snapshots(store: Store) -> None:
    a = make_snapshot(store, tag="a")
    store.publish("ACME", a.snapshot_id)
    with pytest.raises(StoreError, match="no existe o está incompleta"):
        store.publish("ACME", "20200101T000000000000Z-00000000")
    with pytest.raises(StoreError, match="Identificador de carga no válido"):
        store.stage("ACME", "latest")
    assert store.current("ACME") == a


def test_find_source_hash_looks_at_current_and_pending(store: Store) -> None:
    a, b, c = (make_snapshot(store, tag=t) for t in "abc")
    store.publish("ACME", a.snapshot_id)
    store.stage("ACME", b.snapshot_id)
    assert store.find_source_hash("ACME", hash_of("a")) == a
    assert store.find_source_hash("ACME", hash_of("b").upper()) == b
    assert store.find_source_hash("ACME", hash_of("c")) is None  # committed but neither current nor pending
    assert store.find_source_hash("BETA", hash_of("a")) is None
    assert c.snapshot_id in [s.snapshot_id for s in store.snapshots("ACME")]


def test_pointer_to_a_deleted_snapshot_is_a_store_error_and_a_publish_repairs_it(store: Store) -> None:
    a = make_snapshot(store, tag="a")
    store.publish("ACME", a.snapshot_id)
    shutil.rmtree(a.path)
    with pytest.raises(StoreError, match=f"La carga {a.snapshot_id} de la empresa ACME no existe o está incompleta"):
        store.current("ACME")
    assert store.find_source_hash("ACME", hash_of("a")) is None
    b = make_snapshot(store, tag="b")
    store.publish("ACME", b.snapshot_id)
    assert store.current("ACME") == b


def test_damaged_pointer_is_a_store_error_and_a_publish_repairs_it(store: Store) -> None:
    a = make_snapshot(store, tag="a")
    store.publish("ACME", a.snapshot_id)
    (store.root / "ACME" / "CURRENT").write_text("{not json")
    with pytest.raises(StoreError, match="El puntero CURRENT de la empresa ACME está dañado"):
        store.current("ACME")
    (store.root / "ACME" / "CURRENT").write_text(json.dumps({"snapshot_id": "../../etc"}))
    with pytest.raises(StoreError, match="está dañado"):
        store.current("ACME")
    store.publish("ACME", a.snapshot_id)
    assert store.current("ACME") == a
    assert store.history("ACME") == [a.snapshot_id]


def test_snapshot_copied_from_another_company_is_refused(store: Store) -> None:
    a = make_snapshot(store, company="ACME")
    make_snapshot(store, company="BETA", tag="b")
    shutil.copytree(a.path, store.root / "BETA" / "snapshots" / a.snapshot_id)
    with pytest.raises(StoreError, match="no corresponde a la empresa BETA"):
        store.snapshot("BETA", a.snapshot_id)
    with pytest.raises(StoreError):
        store.publish("BETA", a.snapshot_id)


# --- retention ------------------------------------------------------------------------------------------------------


def test_cleanup_keeps_current_pending_recent_history_and_newest(tmp_path: Path) -> None:
    store = Store(tmp_path / "stores", keep=2)
    s1, s2, s3, s4, s5, s6 = (make_snapshot(store, tag=f"s{i}") for i in range(1, 7))
    for snap in (s1, s2, s3):
        store.publish("ACME", snap.snapshot_id)
    store.stage("ACME", s4.snapshot_id)
    company = store.root / "ACME"
    leftover = company / "snapshots" / ".tmp-20000101T000000000000Z-deadbeef"
    leftover.mkdir()
    (leftover / "journal.parquet").write_bytes(b"half")
    (company / "CURRENT.tmp").write_text("{")
    (company / "PENDING.tmp").write_text("{")

    removed = store.cleanup("ACME")

    # kept: the newest two (s6, s5), PENDING (s4), CURRENT and history[:2] (s3, s2); s1 goes
    assert removed == [leftover.name, s1.snapshot_id]
    kept = [x.snapshot_id for x in (s6, s5, s4, s3, s2)]
    assert [s.snapshot_id for s in store.snapshots("ACME")] == kept
    assert sorted(p.name for p in (company / "snapshots").iterdir()) == sorted(kept)
    assert not (company / "CURRENT.tmp").exists() and not (company / "PENDING.tmp").exists()
    assert store.current("ACME") == s3 and store.pending("ACME") == s4
    assert store.cleanup("ACME") == []

    assert store.rollback("ACME") == s2.snapshot_id
    with pytest.raises(StoreError, match="No hay ninguna carga anterior"):
        store.rollback("ACME")  # s1 was removed by retention
    assert store.cleanup("ACME") == [s3.snapshot_id]  # rolled back from, not among the newest two: removable
    store.discard_pending("ACME")
    assert store.cleanup("ACME") == [s4.snapshot_id]
    assert [s.snapshot_id for s in store.snapshots("ACME")] == [x.snapshot_id for x in (s6, s5, s2)]
    assert store.current("ACME") == s2


def test_cleanup_spares_a_writer_alive_in_this_process(store: Store) -> None:
    writer = store.new_snapshot("ACME", hash_of("x"))
    pq.write_table(pa.table({"n": [1, 2]}), writer.path / "journal.parquet")
    assert store.cleanup("ACME") == []
    assert writer.path.is_dir()
    assert writer.commit({}).rows == {"journal.parquet": 2}


def test_keep_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="al menos 1"):
        Store(tmp_path, keep=0)


# --- company codes, ids and containment -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["../x", "a/b", "..", ".hidden", "", "a\x00b", "A" * 40, "A" * 33, "abc\n", " ACME"])
def test_bad_company_codes_are_refused(tmp_path: Path, code: str) -> None:
    store = Store(tmp_path / "stores")
    for call in (store.company_dir, store.current, store.pending, store.history, store.snapshots, store.cleanup):
        with pytest.raises(StoreError, match="Código de empresa no válido"):
            call(code)
    with pytest.raises(StoreError, match="Código de empresa no válido"):
        store.new_snapshot(code, hash_of("x"))
    with pytest.raises(StoreError, match="Código de empresa no válido"), store.lock(code):
        pass
    assert list(tmp_path.iterdir()) == []  # nothing created anywhere


def test_longest_valid_code_is_accepted(store: Store) -> None:
    assert store.company_dir("A" * 32) == store.root.resolve() / ("A" * 32)


def test_symlinks_out_of_the_store_or_to_another_company_are_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "stores")
    make_snapshot(store, company="ACME")
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.root / "EVIL").symlink_to(outside)
    (store.root / "ALIAS").symlink_to(store.root / "ACME")
    for code in ("EVIL", "ALIAS"):
        with pytest.raises(StoreError, match="sale del almacén"):
            store.company_dir(code)
        with pytest.raises(StoreError, match="sale del almacén"):
            store.current(code)
        with pytest.raises(StoreError, match="sale del almacén"):
            store.new_snapshot(code, hash_of("x"))
    assert list(outside.iterdir()) == []
    assert store.companies() == ["ACME"]


def test_symlinked_snapshots_folder_or_snapshot_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "stores")
    a = make_snapshot(store, company="ACME")
    beta = store.root / "BETA"
    beta.mkdir()
    (beta / "snapshots").symlink_to(store.root / "ACME" / "snapshots")
    with pytest.raises(StoreError, match="sale del almacén"):
        store.snapshot("BETA", a.snapshot_id)
    gamma_snaps = store.root / "GAMMA" / "snapshots"
    gamma_snaps.mkdir(parents=True)
    (gamma_snaps / a.snapshot_id).symlink_to(a.path)
    (store.root / "GAMMA" / "CURRENT").write_text(json.dumps({"snapshot_id": a.snapshot_id}))
    with pytest.raises(StoreError, match="sale del almacén"):
        store.current("GAMMA")


@pytest.mark.parametrize(
    "bad_id",
    [
        "../CURRENT",
        "latest",
        "",
        "20261128T101530123456Z-1a2b3c4",
        "20261128T101530123456Z-1A2B3C4D",
        "20261128T101530123456Z-1a2b3c4d/..",
        "20261128T101530123456Z-1a2b3c4d\n",
        ".tmp-20261128T101530123456Z-1a2b3c4d",
    ],
)
def test_bad_snapshot_ids_are_refused(store: Store, bad_id: str) -> None:
    make_snapshot(store)
    with pytest.raises(StoreError, match="Identificador de carga no válido"):
        store.snapshot("ACME", bad_id)
    with pytest.raises(StoreError, match="Identificador de carga no válido"):
        store.publish("ACME", bad_id)


def test_tmp_snapshots_are_never_listed_or_readable(store: Store) -> None:
    writer = store.new_snapshot("ACME", hash_of("x"))
    pq.write_table(pa.table({"n": [1]}), writer.path / "journal.parquet")
    assert store.snapshots("ACME") == []
    with pytest.raises(StoreError, match="no existe o está incompleta"):
        store.snapshot("ACME", writer.snapshot_id)
    writer.abort()


def test_companies_lists_only_real_company_folders(tmp_path: Path) -> None:
    store = Store(tmp_path / "stores")
    assert store.companies() == []
    make_snapshot(store, company="BETA")
    make_snapshot(store, company="ACME")
    (store.root / "README").write_text("x")
    (store.root / ".hidden").mkdir()
    (store.root / "EVIL").symlink_to(tmp_path)
    assert store.companies() == ["ACME", "BETA"]


# --- the lock -------------------------------------------------------------------------------------------------------


def test_lock_held_by_another_process_refuses_then_frees(store: Store) -> None:
    make_snapshot(store)
    holder = lock_process(store.root, "ACME", "stdin")
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLocked, match=r"^Ya hay una carga en curso para la empresa ACME$"), store.lock("ACME"):
            pass
        with pytest.raises(StoreLocked):
            store.new_snapshot("ACME", hash_of("x"))
        with pytest.raises(StoreLocked):
            store.rollback("ACME")
        with pytest.raises(StoreLocked):
            store.cleanup("ACME")
        started = time.monotonic()
        with pytest.raises(StoreLocked), store.lock("ACME", timeout=0.3):
            pass
        assert 0.3 <= time.monotonic() - started < 3
        assert [p.name for p in (store.root / "ACME" / "snapshots").iterdir()] == [
            s.snapshot_id for s in store.snapshots("ACME")
        ]
        with store.lock("BETA"):  # other companies are not blocked
            pass
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
    assert holder.stdout.readline().strip() == "released"
    holder.wait(timeout=10)
    with store.lock("ACME"):
        assert try_lock_elsewhere(store.root, "ACME") == "busy Ya hay una carga en curso para la empresa ACME"
    assert try_lock_elsewhere(store.root, "ACME") == "free"


def test_lock_with_timeout_waits_for_the_other_process(store: Store) -> None:
    holder = lock_process(store.root, "ACME", "0.6")
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with store.lock("ACME", timeout=15):
        waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert 0.2 < waited < 10


def test_lock_is_reentrant_in_a_thread_and_exclusive_across_threads(store: Store) -> None:
    a, b = make_snapshot(store, tag="a"), make_snapshot(store, tag="b")
    with store.lock("ACME"):
        store.publish("ACME", a.snapshot_id)  # no deadlock inside the loader's lock
        with store.new_snapshot("ACME", hash_of("c")) as writer:
            pq.write_table(pa.table({"n": [1]}), writer.path / "journal.parquet")
            c = writer.commit({})
        store.stage("ACME", b.snapshot_id)
        store.cleanup("ACME")
        assert not lock_free_in_other_thread(store, "ACME")
        assert try_lock_elsewhere(store.root, "ACME").startswith("busy")
    assert lock_free_in_other_thread(store, "ACME")
    assert store.current("ACME") == a and store.pending("ACME") == b
    assert c in store.snapshots("ACME")


def _child_tries_lock(root: str) -> None:
    try:
        with Store(Path(root)).lock("ACME"):
            os._exit(0)
    except StoreLocked:
        os._exit(3)


def test_a_forked_child_does_not_inherit_the_lock(store: Store) -> None:
    context = multiprocessing.get_context("fork")
    with store.lock("ACME"):
        child = context.Process(target=_child_tries_lock, args=(str(store.root),))
        child.start()
        child.join(timeout=30)
        assert child.exitcode == 3
        assert try_lock_elsewhere(store.root, "ACME").startswith("busy")  # the child closing its copy kept it
    assert try_lock_elsewhere(store.root, "ACME") == "free"


# --- readers --------------------------------------------------------------------------------------------------------


def test_reader_threads_see_complete_snapshots_while_publishing(store: Store) -> None:
    first = make_snapshot(store, tag="t0", rows=(1, 1))
    store.publish("ACME", first.snapshot_id)
    errors: list[str] = []
    stop = threading.Event()
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            try:
                snap = Store(store.root).current("ACME")
                assert snap is not None
                tables = {name: pq.read_table(snap.file(name)) for name in snap.rows}
                assert {n: t.num_rows for n, t in tables.items()} == snap.rows
                n = snap.rows["journal.parquet"]
                assert snap.rows["accounts.parquet"] == n  # both files of one load
                reads[0] += 1
            except Exception as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for i in range(2, 22):
        snap = make_snapshot(store, tag=f"t{i}", rows=(i, i))
        store.publish("ACME", snap.snapshot_id)
        store.cleanup("ACME")
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert reads[0] > 20
    assert store.current("ACME").rows == {"journal.parquet": 21, "accounts.parquet": 21}


def test_crash_point_is_a_no_op_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTAL_CRASH_AT", raising=False)
    assert crash_point("after_pointer_replace") is None
    monkeypatch.setenv("PORTAL_CRASH_AT", "another_point")
    assert crash_point("after_pointer_replace") is None


def test_snapshot_created_at_is_utc_now(store: Store) -> None:
    before = datetime.now(UTC)
    snap = make_snapshot(store)
    after = datetime.now(UTC)
    assert before <= datetime.fromisoformat(snap.created_at) <= after
