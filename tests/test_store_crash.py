"""Kill -9 tests of the snapshot store: a real writer process dies at every crash point and at random moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from etl.store import Snapshot, Store, StoreError

REPO = Path(__file__).resolve().parents[1]
WRITER = REPO / "tests" / "crash_writer.py"
COMPANY = "ACME"
STORE_POINTS = (
    "after_tmp_created",
    "mid_parquet_write",
    "after_files_before_manifest",
    "after_manifest_before_rename",
    "after_rename_before_pointer",
    "after_pointer_tmp_before_replace",
    "after_pointer_replace",
)
RANDOM_KILLS = 10
CRASH_DELAY = "0.03"  # seconds at every crash point, so random kills spread over all phases


def writer_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_CRASH", "CRASH_WRITER"))}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def start_writer(root: Path, tag: str, *, stage: bool = False, **env: str) -> subprocess.Popen[str]:
    command = [sys.executable, str(WRITER), str(root), COMPANY, tag, "--files", "4"]
    if stage:
        command.append("--stage")
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=writer_env(**env), cwd=REPO
    )


def run_writer(root: Path, tag: str, *, stage: bool = False, **env: str) -> tuple[int, list[str], str]:
    proc = start_writer(root, tag, stage=stage, **env)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out.splitlines(), err


def new_id(lines: list[str]) -> str | None:
    """The snapshot id the writer announced, if it got that far."""
    ids = [line.split()[1] for line in lines if line.startswith("id ")]
    return ids[0] if ids else None


def check_complete(snapshot: Snapshot) -> None:
    """Every file matches the manifest (sha256, bytes, rows) and belongs to the same load (tag)."""
    snapshot.verify()
    tag = snapshot.manifest["tag"]
    for name, rows in snapshot.rows.items():
        table = pq.read_table(snapshot.file(name))
        assert table.num_rows == rows, (snapshot.snapshot_id, name)
        assert set(table.column("tag").to_pylist()) == {tag}, (snapshot.snapshot_id, name)


def leftovers(root: Path) -> list[str]:
    company = root / COMPANY
    found = [p.name for p in (company / "snapshots").iterdir() if p.name.startswith(".")]
    found += [p.name for p in company.iterdir() if p.name.endswith(".tmp")]
    return sorted(found)


class Reader(threading.Thread):
    """Polls current() and reads the whole snapshot, recording any error or incomplete read."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.reads = 0
        self.seen: set[str] = set()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                snapshot = Store(self.root).current(COMPANY)
                assert snapshot is not None, "CURRENT desapareció"
                check_complete(snapshot)
                self.reads += 1
                self.seen.add(snapshot.snapshot_id)
            except (AssertionError, StoreError, OSError) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.002)  # leave some CPU to the writer (two cores)


def expect_crash_state(store: Store, root: Path, point: str, announced: str | None, previous: str) -> None:
    """The store shows exactly the leftovers of a crash at ``point``, and CURRENT is intact."""
    current = store.current(COMPANY)
    assert current is not None
    check_complete(current)
    expected = announced if point == "after_pointer_replace" else previous
    assert current.snapshot_id == expected, point
    committed = {s.snapshot_id for s in store.snapshots(COMPANY)}
    tmp = root / COMPANY / "snapshots" / f".tmp-{announced}"
    if point == "after_tmp_created":
        assert announced is None  # died inside new_snapshot()
        assert any(name.startswith(".tmp-") for name in leftovers(root))
    elif point in ("mid_parquet_write", "after_files_before_manifest"):
        assert tmp.is_dir() and not (tmp / "manifest.json").exists()
        assert announced not in committed
    elif point == "after_manifest_before_rename":
        assert (tmp / "manifest.json").is_file()
        assert announced not in committed
    elif point == "after_rename_before_pointer":
        assert announced in committed and not tmp.exists()
    elif point == "after_pointer_tmp_before_replace":
        assert announced in committed
        assert (root / COMPANY / "CURRENT.tmp").is_file()


def recover(store: Store, root: Path, tag: str, *, stage: bool = False) -> str:
    """A normal run after a crash: cleans the leftovers and publishes (or stages) the new snapshot."""
    code, lines, err = run_writer(root, tag, stage=stage)
    assert code == 0, err
    published = new_id(lines)
    assert published is not None and "done" in lines
    assert leftovers(root) == []
    if stage:
        pending = store.pending(COMPANY)
        assert pending is not None and pending.snapshot_id == published
        assert store.publish_pending(COMPANY) == published
    current = store.current(COMPANY)
    assert current is not None and current.snapshot_id == published
    check_complete(current)
    return published


