"""Kill -9 of a real ``python -m etl load`` at named points and at random moments: the published data survives."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from etl import service
from etl.store import Store
from portal.settings import load_settings
from tests.test_load import ACME_V1, ACME_V2, write_company

ROOT = Path(__file__).resolve().parents[1]
CRASH_POINTS = [
    "after_read",
    "mid_parquet_write",
    "after_tmp_created",
    "after_files_before_manifest",
    "after_manifest_before_rename",
    "after_rename_before_pointer",
    "after_pointer_tmp_before_replace",
]


def run_load(data_dir: Path, crash_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir)}
    env.pop("PORTAL_CRASH_AT", None)
    if crash_at:
        env["PORTAL_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "etl", "load", "--company", "acme"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def assert_intact(store: Store, expected_rows: int) -> str:
    """The published snapshot is whole: its files match the manifest and the journal has the expected lines."""
    snapshot = store.current("acme")
    assert snapshot is not None
    for name, meta in snapshot.manifest["files"].items():
        import hashlib

        assert hashlib.sha256((snapshot.path / name).read_bytes()).hexdigest() == meta["sha256"]
    lines = duckdb.connect().execute(f"SELECT count(*) FROM '{snapshot.file('journal.parquet')}'").fetchone()[0]
    assert lines == expected_rows
    return snapshot.snapshot_id


def leftovers(company_dir: Path) -> list[str]:
    return [p.name for p in company_dir.rglob("*") if p.name.startswith(".tmp-") or p.name.endswith(".tmp")]


@pytest.mark.slow
def test_kill_at_every_point_keeps_the_published_snapshot(tmp_path):
    data = tmp_path / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources, "acme", ACME_V1)
    assert service.load_all(settings)[0].outcome == "published"
    store = Store(settings.stores)
    v1 = assert_intact(store, 5)

    write_company(settings.sources, "acme", ACME_V2)
    for point in CRASH_POINTS:
        proc = run_load(data, crash_at=point)
        assert proc.wait(timeout=120) == -signal.SIGKILL, point
        assert assert_intact(store, 5) == v1, point

    # The next normal load cleans up after the killed ones and publishes version 2.
    proc = run_load(data)
    assert proc.wait(timeout=120) == 0
    assert assert_intact(store, 8) != v1
    assert leftovers(store.company_dir("acme")) == []
    runs = service.recent_runs(settings, company="acme")
    assert runs[0]["outcome"] == "published"


@pytest.mark.slow
def test_kill_at_random_moments_never_exposes_a_partial_snapshot(tmp_path):
    data = tmp_path / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources, "acme", ACME_V1)
    service.load_all(settings)
    store = Store(settings.stores)
    v1 = assert_intact(store, 5)
    write_company(settings.sources, "acme", ACME_V2)

    # Time a whole load once, then kill loads at random moments within that span.
    started = time.perf_counter()
    probe_dir = tmp_path / "probe"
    probe = load_settings({"PORTAL_DATA_DIR": str(probe_dir)})
    write_company(probe.sources, "acme", ACME_V2)
    assert run_load(probe_dir).wait(timeout=120) == 0
    span = time.perf_counter() - started

    rng = random.Random(20261128)
    outcomes = set()
    for _ in range(8):
        proc = run_load(data)
        time.sleep(rng.uniform(0.05, span))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        current = assert_intact(store, 8 if store.current("acme").snapshot_id != v1 else 5)
        outcomes.add("v1" if current == v1 else "v2")
        if current != v1:
            break  # the load finished before the kill: nothing more to prove from this state
    proc = run_load(data)
    assert proc.wait(timeout=120) == 0
    assert assert_intact(store, 8) != v1
    assert leftovers(store.company_dir("acme")) == []
    assert "v1" in outcomes