def crash_phase(root: Path, announced: str | None, current: Snapshot, lines: list[str]) -> str:
    """Which phase of the load a random kill interrupted, judged from what it left on disk."""
    if announced is None:
        return "before_id"
    tmp = root / COMPANY / "snapshots" / f".tmp-{announced}"
    if tmp.is_dir():
        return "writing_manifest" if (tmp / "manifest.json").exists() else "writing_files"
    if current.snapshot_id != announced:
        return "pointer_tmp" if (root / COMPANY / "CURRENT.tmp").exists() else "committed"
    return "published_lingering" if "done" in lines else "published"


def timed_writer_run(root: Path, tag: str) -> tuple[str, float]:
    """A normal run with the crash-point delay on; returns its id and seconds from 'ready' to 'done'."""
    proc = start_writer(root, tag, PORTAL_CRASH_DELAY=CRASH_DELAY)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    ready = time.monotonic()
    lines = []
    for line in proc.stdout:
        lines.append(line.strip())
        if lines[-1] == "done":
            break
    duration = time.monotonic() - ready
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    announced = new_id(lines)
    assert announced is not None and "done" in lines
    return announced, duration


@pytest.mark.slow
def test_kill_at_every_crash_point_and_at_random_moments(tmp_path: Path) -> None:
    root = tmp_path / "stores"
    store = Store(root)
    previous, duration = timed_writer_run(root, "r0")
    reader = Reader(root)
    reader.start()
    started = time.monotonic()
    phases: list[str] = []
    try:
        runs = 0
        for point in STORE_POINTS:
            runs += 1
            code, lines, _ = run_writer(root, f"p{runs}", PORTAL_CRASH_AT=point)
            assert code == -signal.SIGKILL, point
            expect_crash_state(store, root, point, new_id(lines), previous)
            previous = recover(store, root, f"p{runs}-ok")

        for point in ("after_pointer_tmp_before_replace", "after_pointer_replace"):
            runs += 1
            code, lines, _ = run_writer(root, f"s{runs}", stage=True, PORTAL_CRASH_AT=point)
            assert code == -signal.SIGKILL, point
            current = store.current(COMPANY)
            assert current is not None and current.snapshot_id == previous, point  # staging never touches CURRENT
            check_complete(current)
            if point == "after_pointer_replace":
                pending = store.pending(COMPANY)
                assert pending is not None and pending.snapshot_id == new_id(lines)
            previous = recover(store, root, f"s{runs}-ok", stage=True)

        rng = random.Random(41)
        window = duration / RANDOM_KILLS  # one random moment in each tenth of a run (stratified)
        for kill in range(RANDOM_KILLS):
            delay = window * (kill + rng.random())
            proc = start_writer(root, f"k{kill}", PORTAL_CRASH_DELAY=CRASH_DELAY, CRASH_WRITER_LINGER="1")
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate(timeout=30)
            assert proc.returncode == -signal.SIGKILL
            lines = out.splitlines()
            announced = new_id(lines)
            current = store.current(COMPANY)
            assert current is not None
            check_complete(current)
            assert current.snapshot_id in {previous, announced}, (kill, delay, lines)
            if "done" in lines:
                assert current.snapshot_id == announced, (kill, delay)
            phases.append(crash_phase(root, announced, current, lines))
            previous = recover(store, root, f"k{kill}-ok")
    finally:
        reader.stop.set()
        reader.join(timeout=10)
    elapsed = time.monotonic() - started
    print(f"ready->done {duration:.3f} s; random kills hit {phases}; {reader.reads} reads in {elapsed:.1f} s")
    assert reader.errors == []
    assert reader.reads > 20
    assert len(reader.seen) > 5  # it really read across many publishes
    # the random kills landed in different phases, and not all after the load had finished
    assert len(set(phases)) >= 2
    assert any(phase not in ("published", "published_lingering") for phase in phases)
    before = [s.snapshot_id for s in store.snapshots(COMPANY)]
    kept = set(before[:3]) | (set(store.history(COMPANY)[:3]) & set(before))  # crash_writer.KEEP == 3
    Store(root, keep=3).cleanup(COMPANY)
    assert {s.snapshot_id for s in store.snapshots(COMPANY)} == kept
